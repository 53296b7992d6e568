"""The export engine: runs export tasks in a bounded pool and writes their streams.

Each task writes two streams, RESULT and ERRORS. A stream is ONE NDJSON data file plus a
line index (little-endian uint64 start offset per line), so line -> byte offset is one
8-byte read. Chunks are not files: they are line-aligned byte ranges of the data file,
computed on request, which lets a reader start anywhere and lets a running task be read
up to what it has committed.

Commit order is data, then index, then the counters in the task table; readers only
trust the counters, so they never see a half-written line.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import functools
import itertools
import logging
import os
import shutil
import sys
import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, overload

from export_widget.server.export_lines import encode
from export_widget.server.export_spec import (
    Batch,
    EncodedBatch,
    ExportSpec,
    Item,
    PreparedExport,
)
from export_widget.server.retention import Retention, StoredExport, files_to_delete
from export_widget.server.tasks import (
    CANCELED_BY_USER,
    INTERRUPTED,
    Committed,
    StreamName,
    TaskRecord,
    TaskStatus,
    TaskStore,
    is_task_id,
    now_ms,
)

logger = logging.getLogger("export_widget.server")

# Each chunk costs the reader one GraphQL call and one GET: at 2 MiB those took a quarter of
# a finished stream's client CPU and half the server's (717 of each per 1.5 GB).
CHUNK_BYTES = 8 * 1024 * 1024
COMMIT_LINES = 1_000
COMMIT_SECONDS = 0.25
PROJECT_LIMIT = 10
ORGANIZATION_LIMIT = 20
SWEEP_SECONDS = 60.0
FILES_DELETED = "deleted: the export's files were deleted on request"

__all__ = ["Chunk", "ExportEngine", "Item", "RowSource", "StreamWriter", "find_chunk"]


class RowSource(Protocol):
    """Where a task's lines come from (the data side's export_query, in production)."""

    def check(self, spec: ExportSpec) -> PreparedExport:
        """The export ready to run; raises ValueError (naming the field) if it cannot run
        as asked. The one place an export's filters and params are checked."""
        ...


@dataclass(frozen=True)
class Chunk:
    """An inclusive byte range and the inclusive line range it covers."""

    start: int
    end: int
    first_line: int
    last_line: int


def _open_private(path: Path, buffering: int = -1) -> BinaryIO:
    """A new file only its owner can read: exports hold the workspace's data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb", buffering=buffering)


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error (or what caused it) is a full disk or quota, from a file write or
    from SQLite."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def stream_paths(task_dir: Path, stream: StreamName) -> tuple[Path, Path]:
    name = stream.value.lower()
    return task_dir / f"{name}.ndjson", task_dir / f"{name}.idx"


class LineWriter(Protocol):
    """Where a running task appends one stream's lines (files here; chunk rows for the
    team server); `flush` returns what the next commit may publish."""

    size: int
    lines: int

    def append_lines(self, data: bytes, lengths: Sequence[int]) -> None:
        """Append lines given as one blob and each line's length."""
        ...

    def flush(self) -> Committed: ...

    def close(self) -> None: ...


class StreamWriter:
    """Appends lines to one stream's data file and its index; `flush` makes them durable."""

    def __init__(self, task_dir: Path, stream: StreamName) -> None:
        data_path, index_path = stream_paths(task_dir, stream)
        self._data = _open_private(data_path, buffering=1024 * 1024)
        self._index = _open_private(index_path)
        self._pending = array("Q")
        self.size = 0
        self.lines = 0

    def append(self, line: bytes) -> None:
        """Append one NDJSON line; it must end with exactly one newline."""
        self.append_lines(line, (len(line),))

    def append_lines(self, data: bytes, lengths: Sequence[int]) -> None:
        """Append lines given as one blob and each line's length (one write per batch)."""
        starts = itertools.accumulate(lengths, initial=self.size)
        self._pending.extend(itertools.islice(starts, len(lengths)))
        self._data.write(data)
        self.size += len(data)
        self.lines += len(lengths)

    def flush(self) -> Committed:
        self._data.flush()
        if self._pending:
            if sys.byteorder != "little":
                self._pending.byteswap()
            self._index.write(self._pending.tobytes())
            self._pending = array("Q")
        self._index.flush()
        return Committed(self.size, self.lines)

    def close(self) -> None:
        """Close both files. A failed export may leave bytes that cannot be flushed (a full
        disk): they were never committed, so they are dropped rather than raised again."""
        for file in (self._data, self._index):
            with contextlib.suppress(OSError):
                file.close()


class _LineOffsets(Sequence[int]):
    """The first `lines` entries of an index file, read lazily (for bisect)."""

    def __init__(self, fd: int, lines: int) -> None:
        self._fd = fd
        self._lines = lines

    def __len__(self) -> int:
        return self._lines

    @overload
    def __getitem__(self, i: int) -> int: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[int]: ...

    def __getitem__(self, i: int | slice) -> int | Sequence[int]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._lines))]
        if i < 0:
            i += self._lines
        if not 0 <= i < self._lines:
            raise IndexError(i)
        raw = os.pread(self._fd, 8, i * 8)
        if len(raw) != 8:
            raise OSError(f"line index is shorter than its committed {self._lines} lines")
        return int.from_bytes(raw, "little")


def find_chunk(
    index_path: Path,
    committed: Committed,
    *,
    offset: int | None = None,
    line: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Chunk | None:
    """The chunk starting exactly at `offset` (or at `line`'s first byte), ending on a line end.

    It holds whole lines up to about `chunk_bytes` (at least the rest of the first line).
    None when the position is outside the committed part of the stream.
    """
    if committed.lines == 0:
        return None
    fd = os.open(index_path, os.O_RDONLY)
    try:
        offsets = _LineOffsets(fd, committed.lines)
        if offset is not None:
            if not 0 <= offset < committed.size:
                return None
            start = offset
            first = bisect.bisect_right(offsets, offset) - 1
        elif line is not None:
            if not 0 <= line < committed.lines:
                return None
            first = line
            start = offsets[line]
        else:
            raise ValueError("find_chunk needs an offset or a line")
        if committed.size - start <= chunk_bytes:
            last = committed.lines - 1
        else:
            starts_within = bisect.bisect_right(offsets, start + chunk_bytes, lo=first)
            last = max(first, starts_within - 2)
        end = committed.size - 1 if last + 1 >= committed.lines else offsets[last + 1] - 1
        return Chunk(start=start, end=end, first_line=first, last_line=last)
    finally:
        os.close(fd)


class ExportEngine:
    """Runs exports in a bounded thread pool and serves their committed streams."""

    def __init__(
        self,
        tasks: TaskStore,
        data_dir: Path,
        source: RowSource,
        *,
        workers: int = 2,
        project_limit: int = PROJECT_LIMIT,
        organization_limit: int = ORGANIZATION_LIMIT,
        chunk_bytes: int = CHUNK_BYTES,
        commit_lines: int = COMMIT_LINES,
        commit_seconds: float = COMMIT_SECONDS,
        retention: Retention | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.tasks = tasks
        self._root = Path(data_dir) / "exports"
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._source = source
        self._project_limit = project_limit
        self._organization_limit = organization_limit
        self._chunk_bytes = chunk_bytes
        self._commit_lines = commit_lines
        self._commit_seconds = commit_seconds
        self._stopping = threading.Event()
        self._futures: dict[str, Future[None]] = {}
        self._cancels: dict[str, threading.Event] = {}
        self._futures_lock = threading.Lock()
        self._workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
        self._retention = retention or Retention()
        self._sweep_lock = threading.Lock()
        self._recover_interrupted()
        if self._retention.limited:
            self.sweep()
            threading.Thread(target=self._sweep_every, args=(sweep_seconds,),
                             name="export-retention", daemon=True).start()

    # -- creating and running -------------------------------------------------------------

    def start_export(self, spec: ExportSpec) -> TaskRecord:
        """Check the spec, record a task and queue it.

        Raises ValueError for a spec the source refuses and TaskLimitError past the
        running limits; neither leaves a task behind.
        """
        if self._stopping.is_set():
            raise RuntimeError("the export engine is shutting down")
        prepared = self._source.check(spec)
        task = self.tasks.create(spec, project_limit=self._project_limit,
                                 organization_limit=self._organization_limit)
        cancel = threading.Event()
        with self._futures_lock:
            self._cancels[task.id] = cancel
            future = self._pool.submit(self._run, task.id, prepared, cancel)
            self._futures[task.id] = future
        future.add_done_callback(functools.partial(self._forget_future, task.id))
        return task

    def _forget_future(self, task_id: str, future: Future[None]) -> None:
        with self._futures_lock:
            self._futures.pop(task_id, None)
            self._cancels.pop(task_id, None)
        if not future.cancelled() and future.exception() is not None:
            logger.error("export task %s: its worker raised", task_id,
                         exc_info=future.exception())

    def _remove_files(self, task_id: str) -> None:
        shutil.rmtree(self.task_dir(task_id), ignore_errors=True)

    def delete_files(self, task_id: str, reason: str = FILES_DELETED) -> TaskRecord | None:
        """Delete a finished task's files; it keeps its record, with empty streams and
        `reason`. Raises ValueError for a running task (cancel it first)."""
        task = self.tasks.get(task_id)
        if task is None:
            return None
        if task.status is TaskStatus.IN_PROGRESS:
            raise ValueError(f"taskId: task {task_id} is still running; cancel it first")
        self._remove_files(task_id)
        self.tasks.files_removed(task_id, reason)
        return self.tasks.get(task_id)

    def sweep(self) -> list[str]:
        """Delete the files retention no longer keeps; returns the task ids."""
        if not self._retention.limited:
            return []
        with self._sweep_lock:
            stored = []
            for task_dir in self._root.iterdir():
                task = self.tasks.get(task_dir.name) if is_task_id(task_dir.name) else None
                if task is None or task.status is TaskStatus.IN_PROGRESS:
                    continue
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                    size = sum(f.stat().st_size for f in task_dir.iterdir())
                    stored.append(StoredExport(task.id, task.updated_at, size))
            doomed = files_to_delete(stored, self._retention, now_ms())
            for task_id, reason in doomed.items():
                self.delete_files(task_id, reason)
        return list(doomed)

    def _sweep_every(self, seconds: float) -> None:
        while not self._stopping.wait(seconds):
            try:
                self.sweep()
            except Exception:  # the next sweep tries again
                logger.exception("retention sweep failed")

    def cancel(self, task_id: str, wait: float = 5.0) -> TaskRecord | None:
        """Stop a running export; it ends CANCELED keeping what it wrote.

        A task that already finished is returned unchanged. Waits up to `wait` seconds
        for the worker to stop.
        """
        with self._futures_lock:
            cancel = self._cancels.get(task_id)
            future = self._futures.get(task_id)
        if cancel is not None and future is not None:
            cancel.set()
            if future.cancel():  # still queued: it never ran, so nothing was written
                self.tasks.finish(task_id, TaskStatus.CANCELED, CANCELED_BY_USER)
            else:
                # Still running after `wait`: the caller sees IN_PROGRESS and polls.
                with contextlib.suppress(TimeoutError):
                    future.result(timeout=wait)
        return self.tasks.get(task_id)

    def wait(self, task_id: str, timeout: float | None = None) -> TaskRecord | None:
        """Block until the task is no longer running here (for tests and the CLI)."""
        with self._futures_lock:
            future = self._futures.get(task_id)
        if future is not None:
            future.result(timeout=timeout)
        return self.tasks.get(task_id)

    def task_dir(self, task_id: str) -> Path:
        if not is_task_id(task_id):
            raise ValueError(f"task id: not a task id: {task_id!r}")
        return self._root / task_id

    def _run(self, task_id: str, prepared: PreparedExport, cancel: threading.Event) -> None:
        """Write the task's streams and end it, whatever happens: a task never stays
        IN_PROGRESS because its worker failed, and every failure is logged."""
        clear = False
        try:
            status, reason = self._write_task(task_id, prepared, cancel)
        except Exception as exc:  # the task fails, the server does not
            logger.exception("export task %s failed", task_id)
            status, reason = TaskStatus.FAILED, f"{type(exc).__name__}: {exc}"
            if is_disk_full(exc):
                # Partial files would only hold on to the space that ran out.
                self._remove_files(task_id)
                clear = True
                reason = (f"no space left on the disk holding the export files "
                          f"({self._root}): the export stopped and its partial files were "
                          "removed; free some space and export again")
        try:
            self.tasks.finish(task_id, status, reason, clear_streams=clear)
        except Exception:
            logger.exception("export task %s: could not record that it ended %s", task_id,
                             status.value)
        try:
            self.sweep()
        except Exception:
            logger.exception("retention sweep failed")

    def _write_task(
        self, task_id: str, prepared: PreparedExport, cancel: threading.Event
    ) -> tuple[TaskStatus, str | None]:
        task_dir = self.task_dir(task_id)
        try:
            task_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            writers: dict[StreamName, LineWriter] = {
                s: StreamWriter(task_dir, s) for s in StreamName}
        except OSError as exc:
            if is_disk_full(exc):
                raise
            return TaskStatus.FAILED, f"could not create the export files in {task_dir}: {exc}"
        outcome: tuple[TaskStatus, str | None] = (TaskStatus.COMPLETE, None)
        try:
            try:
                self._write_streams(task_id, prepared, writers, cancel)
            except ExportCanceled:
                outcome = (TaskStatus.CANCELED, CANCELED_BY_USER)
            except ExportStopped:
                outcome = (TaskStatus.FAILED, INTERRUPTED)
            except Exception as exc:
                if is_disk_full(exc):
                    raise
                logger.exception("export task %s failed", task_id)
                outcome = (TaskStatus.FAILED, f"{type(exc).__name__}: {exc}")
            # What was written is kept (and readable) whichever way the task ended.
            self._commit(task_id, writers, 100.0 if outcome[0] is TaskStatus.COMPLETE else None)
        finally:
            for writer in writers.values():
                writer.close()
        return outcome

    def _write_streams(
        self, task_id: str, prepared: PreparedExport, writers: dict[StreamName, LineWriter],
        cancel: threading.Event,
    ) -> None:
        total = prepared.lines
        first_batch = True  # committed at once, so a reader sees rows at once
        done = 0
        since_commit = 0
        last_commit = time.monotonic()
        result, errors = writers[StreamName.RESULT], writers[StreamName.ERRORS]
        batches = prepared.batches()
        try:
            for batch in batches:
                if self._stopping.is_set():
                    raise ExportStopped
                if cancel.is_set():
                    raise ExportCanceled
                lines = _encoded(batch)
                result.append_lines(lines.result, lines.result_lengths)
                errors.append_lines(lines.errors, lines.error_lengths)
                done += lines.lines
                since_commit += lines.lines
                if first_batch or since_commit >= self._commit_lines or (
                    since_commit and time.monotonic() - last_commit >= self._commit_seconds
                ):
                    first_batch = False
                    self._commit(task_id, writers, _percent(done, total))
                    since_commit, last_commit = 0, time.monotonic()
        finally:
            # Stopped early, a source drops what it has in flight (row processes' batches).
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    def _commit(
        self, task_id: str, writers: dict[StreamName, LineWriter], percent: float | None
    ) -> None:
        result = writers[StreamName.RESULT].flush()
        errors = writers[StreamName.ERRORS].flush()
        if percent is None:
            current = self.tasks.get(task_id)
            percent = current.completion_percentage if current else 0.0
        self.tasks.commit_progress(task_id, result, errors, percent)

    # -- reading --------------------------------------------------------------------------

    def header(self, task_id: str, stream: StreamName) -> Committed | None:
        """What is committed of a stream; None when it has no line (yet)."""
        task = self.tasks.get(task_id)
        if task is None:
            return None
        committed = task.committed(stream)
        return committed if committed.lines > 0 else None

    def chunk(
        self, task_id: str, stream: StreamName, *, offset: int | None = None,
        line: int | None = None,
    ) -> Chunk | None:
        task = self.tasks.get(task_id)
        if task is None:
            return None
        return self._find_chunk(task_id, stream, task.committed(stream), offset, line)

    def _find_chunk(
        self, task_id: str, stream: StreamName, committed: Committed, offset: int | None,
        line: int | None,
    ) -> Chunk | None:
        _, index_path = stream_paths(self.task_dir(task_id), stream)
        return find_chunk(index_path, committed, offset=offset, line=line,
                          chunk_bytes=self._chunk_bytes)

    def _check_range(self, task_id: str, stream: StreamName, start: int, end: int) -> None:
        """LookupError unless bytes start..end (inclusive) of the stream are committed."""
        task = self.tasks.get(task_id)
        if task is None:
            raise LookupError(f"task {task_id} does not exist")
        committed = task.committed(stream)
        if not 0 <= start <= end < committed.size:
            raise LookupError(
                f"bytes {start}-{end} are outside the {committed.size} committed bytes "
                f"of the {stream.value} stream of task {task_id}"
            )

    def read(self, task_id: str, stream: StreamName, start: int, end: int) -> bytes:
        """The committed bytes start..end (inclusive) of a stream."""
        self._check_range(task_id, stream, start, end)
        data_path, _ = stream_paths(self.task_dir(task_id), stream)
        with open(data_path, "rb") as f:
            data = os.pread(f.fileno(), end - start + 1, start)
        if len(data) != end - start + 1:
            raise LookupError(f"the {stream.value} file of task {task_id} is truncated")
        return data

    def iter_read(
        self, task_id: str, stream: StreamName, start: int, end: int, block: int = 256 * 1024
    ) -> Iterator[bytes]:
        """`read` in blocks, for large ranges."""
        position = start
        while position <= end:
            stop = min(end, position + block - 1)
            yield self.read(task_id, stream, position, stop)
            position = stop + 1

    # -- stopping -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop: running tasks end FAILED (interrupted), keeping what they wrote."""
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._close_source()
        self._recover_interrupted()

    def _close_source(self) -> None:
        """Stop what the row source runs (the store's row processes), once no export runs.
        A source needs no `close` (tests' sources have none)."""
        close = getattr(self._source, "close", None)
        if close is not None:
            close()

    def _recover_interrupted(self) -> None:
        # This process is the only one running exports on this store, so whatever is still
        # running was cut short by a stop.
        self.tasks.recover_interrupted()


class ExportStopped(Exception):
    pass


class ExportCanceled(Exception):
    pass


def _percent(done: int, total: int) -> float:
    if not total:
        return 0.0
    return min(99.0, round(100.0 * done / total, 2))


def _encoded(batch: Batch) -> EncodedBatch:
    return batch if isinstance(batch, EncodedBatch) else encode(batch)
