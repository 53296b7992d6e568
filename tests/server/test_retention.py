"""Retention of export files (age, total size), deleting a task's files, private data."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from postgres_support import BACKENDS
from sqlalchemy import create_engine

from export_widget.cli import main
from export_widget.server.engine import ExportEngine
from export_widget.server.export_spec import ExportSpec, Item
from export_widget.server.retention import (
    DAY_MS,
    Retention,
    StoredExport,
    files_to_delete,
    parse_size,
)
from export_widget.server.runner import LocalServer, build_server
from export_widget.server.tasks import StreamName, TaskStatus, TaskStore, export_tasks
from export_widget.server.team.chunks import export_chunks
from export_widget.server.team.engine import TeamExportEngine

from .test_api import CATALOG_EXPORT, HEADER, data, gql
from .test_disk_full import SizedSource


def _spec(rows: int = 10, size: int = 1_000) -> ExportSpec:
    return ExportSpec("catalog", params={"rows": rows, "size": size}, created_by="u1")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tasks.sqlite'}"
    else:
        url = request.getfixturevalue("pg_cluster").new_database()
    engine = create_engine(url)
    yield engine
    engine.dispose()


def _engine(store: sa.Engine, tmp_path: Path, source: SizedSource, **kw: Any) -> ExportEngine:
    if store.dialect.name == "postgresql":
        return TeamExportEngine(TaskStore(store), store, tmp_path / "data", source, **kw)
    return ExportEngine(TaskStore(store), tmp_path / "data", source, **kw)


def _stored(store: sa.Engine, data_dir: Path, task_id: str) -> bool:
    """Whether an export's bytes are still kept: its files, or its chunk rows."""
    if store.dialect.name == "sqlite":
        return (data_dir / "exports" / task_id).exists()
    with store.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(export_chunks).where(
            export_chunks.c.task_id == task_id)).scalar_one() > 0


def _finish(engine: ExportEngine, spec: ExportSpec) -> str:
    task = engine.wait(engine.start_export(spec).id, timeout=10)
    assert task is not None and task.status is TaskStatus.COMPLETE
    return task.id


def test_files_to_delete_keeps_the_newest_within_age_and_size() -> None:
    now = 100 * DAY_MS
    stored = [StoredExport("old", now - 10 * DAY_MS, 100), StoredExport("mid", now - DAY_MS, 500),
              StoredExport("new", now - 1, 700)]
    assert list(files_to_delete(stored, Retention(max_age_days=5), now)) == ["old"]
    assert list(files_to_delete(stored, Retention(max_total_bytes=1_200), now)) == ["old"]
    assert list(files_to_delete(stored, Retention(max_total_bytes=100), now)) == ["old", "mid"]
    assert files_to_delete(stored, Retention(), now) == {}
    assert parse_size("10G") == 10 * 1024**3 and parse_size("1.5k") == 1536
    with pytest.raises(ValueError, match="retention size: expected bytes like 500M"):
        parse_size("lots")


def test_a_size_budget_deletes_the_oldest_exports_files(tmp_path: Path, store: sa.Engine) -> None:
    engine = _engine(store, tmp_path, SizedSource(), retention=Retention(max_total_bytes=25_000))
    first, second, third = (_finish(engine, _spec()) for _ in range(3))  # ~10 kB each
    assert not _stored(store, tmp_path / "data", first)
    gone = engine.tasks.get(first)
    assert gone is not None and gone.status is TaskStatus.COMPLETE
    assert gone.failure_reason == ("expired: files deleted to keep exports under 25,000 bytes "
                                   "(retention)")
    assert engine.header(first, StreamName.RESULT) is None
    for kept in (second, third):
        header = engine.header(kept, StreamName.RESULT)
        assert header is not None and header.lines == 10
    engine.close()


def test_an_age_limit_deletes_exports_older_than_it(tmp_path: Path, store: sa.Engine) -> None:
    engine = _engine(store, tmp_path, SizedSource(), retention=Retention(max_age_days=2))
    old, recent = _finish(engine, _spec()), _finish(engine, _spec())
    with store.begin() as conn:
        conn.execute(export_tasks.update().where(export_tasks.c.id == old)
                     .values(updated_at=export_tasks.c.updated_at - 3 * DAY_MS))
    assert engine.sweep() == [old]
    assert not _stored(store, tmp_path / "data", old)
    assert _stored(store, tmp_path / "data", recent)
    engine.close()


def test_a_running_export_keeps_its_files(tmp_path: Path, store: sa.Engine) -> None:
    gate = threading.Event()

    class Blocking(SizedSource):
        def check(self, spec: ExportSpec) -> SizedSource.Prepared:
            class Waiting(SizedSource.Prepared):
                def batches(self) -> Iterator[list[Item]]:
                    yield from list(super().batches())[:1]
                    gate.wait(10)
            return Waiting(5, 10)

    engine = _engine(store, tmp_path, Blocking(), retention=Retention(max_total_bytes=0))
    running = engine.start_export(_spec())
    with pytest.raises(ValueError, match=r"taskId: task \w+ is still running; cancel it first"):
        engine.delete_files(running.id)
    assert engine.sweep() == []
    gate.set()
    engine.wait(running.id, timeout=10)
    engine.close()


def test_delete_export_task_files_over_graphql(server: LocalServer) -> None:
    out = data(gql(server, CATALOG_EXPORT, {"input": {"filters": {"searchQuery": {"query": [
        {"type": "global_key", "operator": "is", "ids": ["street-0001.png"]}]}},
        "streamable": True}}))
    task_id = out["exportDataRowsInCatalog"]["taskId"]
    server.engine.wait(task_id, timeout=30)
    assert _stored(server.parts.store, server.data_dir, task_id)
    deleted = data(gql(server, """mutation D($id: ID!){deleteExportTaskFiles(taskId: $id){
      id status failureReason}}""", {"id": task_id}))["deleteExportTaskFiles"]
    assert deleted == {"id": task_id, "status": "COMPLETE",
                       "failureReason": "deleted: the export's files were deleted on request"}
    assert not _stored(server.parts.store, server.data_dir, task_id)
    header = data(gql(server, HEADER, {"where": {"id": task_id}, "streamType": "RESULT"}))
    assert header["task"]["exportMetadataHeader"] is None


def test_the_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    parts = build_server(demo=False, data_dir=tmp_path / "data")
    try:
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "data" / "exports").stat().st_mode) == 0o700
        for name in ("store.sqlite", "signing.key"):
            assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name
    finally:
        parts.engine.close()
        parts.store.dispose()


def test_serve_takes_retention_from_flags_or_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["serve", "--retention-days", "0"]) == 2
    assert "--retention-days: must be > 0, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--retention-size", "lots"])
    assert "invalid size value: 'lots'" in capsys.readouterr().err
    monkeypatch.setenv("EXPORT_WIDGET_RETENTION_DAYS", "-1")
    assert main(["serve"]) == 2
    assert "--retention-days: must be > 0, got -1" in capsys.readouterr().err
