"""The export engine: streams, line index, virtual chunks, task life cycle, limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from postgres_support import BACKENDS
from sqlalchemy import Engine, create_engine

from export_widget.server.engine import ExportEngine, StreamWriter, find_chunk
from export_widget.server.export_spec import ExportSpec, Item
from export_widget.server.tasks import (
    INTERRUPTED,
    Committed,
    StreamName,
    TaskLimitError,
    TaskStatus,
    TaskStore,
    is_task_id,
    new_task_id,
)
from export_widget.server.team.engine import TeamExportEngine
from export_widget.server.team.leases import LeaseBook, export_leases


def _row(i: int) -> dict[str, Any]:
    # Multibyte text makes byte offsets differ from character offsets.
    return {"data_row": {"id": f"row-{i:05d}", "row_data": f"Zürich 東京 {i}" + "x" * (i % 7)}}


class ListSource:
    """Rows and error items from a list, in batches; optionally blocks after one batch."""

    def __init__(self, items: list[Item], batch: int = 10, gate: threading.Event | None = None,
                 fail_after: int | None = None) -> None:
        self.items = items
        self.batch = batch
        self.gate = gate
        self.fail_after = fail_after
        self.first_batch_out = threading.Event()

    def check(self, spec: ExportSpec) -> ListSource:
        if spec.params.get("includeAttachments") == "yes":
            raise ValueError("params.includeAttachments: expected true or false, got 'yes'")
        return self

    @property
    def lines(self) -> int:
        return len(self.items)

    def batches(self) -> Iterator[list[Item]]:
        for n, start in enumerate(range(0, len(self.items), self.batch)):
            if self.fail_after is not None and start >= self.fail_after:
                raise RuntimeError("the store went away")
            yield self.items[start : start + self.batch]
            if n == 0:
                self.first_batch_out.set()
                if self.gate is not None:
                    self.gate.wait(10)


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The task store: a SQLite file (embedded engine) or a PostgreSQL database (team)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tasks.sqlite'}"
    else:
        url = request.getfixturevalue("pg_cluster").new_database()
    engine = create_engine(url)
    yield engine
    engine.dispose()


sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
postgresql_only = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


def _engine(db: Engine, tmp_path: Path, source: ListSource, **kw: Any) -> ExportEngine:
    if db.dialect.name == "postgresql":
        return TeamExportEngine(TaskStore(db), db, tmp_path / "data", source, **kw)
    return ExportEngine(TaskStore(db), tmp_path / "data", source, **kw)


def _start(engine: ExportEngine, project_id: str | None = "p1") -> str:
    spec = ExportSpec("project" if project_id else "catalog", project_id, task_name="t",
                      created_by="u1", organization_id="o1", wire_input={"filters": {}})
    task = engine.start_export(spec)
    return task.id


def _write_stream(tmp_path: Path, lines: list[bytes]) -> tuple[Path, bytes]:
    writer = StreamWriter(tmp_path, StreamName.RESULT)
    for line in lines:
        writer.append(line)
    writer.flush()
    writer.close()
    return tmp_path / "result.idx", b"".join(lines)


def _lines(n: int) -> list[bytes]:
    return [orjson.dumps(_row(i)) + b"\n" for i in range(n)]


def test_task_ids_are_25_char_cuids_and_never_repeat() -> None:
    ids = {new_task_id() for _ in range(5_000)}
    assert len(ids) == 5_000
    assert all(is_task_id(i) and len(i) == 25 and i.startswith("c") for i in ids)


def test_chunk_from_offset_starts_exactly_at_offset_and_ends_on_a_line_end(
    tmp_path: Path,
) -> None:
    lines = _lines(50)
    index, data = _write_stream(tmp_path, lines)
    committed = type("C", (), {"size": len(data), "lines": 50})()
    for offset in (0, 1, len(lines[0]), len(lines[0]) + 5, len(data) - 1):
        chunk = find_chunk(index, committed, offset=offset, chunk_bytes=300)
        assert chunk is not None
        assert chunk.start == offset
        assert data[chunk.end : chunk.end + 1] == b"\n"
        # the line range names the lines the bytes touch
        first_line_start = sum(len(x) for x in lines[: chunk.first_line])
        assert first_line_start <= offset < first_line_start + len(lines[chunk.first_line])
        assert sum(len(x) for x in lines[: chunk.last_line + 1]) == chunk.end + 1


def test_chunks_walked_by_end_plus_one_cover_the_file_exactly(tmp_path: Path) -> None:
    lines = _lines(200)
    index, data = _write_stream(tmp_path, lines)
    committed = type("C", (), {"size": len(data), "lines": 200})()
    offset, parts, next_line = 0, [], 0
    while offset < len(data):
        chunk = find_chunk(index, committed, offset=offset, chunk_bytes=1_000)
        assert chunk is not None and chunk.first_line == next_line
        assert chunk.end - chunk.start + 1 <= 1_000
        parts.append(data[chunk.start : chunk.end + 1])
        offset, next_line = chunk.end + 1, chunk.last_line + 1
    assert b"".join(parts) == data and len(parts) > 5
    assert next_line == 200


def test_chunk_from_line_starts_at_that_line(tmp_path: Path) -> None:
    lines = _lines(30)
    index, data = _write_stream(tmp_path, lines)
    committed = type("C", (), {"size": len(data), "lines": 30})()
    for line in (0, 1, 17, 29):
        chunk = find_chunk(index, committed, line=line, chunk_bytes=200)
        assert chunk is not None
        assert chunk.start == sum(len(x) for x in lines[:line])
        assert chunk.first_line == line
        assert orjson.loads(data[chunk.start : chunk.end + 1].split(b"\n")[0]) == _row(line)


def test_a_line_longer_than_the_chunk_size_is_served_whole(tmp_path: Path) -> None:
    lines = [b'{"a":"' + b"y" * 5_000 + b'"}\n', b'{"b":1}\n']
    index, data = _write_stream(tmp_path, lines)
    committed = type("C", (), {"size": len(data), "lines": 2})()
    chunk = find_chunk(index, committed, offset=0, chunk_bytes=100)
    assert chunk is not None and (chunk.start, chunk.end) == (0, len(lines[0]) - 1)
    assert (chunk.first_line, chunk.last_line) == (0, 0)


def test_positions_past_the_end_have_no_chunk(tmp_path: Path) -> None:
    index, data = _write_stream(tmp_path, _lines(3))
    committed = type("C", (), {"size": len(data), "lines": 3})()
    assert find_chunk(index, committed, offset=len(data)) is None
    assert find_chunk(index, committed, line=3) is None
    assert find_chunk(index, committed, offset=-1) is None


def test_export_completes_with_result_and_errors_streams(db: Engine, tmp_path: Path) -> None:
    items: list[Item] = [("row", _row(i)) for i in range(25)]
    items.append(("error", {"id": "nope", "error": "data row nope does not exist"}))
    engine = _engine(db, tmp_path, ListSource(items))
    task_id = _start(engine)
    task = engine.wait(task_id, timeout=10)
    assert task is not None and task.status is TaskStatus.COMPLETE
    assert task.completion_percentage == 100.0
    result = engine.header(task_id, StreamName.RESULT)
    errors = engine.header(task_id, StreamName.ERRORS)
    assert result is not None and result.lines == 25
    assert errors is not None and errors.lines == 1
    data = engine.read(task_id, StreamName.RESULT, 0, result.size - 1)
    assert [orjson.loads(x) for x in data.splitlines()] == [_row(i) for i in range(25)]
    assert b"\n\n" not in data and data.endswith(b"\n")
    engine.close()


def test_empty_stream_has_no_header(db: Engine, tmp_path: Path) -> None:
    engine = _engine(db, tmp_path, ListSource([("row", _row(0))]))
    task_id = _start(engine)
    engine.wait(task_id, timeout=10)
    assert engine.header(task_id, StreamName.ERRORS) is None
    assert engine.chunk(task_id, StreamName.ERRORS, offset=0) is None
    engine.close()


def test_a_row_that_cannot_be_serialized_goes_to_the_errors_stream(
    db: Engine, tmp_path: Path
) -> None:
    items: list[Item] = [("row", _row(0)), ("row", {"data_row": {"id": "bad"}, "x": {1, 2}})]
    engine = _engine(db, tmp_path, ListSource(items))
    task_id = _start(engine)
    assert engine.wait(task_id, timeout=10).status is TaskStatus.COMPLETE  # type: ignore[union-attr]
    errors = engine.header(task_id, StreamName.ERRORS)
    assert errors is not None and errors.lines == 1
    line = orjson.loads(engine.read(task_id, StreamName.ERRORS, 0, errors.size - 1))
    assert line["data_row_id"] == "bad" and "could not be serialized" in line["error"]
    engine.close()


def test_a_crash_fails_the_task_with_its_reason_keeping_written_lines(
    db: Engine, tmp_path: Path
) -> None:
    items: list[Item] = [("row", _row(i)) for i in range(40)]
    engine = _engine(db, tmp_path, ListSource(items, batch=10, fail_after=20))
    task_id = _start(engine)
    task = engine.wait(task_id, timeout=10)
    assert task is not None and task.status is TaskStatus.FAILED
    assert task.failure_reason == "RuntimeError: the store went away"
    header = engine.header(task_id, StreamName.RESULT)
    assert header is not None and header.lines == 20
    engine.close()


def test_a_running_task_serves_what_it_has_committed(db: Engine, tmp_path: Path) -> None:
    gate = threading.Event()
    source = ListSource([("row", _row(i)) for i in range(30)], batch=10, gate=gate)
    engine = _engine(db, tmp_path, source, commit_seconds=0.0)
    task_id = _start(engine)
    assert source.first_batch_out.wait(5)
    header = None
    for _ in range(200):
        header = engine.header(task_id, StreamName.RESULT)
        if header is not None:
            break
        threading.Event().wait(0.01)
    assert header is not None and header.lines == 10
    task = engine.tasks.get(task_id)
    assert task is not None and task.status is TaskStatus.IN_PROGRESS
    assert 0 < task.completion_percentage < 100
    chunk = engine.chunk(task_id, StreamName.RESULT, offset=0)
    assert chunk is not None and chunk.last_line == 9 and chunk.end == header.size - 1
    assert engine.chunk(task_id, StreamName.RESULT, line=10) is None
    gate.set()
    assert engine.wait(task_id, timeout=10).status is TaskStatus.COMPLETE  # type: ignore[union-attr]
    engine.close()


@sqlite_only
def test_restart_marks_running_tasks_failed_as_interrupted(db: Engine, tmp_path: Path) -> None:
    store = TaskStore(db)
    task = store.create(ExportSpec("catalog", created_by="u1", organization_id="o1"),
                        project_limit=10, organization_limit=20)
    engine = _engine(db, tmp_path, ListSource([]))  # a new server on the same database
    after = engine.tasks.get(task.id)
    assert after is not None and after.status is TaskStatus.FAILED
    assert after.failure_reason == INTERRUPTED
    engine.close()


def test_completed_tasks_and_files_survive_a_restart(db: Engine, tmp_path: Path) -> None:
    engine = _engine(db, tmp_path, ListSource([("row", _row(i)) for i in range(5)]))
    task_id = _start(engine)
    engine.wait(task_id, timeout=10)
    before = engine.header(task_id, StreamName.RESULT)
    engine.close()
    again = _engine(db, tmp_path, ListSource([]))
    assert again.tasks.get(task_id).status is TaskStatus.COMPLETE  # type: ignore[union-attr]
    assert again.header(task_id, StreamName.RESULT) == before
    assert before is not None
    assert len(again.read(task_id, StreamName.RESULT, 0, before.size - 1)) == before.size
    again.close()


def test_running_exports_are_limited_per_project_and_per_organization(
    db: Engine, tmp_path: Path
) -> None:
    gate = threading.Event()
    source = ListSource([("row", _row(0))], gate=gate)
    engine = _engine(db, tmp_path, source, project_limit=2, organization_limit=3)
    _start(engine, "p1")
    _start(engine, "p1")
    with pytest.raises(TaskLimitError, match="project p1 has 2 running, the limit is 2"):
        _start(engine, "p1")
    _start(engine, "p2")
    with pytest.raises(TaskLimitError, match="organization has 3 running, the limit is 3"):
        _start(engine, "p3")
    gate.set()
    engine.close()


def test_reading_outside_the_committed_bytes_is_refused(db: Engine, tmp_path: Path) -> None:
    engine = _engine(db, tmp_path, ListSource([("row", _row(0))]))
    task_id = _start(engine)
    engine.wait(task_id, timeout=10)
    header = engine.header(task_id, StreamName.RESULT)
    assert header is not None
    with pytest.raises(LookupError, match="outside the"):
        engine.read(task_id, StreamName.RESULT, 0, header.size)
    engine.close()


def test_a_spec_the_source_refuses_creates_no_task(db: Engine, tmp_path: Path) -> None:
    engine = _engine(db, tmp_path, ListSource([]))
    with pytest.raises(ValueError, match="includeAttachments"):
        engine.start_export(ExportSpec("catalog", params={"includeAttachments": "yes"},
                                       created_by="u1", organization_id="o1"))
    assert engine.tasks.list_for_user("u1", task_id=None, skip=0, first=10) == []
    engine.close()


def test_cancel_stops_a_running_export_keeping_its_lines(db: Engine, tmp_path: Path) -> None:
    gate = threading.Event()
    source = ListSource([("row", _row(i)) for i in range(30)], batch=10, gate=gate)
    engine = _engine(db, tmp_path, source)
    task_id = _start(engine)
    assert source.first_batch_out.wait(5)
    threading.Timer(0.2, gate.set).start()
    task = engine.cancel(task_id)
    assert task is not None and task.status is TaskStatus.CANCELED
    assert task.failure_reason is not None and task.failure_reason.startswith("canceled")
    header = engine.header(task_id, StreamName.RESULT)
    assert header is not None and header.lines == 10
    assert engine.cancel(task_id) == engine.tasks.get(task_id)  # finished: unchanged
    engine.close()


def test_cancel_of_a_queued_export_ends_it_without_running(db: Engine, tmp_path: Path) -> None:
    gate = threading.Event()
    source = ListSource([("row", _row(i)) for i in range(30)], batch=10, gate=gate)
    engine = _engine(db, tmp_path, source, workers=1)
    _start(engine)
    assert source.first_batch_out.wait(5)
    queued = _start(engine)
    task = engine.cancel(queued)
    assert task is not None and task.status is TaskStatus.CANCELED
    assert engine.header(queued, StreamName.RESULT) is None
    gate.set()
    engine.close()


@sqlite_only
def test_a_task_whose_files_cannot_be_created_fails_saying_why(
    db: Engine, tmp_path: Path
) -> None:
    engine = _engine(db, tmp_path, ListSource([("row", _row(0))]))
    exports = tmp_path / "data" / "exports"
    exports.rmdir()
    exports.write_text("a file where the exports directory should be")
    task_id = _start(engine)
    task = engine.wait(task_id, timeout=10)
    assert task is not None and task.status is TaskStatus.FAILED
    assert task.failure_reason is not None
    assert task.failure_reason.startswith("could not create the export files")
    engine.close()


# -- the team engine (PostgreSQL): handing tasks on between processes ----------------------


@postgresql_only
def test_a_stopped_team_engine_hands_its_export_on_and_the_next_resumes_it(
    db: Engine, tmp_path: Path,
) -> None:
    items: list[Item] = [("row", _row(i)) for i in range(30)]
    gate = threading.Event()
    first = _engine(db, tmp_path, ListSource(items, batch=10, gate=gate), commit_seconds=0.0)
    task_id = _start(first)
    threading.Timer(0.3, gate.set).start()
    first.close()  # stops after the batch it is writing; its lease is released
    task = first.tasks.get(task_id)
    header = first.header(task_id, StreamName.RESULT)
    assert task is not None and task.status is TaskStatus.IN_PROGRESS
    assert header is not None and 0 < header.lines < 30
    second = _engine(db, tmp_path, ListSource(items, batch=10))
    done = second.wait(task_id, timeout=20)
    assert done is not None and done.status is TaskStatus.COMPLETE
    result = second.header(task_id, StreamName.RESULT)
    assert result is not None and result.lines == 30
    assert second.read(task_id, StreamName.RESULT, 0, result.size - 1) == b"".join(_lines(30))
    second.close()


@postgresql_only
def test_an_export_whose_runs_keep_dying_ends_failed_saying_why(
    db: Engine, tmp_path: Path,
) -> None:
    first = _engine(db, tmp_path, ListSource([]))
    assert isinstance(first, TeamExportEngine)
    first.close()
    dead = LeaseBook(db, "host-b:4242:dead", lease_seconds=1, max_runs=3)
    spec = ExportSpec("catalog", created_by="u1", organization_id="o1")
    task = first.tasks.create(
        spec, project_limit=10, organization_limit=20,
        along=lambda conn, task_id: dead.add(conn, task_id, asdict(spec), claim=True))
    with db.begin() as conn:  # its third run died too, and the lease has run out
        conn.execute(export_leases.update().values(runs=3, expires_at=0))
    survivor = _engine(db, tmp_path, ListSource([("row", _row(0))]))
    ended = survivor.wait(task.id, timeout=20)
    assert ended is not None and ended.status is TaskStatus.FAILED
    assert ended.failure_reason is not None
    assert "started 3 times" in ended.failure_reason
    assert "host-b:4242:dead" in ended.failure_reason
    survivor.close()


@postgresql_only
def test_chunk_rows_are_compressed_with_lz4(db: Engine, tmp_path: Path) -> None:
    _engine(db, tmp_path, ListSource([])).close()
    with db.connect() as conn:
        method = conn.exec_driver_sql(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = 'export_chunks'::regclass"
            " AND attname = 'data'").scalar()
    assert method == "l"


@postgresql_only
def test_a_process_whose_lease_was_taken_over_writes_nothing_more(
    db: Engine, tmp_path: Path,
) -> None:
    gate = threading.Event()
    source = ListSource([("row", _row(i)) for i in range(30)], batch=10, gate=gate)
    engine = _engine(db, tmp_path, source, commit_seconds=0.0)
    task_id = _start(engine)
    assert source.first_batch_out.wait(5)
    deadline = time.monotonic() + 10
    while engine.header(task_id, StreamName.RESULT) is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with db.begin() as conn:  # meanwhile another process claimed it (this one was paused)
        conn.execute(export_leases.update().values(owner="host-b:7:other",
                                                   token=export_leases.c.token + 1))
    gate.set()
    time.sleep(1.0)
    task = engine.tasks.get(task_id)
    assert task is not None and task.status is TaskStatus.IN_PROGRESS
    assert engine.header(task_id, StreamName.RESULT) == Committed(
        len(b"".join(_lines(10))), 10)
    engine.close()
