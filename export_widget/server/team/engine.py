"""The export engine of a team server: any number of processes on one PostgreSQL database.

It is the embedded engine with three things moved into the database, so a process needs
nothing but the database URL (and the signing secret all processes share):
- streams are chunk rows (team/chunks.py), so any process serves any task's chunks;
- each running task has a lease (team/leases.py): the process that created it runs it
  when it has a free worker, otherwise any process with one claims it;
- a keeper thread renews this process's leases, passes on cancel requests made through
  other processes, and claims tasks whose owner died, resuming after their committed lines.

A stopped process hands its tasks on (they are claimed at once by another process, or by
the next one to start) instead of failing them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from export_widget.server.engine import (
    Chunk,
    ExportCanceled,
    ExportEngine,
    ExportStopped,
    LineWriter,
    RowSource,
)
from export_widget.server.export_spec import ExportSpec, PreparedExport
from export_widget.server.retention import StoredExport, files_to_delete
from export_widget.server.tasks import (
    CANCELED_BY_USER,
    Committed,
    StreamName,
    TaskRecord,
    TaskStatus,
    TaskStore,
    export_tasks,
    now_ms,
)
from export_widget.server.team.chunks import (
    ChunkRowWriter,
    export_chunks,
    find_chunk_rows,
    read_chunk_rows,
    team_metadata,
)
from export_widget.server.team.leases import (
    LEASE_SECONDS,
    MAX_RUNS,
    Claim,
    LeaseBook,
    process_name,
)

logger = logging.getLogger("export_widget.server.team")

ORPHANED = "interrupted: this export has no lease, so no server process can run it"


class _LeaseLost(Exception):
    """Another process has claimed this task: stop without writing anything more."""


class TeamExportEngine(ExportEngine):
    """An ExportEngine whose tasks, streams and leases all live in one shared database."""

    def __init__(
        self,
        tasks: TaskStore,
        store: Engine,
        data_dir: Path,
        source: RowSource,
        *,
        lease_seconds: float = LEASE_SECONDS,
        max_runs: int = MAX_RUNS,
        **options: Any,
    ) -> None:
        """`options` are the ExportEngine's (workers, limits, chunk size, retention...)."""
        team_metadata.create_all(store)
        self._store = store
        self.leases = LeaseBook(store, process_name(), lease_seconds=lease_seconds,
                                max_runs=max_runs)
        self._tokens: dict[str, int] = {}  # the tasks this process holds (queued or running)
        self._wake = threading.Event()
        super().__init__(tasks, data_dir, source, **options)
        self._beat = min(lease_seconds / 3, 1.0)
        self._keeper = threading.Thread(target=self._keep, name="export-leases", daemon=True)
        self._keeper.start()

    @property
    def owner(self) -> str:
        return self.leases.owner

    # -- creating and claiming ------------------------------------------------------------

    def start_export(self, spec: ExportSpec) -> TaskRecord:
        """Check the spec, record the task and its lease; run it here if a worker is free,
        otherwise leave it for the first process with one."""
        if self._stopping.is_set():
            raise RuntimeError("the export engine is shutting down")
        prepared = self._source.check(spec)
        with self._futures_lock:
            room = len(self._tokens) < self._workers
        claims: list[Claim | None] = []

        def lease(conn: Connection, task_id: str) -> None:
            claims.append(self.leases.add(conn, task_id, dataclasses.asdict(spec), claim=room))

        task = self.tasks.create(spec, project_limit=self._project_limit,
                                 organization_limit=self._organization_limit, along=lease)
        claim = claims[0]
        if claim is None:
            self._wake.set()
        else:
            self._launch(claim, lambda: prepared)
        return task

    def _launch(self, claim: Claim, prepare: Callable[[], PreparedExport]) -> None:
        cancel = threading.Event()
        with self._futures_lock:
            self._tokens[claim.task_id] = claim.token
            self._cancels[claim.task_id] = cancel
            future = self._pool.submit(self._run_claim, claim, prepare, cancel)
            self._futures[claim.task_id] = future
        future.add_done_callback(functools.partial(self._forget_claim, claim.task_id))

    def _forget_claim(self, task_id: str, future: Future[None]) -> None:
        self._forget_future(task_id, future)
        with self._futures_lock:
            self._tokens.pop(task_id, None)
        self._wake.set()  # a worker is free: claim the next waiting task

    def _take_over(self, claim: Claim) -> None:
        def prepare() -> PreparedExport:
            # The export exactly as recorded (its media URLs name the creating process).
            return self._source.check(ExportSpec(**claim.spec))

        logger.info("claimed export %s (token %d)", claim.task_id, claim.token)
        self._launch(claim, prepare)

    # -- running --------------------------------------------------------------------------

    def _run_claim(self, claim: Claim, prepare: Callable[[], PreparedExport],
                   cancel: threading.Event) -> None:
        task_id, token = claim.task_id, claim.token
        writers: dict[StreamName, LineWriter] = {
            s: ChunkRowWriter(s, claim.committed(s), self._chunk_bytes) for s in StreamName}
        try:
            self._write_streams(task_id, prepare(), writers, cancel)
        except _LeaseLost:
            logger.warning("export %s was claimed by another process; stopped here", task_id)
        except ExportCanceled:
            self._end(task_id, token, writers, TaskStatus.CANCELED, CANCELED_BY_USER)
        except ExportStopped:
            # Hand the task on: the next process resumes after the committed lines.
            with contextlib.suppress(_LeaseLost):
                self._commit(task_id, writers, None)
                self.leases.release([task_id])
        except OperationalError:
            # The database went away: the lease runs out and the task is claimed again
            # (here or elsewhere), which counts as a run, so an outage that lasts ends it.
            logger.exception("export %s: lost the database; it will be claimed again", task_id)
        except Exception as exc:  # the task fails, the server does not
            self._end(task_id, token, writers, TaskStatus.FAILED, f"{type(exc).__name__}: {exc}")
        else:
            self._end(task_id, token, writers, TaskStatus.COMPLETE, None)

    def _end(self, task_id: str, token: int, writers: dict[StreamName, LineWriter],
             status: TaskStatus, reason: str | None) -> None:
        try:
            self._commit(task_id, writers, 100.0 if status is TaskStatus.COMPLETE else None)
        except _LeaseLost:
            return
        self.leases.finish(task_id, token, status, reason)
        try:
            self.sweep()
        except Exception:
            logger.exception("retention sweep failed")

    def _commit(self, task_id: str, writers: dict[StreamName, LineWriter],
                percent: float | None) -> None:
        """Store the new blocks and raise the counters in one transaction, if this process
        still holds the task (else _LeaseLost, and nothing is written)."""
        with self._futures_lock:
            token = self._tokens[task_id]
        blocks = []
        for stream, writer in writers.items():
            assert isinstance(writer, ChunkRowWriter)
            blocks += [block.row(task_id, stream) for block in writer.take()]
        result, errors = writers[StreamName.RESULT].flush(), writers[StreamName.ERRORS].flush()
        values: dict[str, Any] = {
            "result_size": result.size, "result_lines": result.lines,
            "errors_size": errors.size, "errors_lines": errors.lines, "updated_at": now_ms()}
        if percent is not None:
            values["completion_percentage"] = percent
        with self._store.begin() as conn:
            if not self.leases.fence(conn, task_id, token):
                raise _LeaseLost
            if blocks:
                conn.execute(insert(export_chunks), blocks)
            conn.execute(update(export_tasks).where(
                export_tasks.c.id == task_id,
                export_tasks.c.status == TaskStatus.IN_PROGRESS.value).values(**values))

    # -- the keeper: heartbeat, cancels from other processes, takeovers -------------------

    def _keep(self) -> None:
        while not self._stopping.is_set():
            try:
                self._keep_once()
            except SQLAlchemyError:
                logger.exception("lease upkeep failed; retrying")
            self._wake.wait(self._beat)
            self._wake.clear()

    def _keep_once(self) -> None:
        with self._futures_lock:
            tokens = dict(self._tokens)
        _lost, canceled = self.leases.renew(tokens)
        for task_id in canceled:
            with self._futures_lock:
                event = self._cancels.get(task_id)
            if event is not None:
                event.set()
        while not self._stopping.is_set():
            with self._futures_lock:
                if len(self._tokens) >= self._workers:
                    return
            claim = self.leases.claim_next()
            if claim is None:
                return
            self._take_over(claim)

    # -- cancel, wait, stop ---------------------------------------------------------------

    def cancel(self, task_id: str, wait: float = 5.0) -> TaskRecord | None:
        """Stop a running export wherever it runs; it ends CANCELED keeping what it wrote."""
        with self._futures_lock:
            event = self._cancels.get(task_id)
            future = self._futures.get(task_id)
            token = self._tokens.get(task_id)
        if event is not None and future is not None and token is not None:
            event.set()
            if future.cancel():  # still queued here: it never ran
                self.leases.finish(task_id, token, TaskStatus.CANCELED, CANCELED_BY_USER)
        else:
            self.leases.request_cancel(task_id)
        deadline = time.monotonic() + wait
        task = self.tasks.get(task_id)
        while task is not None and task.status is TaskStatus.IN_PROGRESS and \
                time.monotonic() < deadline:
            time.sleep(0.05)
            task = self.tasks.get(task_id)
        return task

    def wait(self, task_id: str, timeout: float | None = None) -> TaskRecord | None:
        """Block until the task finishes, in whichever process runs it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        task = self.tasks.get(task_id)
        while task is not None and task.status is TaskStatus.IN_PROGRESS:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"export {task_id} is still running after {timeout} s")
            time.sleep(0.05)
            task = self.tasks.get(task_id)
        return task

    def close(self) -> None:
        """Stop: this process's tasks are handed on, keeping what they wrote."""
        self._stopping.set()
        self._wake.set()
        self._keeper.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._close_source()
        self.leases.release()

    def _recover_interrupted(self) -> None:
        # Other processes may be running exports right now: only tasks nobody can run fail
        # (a task and its lease are recorded together, so only a hand-edited database has
        # any).
        self.leases.fail_orphans(ORPHANED)

    # -- retention ------------------------------------------------------------------------

    def _remove_files(self, task_id: str) -> None:
        with self._store.begin() as conn:
            conn.execute(delete(export_chunks).where(export_chunks.c.task_id == task_id))

    def sweep(self) -> list[str]:
        """Delete the chunk rows retention no longer keeps (sizes are the streams' bytes,
        before compression); any process may sweep, deleting twice is harmless."""
        if not self._retention.limited:
            return []
        c, t = export_chunks.c, export_tasks.c
        with self._sweep_lock:
            with self._store.connect() as conn:
                rows = conn.execute(
                    select(c.task_id, t.updated_at, func.sum(c.size))
                    .join(export_tasks, t.id == c.task_id)
                    .where(t.status != TaskStatus.IN_PROGRESS.value)
                    .group_by(c.task_id, t.updated_at)).all()
            stored = [StoredExport(task_id, int(at), int(size)) for task_id, at, size in rows]
            doomed = files_to_delete(stored, self._retention, now_ms())
            for task_id, reason in doomed.items():
                self.delete_files(task_id, reason)
        return list(doomed)

    # -- reading --------------------------------------------------------------------------

    def _find_chunk(
        self, task_id: str, stream: StreamName, committed: Committed, offset: int | None,
        line: int | None,
    ) -> Chunk | None:
        with self._store.connect() as conn:
            return find_chunk_rows(conn, task_id, stream, committed, offset=offset, line=line,
                                   chunk_bytes=self._chunk_bytes)

    def read(self, task_id: str, stream: StreamName, start: int, end: int) -> bytes:
        data = b"".join(self.iter_read(task_id, stream, start, end))
        if len(data) != end - start + 1:
            raise LookupError(f"the {stream.value} stream of task {task_id} is missing "
                              f"bytes in {start}-{end}")
        return data

    def iter_read(
        self, task_id: str, stream: StreamName, start: int, end: int, block: int = 0
    ) -> Iterator[bytes]:
        """The committed bytes start..end (inclusive), one stored block (at most about
        `chunk_bytes`) at a time, whatever `block` asks."""
        self._check_range(task_id, stream, start, end)
        return self._blocks(task_id, stream, start, end)

    def _blocks(self, task_id: str, stream: StreamName, start: int, end: int
                ) -> Iterator[bytes]:
        with self._store.connect() as conn:
            yield from read_chunk_rows(conn, task_id, stream, start, end)

