"""Row processes: an export built in other processes writes what the server process would,
stops when asked, and leaves no process behind."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from sqlalchemy import Engine, select

from export_widget.server import store as tables
from export_widget.server.demo.seed import LARGE_PROJECT, seed_demo
from export_widget.server.engine import ExportEngine, stream_paths
from export_widget.server.export_lines import encode, encode_rows
from export_widget.server.export_query import prepare_export
from export_widget.server.export_spec import ExportSpec, PreparedExport
from export_widget.server.row_processes import (
    BatchJob,
    RowProcessError,
    RowProcesses,
    RowShape,
    reaches_store,
)
from export_widget.server.rows.build import Options
from export_widget.server.runner import StoreRowSource
from export_widget.server.store import open_store
from export_widget.server.tasks import StreamName, TaskStatus, TaskStore

BATCH = 37  # rows per batch: many batches, the last one short
ALL_PARAMS = {
    "includeAttachments": True, "includeEmbeddings": True, "includeMetadata": True,
    "includeDataRowDetails": True, "includeProjectDetails": True, "includeLabelDetails": True,
    "includePerformanceDetails": True, "includeInterpolatedFrames": True,
}
UNKNOWN_IDS = ["cnosuchrow000000000000000a", "cnosuchrow000000000000000b"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite file store (row processes open it too) with 600 large-project rows."""
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('rows') / 'store.sqlite'}")
    seed_demo(engine, rows=600)
    yield engine
    engine.dispose()


def _large_project(store: Engine) -> str:
    projects = tables.projects
    with store.connect() as conn:
        found = conn.execute(select(projects.c.id).where(projects.c.name == LARGE_PROJECT))
        return str(found.scalar_one())


def _model_run(store: Engine) -> str:
    with store.connect() as conn:
        return str(conn.execute(select(tables.model_runs.c.id)).scalars().first())


def _spec(kind: Any, target: str | None, query: list[Any] | None = None,
          params: dict[str, Any] | None = None) -> ExportSpec:
    return ExportSpec(kind, target, query or [], params or {}, "UTC", "http://127.0.0.1:9",
                      created_by="u1", organization_id="o1")


def _engine(store: Engine, data_dir: Path, processes: int, **kw: Any) -> ExportEngine:
    source = StoreRowSource(store, processes, batch_rows=BATCH)
    return ExportEngine(TaskStore(store), data_dir, source, **kw)


def _files(engine: ExportEngine, task_id: str) -> dict[str, bytes]:
    out = {}
    for stream in StreamName:
        for path in stream_paths(engine.task_dir(task_id), stream):
            out[path.name] = path.read_bytes()
    return out


def _row_processes(before: set[int]) -> list[psutil.Process]:
    return [child for child in psutil.Process().children()
            if child.pid not in before and "export_widget.server.row_process" in
            " ".join(child.cmdline())]


def test_row_processes_write_the_same_files_as_the_server_process(
    store: Engine, tmp_path: Path
) -> None:
    project = _large_project(store)
    specs = [
        # Unknown ids in a filter are error items, written before the rows.
        _spec("project", project, [{"type": "data_row_id", "operator": "is",
                                    "ids": UNKNOWN_IDS}], ALL_PARAMS),
        _spec("project", project, params=ALL_PARAMS),
        _spec("catalog", None, [{"type": "global_key", "operator": "is",
                                 "ids": ["no-such-key"]}], {"includeAttachments": True}),
        _spec("catalog", None, params={**ALL_PARAMS, "allProjects": True}),
        _spec("model_run", _model_run(store), params={"includePredictions": True,
                                                      "includeModelRunDetails": True}),
    ]
    here = _engine(store, tmp_path / "here", processes=0)
    pooled = _engine(store, tmp_path / "pooled", processes=2)
    try:
        for spec in specs:
            expected = here.wait(here.start_export(spec).id, timeout=60)
            got = pooled.wait(pooled.start_export(spec).id, timeout=60)
            assert expected is not None and got is not None
            assert got.status is expected.status is TaskStatus.COMPLETE
            assert got.committed(StreamName.RESULT) == expected.committed(StreamName.RESULT)
            assert got.committed(StreamName.ERRORS) == expected.committed(StreamName.ERRORS)
            assert _files(pooled, got.id) == _files(here, expected.id)
    finally:
        here.close()
        pooled.close()


def test_the_error_items_reach_the_errors_stream_through_the_processes(
    store: Engine, tmp_path: Path
) -> None:
    engine = _engine(store, tmp_path, processes=2)
    try:
        spec = _spec("project", _large_project(store),
                     [{"type": "data_row_id", "operator": "is", "ids": UNKNOWN_IDS}])
        task = engine.wait(engine.start_export(spec).id, timeout=60)
        assert task is not None and task.status is TaskStatus.COMPLETE
        assert task.committed(StreamName.ERRORS).lines == len(UNKNOWN_IDS)
        assert task.committed(StreamName.RESULT).lines == 0
    finally:
        engine.close()


def test_a_row_that_cannot_be_serialized_is_the_same_error_line_in_a_process() -> None:
    rows = [{"data_row": {"id": "ok"}}, {"data_row": {"id": "bad"}, "x": {1, 2}}]
    built = encode_rows(rows)  # as a row process serializes
    assert built == encode([("row", row) for row in rows])  # as the engine does
    assert built.result_lines() == [b'{"data_row":{"id":"ok"}}\n']
    (line,) = built.error_lines()
    assert b'"data_row_id":"bad"' in line and b"could not be serialized" in line


class _Gated:
    """A prepared export that stops after its second batch until the gate opens."""

    def __init__(self, prepared: PreparedExport, gate: threading.Event,
                 out: threading.Event) -> None:
        self.prepared, self.gate, self.out = prepared, gate, out

    @property
    def lines(self) -> int:
        return self.prepared.lines

    def batches(self) -> Iterator[Any]:
        inner = self.prepared.batches()
        try:
            for n, batch in enumerate(inner):
                yield batch
                if n == 1:
                    self.out.set()
                    self.gate.wait(30)
        finally:
            inner.close()  # type: ignore[attr-defined]


class _GatedSource:
    def __init__(self, source: StoreRowSource) -> None:
        self.source = source
        self.gate, self.out = threading.Event(), threading.Event()

    def check(self, spec: ExportSpec) -> _Gated:
        return _Gated(self.source.check(spec), self.gate, self.out)

    def close(self) -> None:
        self.source.close()


def test_cancel_stops_an_export_built_in_processes_and_the_next_export_runs(
    store: Engine, tmp_path: Path
) -> None:
    source = _GatedSource(StoreRowSource(store, 2, batch_rows=5))
    engine = ExportEngine(TaskStore(store), tmp_path, source, commit_seconds=0.0)
    try:
        spec = _spec("project", _large_project(store), params=ALL_PARAMS)
        task = engine.start_export(spec)
        assert source.out.wait(30)
        engine.cancel(task.id, wait=0)
        source.gate.set()
        ended = engine.wait(task.id, timeout=60)
        assert ended is not None and ended.status is TaskStatus.CANCELED
        result = ended.committed(StreamName.RESULT)
        assert result.lines == 10  # the two batches written before the cancel
        data = engine.read(task.id, StreamName.RESULT, 0, result.size - 1)
        assert data.count(b"\n") == 10 and data.endswith(b"\n")
        assert (engine.task_dir(task.id) / "result.idx").stat().st_size == 8 * 10

        again = engine.wait(engine.start_export(spec).id, timeout=60)
        assert again is not None and again.status is TaskStatus.COMPLETE
        assert again.committed(StreamName.RESULT).lines == prepare_export(store, spec).lines
    finally:
        engine.close()


def test_closing_the_engine_leaves_no_row_process(store: Engine, tmp_path: Path) -> None:
    before = {child.pid for child in psutil.Process().children()}
    engine = _engine(store, tmp_path, processes=2)
    task = engine.wait(engine.start_export(_spec("project", _large_project(store))).id,
                       timeout=60)
    assert task is not None and task.status is TaskStatus.COMPLETE
    children = _row_processes(before)
    assert len(children) == 2
    engine.close()
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive and not _row_processes(before)


def _job(pks: list[int]) -> BatchJob:
    return BatchJob("export-1", "http://x", Options(), RowShape(False, False, True, False), pks)


def test_a_failure_in_a_row_process_comes_back_as_itself(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"  # no tables: the lookups fail
    processes = RowProcesses(empty, 1)
    try:
        with pytest.raises(Exception, match="no such table") as failed:
            processes.submit(_job([1, 2])).result(timeout=60)
        assert type(failed.value).__name__ == "OperationalError"
    finally:
        processes.close()


def test_a_killed_row_process_fails_its_batches_and_is_replaced(store: Engine) -> None:
    processes = RowProcesses(store.url.render_as_string(hide_password=False), 1)
    try:
        # Killed while it starts: the batch it was sent can never be answered.
        doomed = processes.submit(_job([1]))
        (pid,) = processes.pids
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(RowProcessError, match=f"row process {pid} exited"):
            doomed.result(timeout=60)
        again = processes.submit(_job([1])).result(timeout=60)
        assert again.result_lines() and processes.pids != [pid]
    finally:
        processes.close()


def test_only_stores_other_processes_can_open_get_row_processes() -> None:
    from sqlalchemy.engine import make_url

    assert reaches_store(make_url("sqlite:////data/store.sqlite"))
    assert reaches_store(make_url("postgresql+psycopg://u:p@h/db"))
    assert not reaches_store(make_url("sqlite://"))
    assert not reaches_store(make_url("sqlite:///:memory:"))
    assert not reaches_store(make_url("sqlite:///file:x?mode=memory&uri=true"))


def test_a_local_server_exports_through_row_processes_and_stops_them(tmp_path: Path) -> None:
    from export_widget.client import Client
    from export_widget.server.runner import start_local_server

    before = {child.pid for child in psutil.Process().children()}
    # Past one batch (500 rows): a smaller export is built in the server process alone.
    with start_local_server(data_dir=tmp_path, rows=1_200, export_processes=2) as server, \
            Client(api_key=server.api_key, endpoint=server.endpoint) as client:
        project = next(p for p in client.get_projects() if p.name == LARGE_PROJECT)
        task = project.export(params={"label_details": True})
        task.wait_till_done()
        assert task.status == "COMPLETE"
        rows = [row.json for row in task.get_stream()]
        assert len(rows) == 1_200 and all(project.uid in row["projects"] for row in rows)
        children = _row_processes(before)
        assert len(children) == 2
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive and not _row_processes(before)
