"""A full disk ends an export FAILED, naming the disk, and frees what it wrote.

As root (CI here runs as root) the data directory and the task table sit on a real 1 MiB
tmpfs mounted by the test; elsewhere the stream writer raises ENOSPC once a stream would pass
1 MiB.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from export_widget.server.engine import ExportEngine, StreamWriter
from export_widget.server.export_spec import ExportSpec, Item
from export_widget.server.tasks import StreamName, TaskStatus, TaskStore

DISK_BYTES = 1024 * 1024


class SizedSource:
    """`params.rows` rows of `params.size` bytes each, in batches of 20."""

    def check(self, spec: ExportSpec) -> SizedSource.Prepared:
        return SizedSource.Prepared(spec.params["rows"], spec.params["size"])

    class Prepared:
        def __init__(self, rows: int, size: int) -> None:
            self.lines, self.size = rows, size

        def batches(self) -> Iterator[list[Item]]:
            for start in range(0, self.lines, 20):
                yield [("row", {"data_row": {"id": f"row-{i}"}, "blob": "x" * self.size})
                       for i in range(start, min(start + 20, self.lines))]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(disk)],
                       check=True)
        try:
            yield disk
        finally:
            # Lazy: a file a failed assertion left open must not keep the mount for ever.
            subprocess.run(["umount", "--lazy", str(disk)], check=True)
        return
    append = StreamWriter.append

    def append_until_full(self: StreamWriter, line: bytes) -> None:
        # One export's files fill the disk; removing them frees it again.
        if self.size + len(line) > DISK_BYTES:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        append(self, line)

    monkeypatch.setattr(StreamWriter, "append", append_until_full)
    yield disk


def _spec(rows: int, size: int) -> ExportSpec:
    return ExportSpec("project", "p1", params={"rows": rows, "size": size}, created_by="u1")


def test_a_full_disk_fails_the_export_naming_the_disk_and_frees_its_files(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = create_engine(f"sqlite:///{data_dir / 'tasks.sqlite'}")
    engine = ExportEngine(TaskStore(store), data_dir, SizedSource(), commit_lines=20)
    caplog.set_level(logging.ERROR, logger="export_widget.server")
    try:
        _fill_the_disk_then_export_again(engine, data_dir, caplog)
    finally:
        engine.close()
        store.dispose()


def _fill_the_disk_then_export_again(
    engine: ExportEngine, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    task = engine.start_export(_spec(rows=400, size=10_000))  # 4 MB on a 1 MiB disk
    ended = engine.wait(task.id, timeout=10)

    assert ended is not None and ended.status is TaskStatus.FAILED
    assert ended.failure_reason is not None
    assert "no space left on the disk" in ended.failure_reason
    assert str(data_dir / "exports") in ended.failure_reason
    assert not (data_dir / "exports" / task.id).exists()  # partial files removed
    assert engine.header(task.id, StreamName.RESULT) is None  # nothing readable is claimed
    assert any(task.id in r.getMessage() and r.exc_info for r in caplog.records)

    # The space is back: the next exports of the same project run to the end.
    for _ in range(3):
        again = engine.wait(engine.start_export(_spec(rows=30, size=1_000)).id, timeout=10)
        assert again is not None and again.status is TaskStatus.COMPLETE
        header = engine.header(again.id, StreamName.RESULT)
        assert header is not None and header.lines == 30


def test_export_files_and_directories_are_private(tmp_path: Path) -> None:
    store = create_engine(f"sqlite:///{tmp_path / 'tasks.sqlite'}")
    engine = ExportEngine(TaskStore(store), tmp_path / "data", SizedSource())
    task = engine.wait(engine.start_export(_spec(rows=3, size=10)).id, timeout=10)
    assert task is not None and task.status is TaskStatus.COMPLETE
    task_dir = tmp_path / "data" / "exports" / task.id
    for directory in (tmp_path / "data" / "exports", task_dir):
        assert directory.stat().st_mode & 0o777 == 0o700
    for file in task_dir.iterdir():
        assert file.stat().st_mode & 0o777 == 0o600
    engine.close()
    store.dispose()
