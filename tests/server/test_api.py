"""The HTTP surface: auth, GraphQL errors, task reads, signed chunk URLs, media."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from export_widget.server import store
from export_widget.server.api import byte_range
from export_widget.server.export_spec import ExportSpec
from export_widget.server.runner import LocalServer
from export_widget.server.signing import ChunkGrant, ChunkSigner, InvalidToken
from export_widget.server.tasks import StreamName, TaskStatus
from export_widget.server.workspace import Workspace

HEADER = """query H($where: WhereUniqueIdInput, $streamType: TaskStreamType!){task(where: $where){
  exportMetadataHeader(streamType: $streamType){totalSize totalLines}}}"""
FROM_OFFSET = """query O($where: WhereUniqueIdInput, $streamType: TaskStreamType!,
  $offset: UInt64!){task(where: $where){exportFileFromOffset(streamType: $streamType,
  offset: $offset){offsets {start end} lines {start end} file}}}"""
FROM_LINE = """query L($where: WhereUniqueIdInput, $streamType: TaskStreamType!,
  $line: UInt64!){task(where: $where){exportFileFromLine(streamType: $streamType,
  line: $line){offsets {start end} lines {start end} file}}}"""
CATALOG_EXPORT = """mutation E($input: ExportDataRowsInCatalogInput!){
  exportDataRowsInCatalog(input: $input){taskId isStreamable}}"""


def gql(server: LocalServer, query: str, variables: dict[str, Any] | None = None,
        *, key: str | None = None, path: str = "/graphql") -> httpx.Response:
    return httpx.post(
        server.base_url + path, json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {server.api_key if key is None else key}"},
        timeout=30,
    )


def data(response: httpx.Response) -> Any:
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


@pytest.fixture(scope="module")
def catalog_task(server: LocalServer) -> str:
    """A finished catalog export with every data row."""
    out = data(gql(server, CATALOG_EXPORT, {"input": {
        "taskName": "api test", "filters": {"searchQuery": {"scope": None, "query": []}},
        "params": {"includeDataRowDetails": True}, "streamable": True}}))
    task_id: str = out["exportDataRowsInCatalog"]["taskId"]
    assert out["exportDataRowsInCatalog"]["isStreamable"] is True
    task = server.engine.wait(task_id, timeout=60)
    assert task is not None and task.status is TaskStatus.COMPLETE
    return task_id


@pytest.mark.parametrize("path", ["/graphql", "/_gql"])
@pytest.mark.parametrize("auth", [None, "Bearer wrong-key", "Basic abc", "Bearer"])
def test_calls_without_the_api_key_get_401_authentication_error(
    server: LocalServer, path: str, auth: str | None
) -> None:
    headers = {} if auth is None else {"Authorization": auth}
    response = httpx.post(server.base_url + path, json={"query": "{organization{id}}"},
                          headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "AUTHENTICATION_ERROR"


def test_both_endpoints_answer_with_the_key(server: LocalServer) -> None:
    for path in ("/graphql", "/_gql"):
        assert data(gql(server, "{organization{id name}}", path=path))["organization"]["id"]


def test_an_unknown_field_is_a_validation_error(server: LocalServer) -> None:
    body = gql(server, "{organization{id shoeSize}}").json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "shoeSize" in body["errors"][0]["message"]


def test_a_syntax_error_is_a_parse_error(server: LocalServer) -> None:
    body = gql(server, "{organization{").json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_datetimes_use_the_sdk_format(server: LocalServer) -> None:
    created = data(gql(server, "{organization{createdAt}}"))["organization"]["createdAt"]
    time.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ")
    assert len(created) == len("2024-01-01T00:00:00.000Z")


def test_header_counts_every_line_of_the_stream(server: LocalServer, catalog_task: str) -> None:
    header = data(gql(server, HEADER, {"where": {"id": catalog_task},
                                       "streamType": "RESULT"}))["task"]["exportMetadataHeader"]
    rows = Workspace(server.parts.store).datasets(first=1000)
    assert int(header["totalLines"]) == sum(d["rowCount"] for d in rows)
    empty = data(gql(server, HEADER, {"where": {"id": catalog_task}, "streamType": "ERRORS"}))
    assert empty["task"]["exportMetadataHeader"] is None


@pytest.mark.parametrize("offset", ["0", 0, "17"])
def test_file_from_offset_accepts_strings_and_ints_and_starts_there(
    server: LocalServer, catalog_task: str, offset: str | int
) -> None:
    info = data(gql(server, FROM_OFFSET, {"where": {"id": catalog_task}, "streamType": "RESULT",
                                          "offset": offset}))["task"]["exportFileFromOffset"]
    start, end = int(info["offsets"]["start"]), int(info["offsets"]["end"])
    assert start == int(offset)
    response = httpx.get(info["file"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert len(response.content) == end - start + 1
    assert response.content.endswith(b"\n")


def test_file_from_line_starts_at_that_line(server: LocalServer, catalog_task: str) -> None:
    where = {"where": {"id": catalog_task}, "streamType": "RESULT"}
    whole = data(gql(server, FROM_OFFSET, {**where, "offset": 0}))["task"]["exportFileFromOffset"]
    everything = httpx.get(whole["file"]).content.splitlines(keepends=True)
    info = data(gql(server, FROM_LINE, {**where, "line": 3}))["task"]["exportFileFromLine"]
    assert int(info["lines"]["start"]) == 3
    assert int(info["offsets"]["start"]) == sum(len(x) for x in everything[:3])
    assert httpx.get(info["file"]).content.splitlines(keepends=True)[0] == everything[3]


def test_positions_past_the_end_answer_null(server: LocalServer, catalog_task: str) -> None:
    where = {"where": {"id": catalog_task}, "streamType": "RESULT"}
    size = int(data(gql(server, HEADER, where))["task"]["exportMetadataHeader"]["totalSize"])
    assert data(gql(server, FROM_OFFSET, {**where, "offset": str(size)}))["task"][
        "exportFileFromOffset"] is None
    assert data(gql(server, FROM_LINE, {**where, "line": 10**6}))["task"][
        "exportFileFromLine"] is None


@pytest.mark.parametrize("offset", ["-1", "twelve", -5, 2**64])
def test_uint64_refuses_negative_and_non_numbers(
    server: LocalServer, catalog_task: str, offset: Any
) -> None:
    body = gql(server, FROM_OFFSET, {"where": {"id": catalog_task}, "streamType": "RESULT",
                                     "offset": offset}).json()
    assert body["errors"] and "offset" in body["errors"][0]["message"]


def test_forged_and_tampered_chunk_urls_are_refused(server: LocalServer,
                                                    catalog_task: str) -> None:
    other = ChunkSigner(b"not the server's secret")
    forged = other.sign(ChunkGrant(catalog_task, StreamName.RESULT, 0, 10))
    assert httpx.get(f"{server.base_url}/files/{forged}").status_code == 403
    info = data(gql(server, FROM_OFFSET, {"where": {"id": catalog_task}, "streamType": "RESULT",
                                          "offset": 0}))["task"]["exportFileFromOffset"]
    token = info["file"].rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert httpx.get(f"{server.base_url}/files/{tampered}").status_code == 403


def test_an_expired_chunk_url_is_refused(server: LocalServer, catalog_task: str) -> None:
    class HourOld(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3601

    secret = (server.data_dir / "signing.key").read_bytes()
    old = URLSafeTimedSerializer(secret, salt="export-widget.chunk", signer=HourOld)
    token = old.dumps([catalog_task, "RESULT", 0, 10])
    response = httpx.get(f"{server.base_url}/files/{token}")
    assert response.status_code == 403 and "expired" in response.text


def test_a_signed_token_cannot_name_another_path(server: LocalServer) -> None:
    secret = (server.data_dir / "signing.key").read_bytes()
    raw = URLSafeTimedSerializer(secret, salt="export-widget.chunk")
    for payload in (["../../etc/passwd", "RESULT", 0, 10],
                    ["c" + "a" * 24, "../store.sqlite", 0, 10]):
        assert httpx.get(f"{server.base_url}/files/{raw.dumps(payload)}").status_code == 403


def test_signer_round_trips_and_rejects_garbage() -> None:
    signer = ChunkSigner(b"k" * 32)
    grant = ChunkGrant("c" + "b" * 24, StreamName.ERRORS, 5, 99)
    assert signer.verify(signer.sign(grant)) == grant
    with pytest.raises(InvalidToken):
        signer.verify("garbage")
    with pytest.raises(ValueError, match="max_age"):
        ChunkSigner(b"k", max_age=0)


def test_a_failed_task_reports_failed_with_null_errors_and_its_reason(
    server: LocalServer,
) -> None:
    owner = data(gql(server, "{user{id}}"))["user"]["id"]
    record = server.engine.tasks.create(
        ExportSpec("catalog", task_name="doomed", created_by=owner), project_limit=10,
        organization_limit=20)
    server.engine.tasks.finish(record.id, TaskStatus.FAILED, "RuntimeError: disk full")
    query = """query T($u: ID!, $t: ID!){user(where: {id: $u}){createdTasks(where: {id: $t}
      skip: 0 first: 100){id status errors result failureReason metadata type}}}"""
    tasks = data(gql(server, query, {"u": owner, "t": record.id}))["user"]["createdTasks"]
    assert tasks == [{"id": record.id, "status": "FAILED", "errors": None, "result": None,
                      "failureReason": "RuntimeError: disk full", "type": "export-data-rows",
                      "metadata": {"exportScope": "catalog", "targetId": None,
                                   "errorMessage": "RuntimeError: disk full"}}]


def test_an_export_of_an_unknown_project_is_refused_naming_the_field(
    server: LocalServer,
) -> None:
    mutation = """mutation P($input: ExportDataRowsInProjectInput!){
      exportDataRowsInProject(input: $input){taskId isStreamable}}"""
    body = gql(server, mutation, {"input": {"filters": {"projectId": "cnope", "searchQuery": {
        "scope": None, "query": []}}, "params": {}, "streamable": True}}).json()
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("filters.projectId: no project")


def test_more_than_2000_ids_are_refused(server: LocalServer) -> None:
    body = gql(server, CATALOG_EXPORT, {"input": {"filters": {"searchQuery": {"query": [
        {"ids": [f"c{i}" for i in range(2001)], "operator": "is", "type": "data_row_id"}]}},
        "streamable": True}}).json()
    assert "at most 2,000 items, got 2,001" in body["errors"][0]["message"]


def test_batches_page_by_cursor_on_the_experimental_endpoint(server: LocalServer) -> None:
    project = Workspace(server.parts.store).projects()[0]
    query = """query B($from: String, $first: PageSize, $p: ID!){project(where: {id: $p}){
      batches(after: $from, first: $first){nodes{id name} pageInfo{endCursor}}}}"""
    seen, cursor = [], None
    for _ in range(10):
        page = data(gql(server, query, {"from": cursor, "first": 1, "p": project["id"]},
                        path="/_gql"))["project"]["batches"]
        seen += [n["id"] for n in page["nodes"]]
        cursor = page["pageInfo"]["endCursor"]
        if cursor is None or not page["nodes"]:
            break
    expected = Workspace(server.parts.store).batches(project["id"], first=100)["nodes"]
    assert seen == [b["id"] for b in expected] and len(seen) > 1


def test_demo_media_is_served(server: LocalServer) -> None:
    with server.parts.store.connect() as conn:
        row_data = conn.execute(sa.select(store.data_rows.c.row_data).where(
            store.data_rows.c.row_data.like("/media/%")).limit(1)).scalar_one()
    response = httpx.get(server.base_url + row_data)
    assert response.status_code == 200 and response.content
    assert httpx.get(server.base_url + "/media/../../etc/passwd").status_code == 404
    # More digits than Python converts to an int (4,300): no such file, not a 500.
    assert httpx.get(f"{server.base_url}/media/text/{'9' * 4_301}.txt").status_code == 404


def test_operations_served_are_counted(server: LocalServer) -> None:
    gql(server, "query CountMe{organization{id}}")
    operations = server.parts.app.state.graphql.operations
    assert any(k.startswith("query CountMe") for k in operations)
    assert orjson.dumps(dict(operations))


def test_cancel_export_task_is_idempotent_on_a_finished_task(
    server: LocalServer, catalog_task: str
) -> None:
    cancel = "mutation C($t: ID!){cancelExportTask(taskId: $t){id status}}"
    out = data(gql(server, cancel, {"t": catalog_task}))["cancelExportTask"]
    assert out == {"id": catalog_task, "status": "COMPLETE"}
    body = gql(server, cancel, {"t": "cnope"}).json()
    assert body["errors"][0]["message"] == "taskId: no task with id 'cnope'"


def test_large_ranges_are_streamed_with_the_exact_length(
    server: LocalServer, catalog_task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from export_widget.server import api

    monkeypatch.setattr(api, "STREAM_ABOVE", 10)
    info = data(gql(server, FROM_OFFSET, {"where": {"id": catalog_task}, "streamType": "RESULT",
                                          "offset": 0}))["task"]["exportFileFromOffset"]
    response = httpx.get(info["file"])
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    assert len(response.content) == int(info["offsets"]["end"]) + 1
    monkeypatch.setattr(api, "STREAM_ABOVE", 8 * 1024 * 1024)
    assert httpx.get(info["file"]).content == response.content


def test_a_chunk_download_resumes_with_a_range_request(server: LocalServer,
                                                       catalog_task: str) -> None:
    info = data(gql(server, FROM_OFFSET, {"where": {"id": catalog_task}, "streamType": "RESULT",
                                          "offset": 0}))["task"]["exportFileFromOffset"]
    whole = httpx.get(info["file"]).content
    size = len(whole)
    rest = httpx.get(info["file"], headers={"Range": "bytes=10-"})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes 10-{size - 1}/{size}"
    assert rest.content == whole[10:]
    middle = httpx.get(info["file"], headers={"Range": "bytes=5-9"})
    assert (middle.status_code, middle.content) == (206, whole[5:10])
    assert httpx.get(info["file"], headers={"Range": "bytes=-4"}).content == whole[-4:]
    past = httpx.get(info["file"], headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize(("header", "expected"), [
    (None, (0, 99)), ("bytes=0-", (0, 99)), ("bytes=10-19", (10, 19)),
    ("bytes=90-200", (90, 99)), ("bytes=-5", (95, 99)), ("bytes=100-", None),
    ("bytes=9-3", None), ("bytes=1-2,5-6", (0, 99)), ("items=1-2", (0, 99)),
])
def test_byte_range_parsing(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize("streamed", [False, True], ids=["one read", "streamed in blocks"])
def test_both_download_responses_serve_ranges_and_refuse_tampered_tokens(
    server: LocalServer, catalog_task: str, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    from export_widget.server import api

    info = data(gql(server, FROM_OFFSET, {"where": {"id": catalog_task}, "streamType": "RESULT",
                                          "offset": 0}))["task"]["exportFileFromOffset"]
    whole = httpx.get(info["file"]).content
    size = len(whole)
    if streamed:  # every range of this chunk goes out in several blocks
        monkeypatch.setattr(api, "STREAM_ABOVE", 10)
        monkeypatch.setattr(api, "STREAM_BLOCK", 7)
    full = httpx.get(info["file"])
    assert (full.status_code, full.content) == (200, whole)
    assert full.headers["content-length"] == str(size)
    assert full.headers["accept-ranges"] == "bytes"
    tail = httpx.get(info["file"], headers={"Range": "bytes=3-"})
    assert (tail.status_code, tail.content) == (206, whole[3:])
    assert tail.headers["content-range"] == f"bytes 3-{size - 1}/{size}"
    assert tail.headers["content-length"] == str(size - 3)
    middle = httpx.get(info["file"], headers={"Range": "bytes=4-40"})
    assert (middle.status_code, middle.content) == (206, whole[4:41])
    past = httpx.get(info["file"], headers={"Range": f"bytes={size + 5}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"
    token = info["file"].rsplit("/", 1)[1]
    tampered = token[:-3] + ("xyz" if token[-3:] != "xyz" else "abc")
    refused = httpx.get(f"{server.base_url}/files/{tampered}", headers={"Range": "bytes=0-"})
    assert refused.status_code == 403 and whole[:20] not in refused.content


def test_a_repeated_operation_still_checks_its_variables_and_bad_ones_stay_refused(
    server: LocalServer, catalog_task: str
) -> None:
    # The server keeps parsed operations by their text: the second run of the same text
    # must answer from its own variables, and an invalid text must keep failing.
    for offset in (0, "12"):
        got = data(gql(server, FROM_OFFSET, {"where": {"id": catalog_task},
                                             "streamType": "RESULT", "offset": offset}))
        assert got["task"]["exportFileFromOffset"]["offsets"]["start"] == str(offset)
    bad = gql(server, FROM_OFFSET, {"where": {"id": catalog_task}, "streamType": "RESULT",
                                    "offset": -1}).json()
    assert bad["errors"] and "offset" in bad["errors"][0]["message"]
    for _ in range(2):
        body = gql(server, "{ task(where: {id: \"x\"}) { nope } }").json()
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
