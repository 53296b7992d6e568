"""Tasks and their files survive a server restart; interrupted exports end FAILED."""

from __future__ import annotations

from pathlib import Path

import httpx

from export_widget.server.export_spec import ExportSpec
from export_widget.server.runner import start_local_server
from export_widget.server.tasks import INTERRUPTED, StreamName, TaskStatus

CATALOG_EXPORT = """mutation E($input: ExportDataRowsInCatalogInput!){
  exportDataRowsInCatalog(input: $input){taskId isStreamable}}"""
FROM_OFFSET = """query O($where: WhereUniqueIdInput, $streamType: TaskStreamType!,
  $offset: UInt64!){task(where: $where){exportFileFromOffset(streamType: $streamType,
  offset: $offset){offsets {start end} file}}}"""
TASKS = """query T($u: ID!, $t: ID!){user(where: {id: $u}){createdTasks(where: {id: $t}
  skip: 0 first: 100){id status failureReason}}}"""


def _post(base: str, key: str, query: str, variables: dict[str, object]) -> dict[str, object]:
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, object] = body["data"]
    return data


def test_a_restarted_server_serves_old_exports_and_fails_interrupted_ones(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with start_local_server(db_url=db_url, data_dir=tmp_path, api_key="k1") as first:
        out = _post(first.base_url, "k1", CATALOG_EXPORT, {"input": {
            "filters": {"searchQuery": {"query": []}}, "streamable": True}})
        done_id = out["exportDataRowsInCatalog"]["taskId"]  # type: ignore[index]
        first.engine.wait(done_id, timeout=60)
        header = first.engine.header(done_id, StreamName.RESULT)
        owner = first.parts.engine.tasks.get(done_id).created_by  # type: ignore[union-attr]
        # A task that was running when the server went down (the row a killed process
        # leaves behind):
        stuck = first.engine.tasks.create(
            ExportSpec("catalog", task_name="stuck", created_by=owner), project_limit=10,
            organization_limit=20)
        # Simulate a kill: the engine's own shutdown would already fail it cleanly.
        first.parts.engine.tasks.recover_interrupted = lambda: 0  # type: ignore[method-assign]
    with start_local_server(db_url=db_url, data_dir=tmp_path, api_key="k2") as second:
        again = second.engine.tasks.get(done_id)
        assert again is not None and again.status is TaskStatus.COMPLETE
        assert second.engine.header(done_id, StreamName.RESULT) == header
        info = _post(second.base_url, "k2", FROM_OFFSET, {
            "where": {"id": done_id}, "streamType": "RESULT", "offset": 0,
        })["task"]["exportFileFromOffset"]  # type: ignore[index]
        content = httpx.get(info["file"]).content
        assert header is not None and len(content) == header.size
        tasks = _post(second.base_url, "k2", TASKS, {"u": owner, "t": stuck.id})
        assert tasks["user"]["createdTasks"] == [  # type: ignore[index]
            {"id": stuck.id, "status": "FAILED", "failureReason": INTERRUPTED}]
