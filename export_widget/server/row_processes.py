"""Row processes: export rows built and serialized in other processes, so an export uses
every core while the engine's thread only writes.

The server process pages an export's data-row pks (ids only, cheap) and sends each batch of
pks to a row process (`python -m export_widget.server.row_process`). Each one opens the
store once, loads an export's lookup tables (`Context`) once per export, builds the batch's
rows and serializes them. The export collects the batches in the order it sent them, so its
streams, their line index and the task's progress are written exactly as when the rows are
built in the server process.

The processes are plain children talking over their stdin and stdout (a length-prefixed
pickle each way), not a multiprocessing pool: forking a server that runs threads could copy
a lock another thread holds, and multiprocessing's spawn re-runs the parent's main script
in each child, which a script that starts the server unguarded does not survive. A child
reads its jobs until its stdin closes, so it ends with the server process, however that
ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import pickle
import struct
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from export_widget.server.export_lines import encode_rows
from export_widget.server.export_spec import EncodedBatch
from export_widget.server.rows.build import Context, Options, build_rows

STOP_SECONDS = 5.0  # how long `close` lets a process finish its batch before ending it
PIPE_BYTES = 1024 * 1024  # the results pipe's capacity (Linux lets any user go to 1 MiB)
_SIZE = struct.Struct("<Q")


@dataclass(frozen=True)
class RowShape:
    """Which sections an export's rows have, beyond the params (set by its kind)."""

    with_projects: bool
    with_experiments: bool
    with_split: bool
    with_project_tags: bool


@dataclass(frozen=True)
class BatchJob:
    """One batch of an export's rows to build: what a row process is sent."""

    export: str  # the export's key in a process's cache of lookup tables
    media_base_url: str
    options: Options
    shape: RowShape
    pks: list[int]


def build_batch(conn: Connection, context: Context, job: BatchJob) -> EncodedBatch:
    """The batch's rows, built and serialized (in a row process or in the server's)."""
    shape = job.shape
    rows = build_rows(conn, context, job.options, job.pks, with_projects=shape.with_projects,
                      with_experiments=shape.with_experiments, with_split=shape.with_split,
                      with_project_tags=shape.with_project_tags)
    return encode_rows(rows)


def reaches_store(url: URL) -> bool:
    """Whether another process can open the store at `url`: a SQLite file or a server
    database, not an in-memory SQLite store (which lives in this process alone)."""
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(url)


def write_message(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_SIZE.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_message(stream: IO[bytes]) -> Any:
    """The next message, or EOFError once the other side has closed."""
    (size,) = _SIZE.unpack(_read_exactly(stream, _SIZE.size))
    return pickle.loads(_read_exactly(stream, size))


def write_batch(stream: IO[bytes], batch: EncodedBatch) -> None:
    """A built batch: its line lengths pickled, then its two blobs as they are (pickling
    them would copy every exported byte twice more)."""
    stream.write(_SIZE.pack(len(batch.result)))
    stream.write(_SIZE.pack(len(batch.errors)))
    write_message(stream, (batch.result_lengths, batch.error_lengths))
    stream.write(batch.result)
    stream.write(batch.errors)
    stream.flush()


def read_batch(stream: IO[bytes]) -> EncodedBatch:
    (result_size,) = _SIZE.unpack(_read_exactly(stream, _SIZE.size))
    (errors_size,) = _SIZE.unpack(_read_exactly(stream, _SIZE.size))
    result_lengths, error_lengths = read_message(stream)
    return EncodedBatch(_read_exactly(stream, result_size), result_lengths,
                        _read_exactly(stream, errors_size), error_lengths)


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


class RowProcessError(RuntimeError):
    """A row process ended while it had batches to build."""


class RowBuildError(RuntimeError):
    """A batch failed in a row process with an error that could not be sent as itself."""


class RowProcess:
    """One child: jobs go to its stdin, their results come back in the same order."""

    def __init__(self, db_url: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "export_widget.server.row_process"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._jobs: IO[bytes] = self._proc.stdin
        self._results: IO[bytes] = self._proc.stdout
        with contextlib.suppress(OSError, AttributeError):  # Linux: 64 KiB is 60 switches a batch
            fcntl.fcntl(self._results.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._pending: deque[Future[EncodedBatch]] = deque()
        self._lock = threading.Lock()  # the pending futures and `alive`
        self._write_lock = threading.Lock()
        self.alive = True
        # The store URL may hold a password: it goes down the pipe, never on a command line.
        write_message(self._jobs, db_url)
        self._reader = threading.Thread(target=self._read, name="row-process-results",
                                        daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def load(self) -> int:
        return len(self._pending)

    def submit(self, job: BatchJob) -> Future[EncodedBatch]:
        future: Future[EncodedBatch] = Future()
        # Jobs are written in the order their futures are queued. The reader never waits
        # for a write: a child blocked on sending a result could otherwise block the write.
        with self._write_lock:
            with self._lock:
                if not self.alive:
                    raise RowProcessError(f"row process {self.pid} has ended")
                self._pending.append(future)
            try:
                write_message(self._jobs, job)
            except (OSError, ValueError) as exc:  # it died (the reader fails what it had)
                raise RowProcessError(f"row process {self.pid} has ended: {exc}") from exc
        return future

    def _read(self) -> None:
        while True:
            try:
                ok = read_message(self._results)
                value = read_batch(self._results) if ok is True else ok
            except (EOFError, OSError, pickle.UnpicklingError):
                break
            with self._lock:
                future = self._pending.popleft()
            # A canceled batch is dropped: the export that sent it has stopped.
            with contextlib.suppress(InvalidStateError):
                if isinstance(value, EncodedBatch):
                    future.set_result(value)
                else:
                    future.set_exception(value)
        code = self._proc.wait()
        with self._lock:
            self.alive = False
            pending, self._pending = list(self._pending), deque()
        for future in pending:
            with contextlib.suppress(InvalidStateError):
                future.set_exception(RowProcessError(
                    f"row process {self.pid} exited (code {code}) while building rows"))

    def close(self, timeout: float = STOP_SECONDS) -> None:
        """Close its stdin (it exits after the job it is on) and wait for it."""
        with self._lock:
            self.alive = False
            with contextlib.suppress(OSError):
                self._jobs.close()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout)
        self._results.close()


class RowProcesses:
    """`processes` row processes on the store at `db_url`, started on first use and
    stopped by `close()`, which waits for them to exit."""

    def __init__(self, db_url: str, processes: int) -> None:
        if processes < 1:
            raise ValueError(f"processes: must be >= 1, got {processes}")
        self.processes = processes
        self._db_url = db_url
        self._lock = threading.Lock()
        self._running: list[RowProcess] = []
        self._closed = False

    @property
    def window(self) -> int:
        """Batches an export keeps in flight: enough for every process to have the next
        one queued while the engine writes. Memory is bounded by window x batch size."""
        return 2 * self.processes

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in self._running]

    def submit(self, job: BatchJob) -> Future[EncodedBatch]:
        """Send a batch to the least busy process; its future holds the encoded batch."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the row processes were shut down")
            # A process that died (killed, out of memory) failed its batches; replace it.
            self._running = [p for p in self._running if p.alive]
            while len(self._running) < self.processes:
                self._running.append(RowProcess(self._db_url))
            process = min(self._running, key=lambda p: p.load)
            return process.submit(job)

    def close(self) -> None:
        """Stop the processes and wait for them (each ends after the batches it was sent)."""
        with self._lock:
            self._closed = True
            running, self._running = self._running, []
        for process in running:
            process.close()
