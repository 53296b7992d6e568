"""One export, run in a worker thread: create the task, stream its rows into a spool while it
runs, then its errors, and publish a status snapshot (at most ~10 a second, plus a last one).

Threads: `ExportSession.start()` returns at once. The worker is the only caller of the
`on_status` callback, so the widget's `status` trait has one writer. A second thread reads
the RESULT stream (it blocks on the network) and only appends to the spool and bumps counters;
the worker turns those counters into snapshots. `cancel()` only sets an event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .export_request import ExportRequest
from .messages import FINAL_STATES, State, Status, idle_status
from .spool import Spool

log = logging.getLogger(__name__)

PUBLISH_INTERVAL = 0.1  # seconds between status snapshots: <= 10 messages a second
POLL_INTERVAL = 0.5  # seconds between task status polls
APPEND_BATCH = 200  # lines per spool append


StatusCallback = Callable[[Status], None]


class ExportSession:
    """Runs one export. Rows land in `rows` (a Spool), error lines in `errors`."""

    def __init__(self, client: Any, request: ExportRequest,
                 on_status: StatusCallback | None = None,
                 publish_interval: float = PUBLISH_INTERVAL, *,
                 rows: Spool | None = None, errors: Spool | None = None) -> None:
        self.client = client
        self.request = request
        # Spools the caller passes (a history entry's) outlive the session; else temporary.
        self.rows = rows if rows is not None else Spool(name="rows")
        self.errors = errors if errors is not None else Spool(name="errors")
        self.task: Any = None
        self._on_status = on_status
        self._interval = publish_interval
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._closing = False
        self._close_lock = threading.Lock()  # closing vs. finishing: exactly one closes
        self._ending = False  # the final state is decided (and waits for its publish slot)
        self._worker: threading.Thread | None = None
        self._seq = 0
        self._started = 0.0
        self._stream_started: float | None = None
        self._server_state = "IN_PROGRESS"
        self._server_percent: float | None = None
        self._total_rows: int | None = None
        self._reader_error: BaseException | None = None
        self._reader: threading.Thread | None = None
        self._last_publish = 0.0
        self._rows_at_start = 0
        self.status: Status = idle_status()

    # -- control (any thread) -------------------------------------------------------------

    def start(self) -> None:
        if self._worker is not None:
            raise RuntimeError("session: already started")
        self._started = time.monotonic()
        self._worker = threading.Thread(target=self._run, name="export-widget-worker",
                                        daemon=True)
        self._worker.start()

    def resume(self) -> None:
        """Continue a failed or cancelled export at the first line not yet spooled.

        The task on the server is the same; rows already in the spool are not read again.
        """
        if not self._finished.is_set():
            raise RuntimeError("the export is still running")
        if self._closing:
            raise RuntimeError("the export was closed; start a new one")
        if self.task is None:
            raise RuntimeError("there is no task to resume; start a new export")
        if self.status["state"] == "done":
            raise RuntimeError("the export is already done")
        for event in (self._cancel, self._finished):
            event.clear()
        self._ending = False
        self._server_state = "IN_PROGRESS"
        self._stream_started = None
        self._rows_at_start = self.rows.count
        self._started = time.monotonic()
        self._worker = threading.Thread(target=self._run, kwargs={"resume": True},
                                        name="export-widget-worker", daemon=True)
        self._worker.start()

    def cancel(self) -> bool:
        """Ask the worker to stop; False when the export already ended (or its end is
        decided: a cancel that is accepted always ends the export cancelled)."""
        with self._close_lock:
            if self._ending or self._finished.is_set():
                return False
            self._cancel.set()
        return True

    def wait(self, timeout: float | None = None) -> Status:
        """Block until the export is done, failed or cancelled; TimeoutError otherwise."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"export still {self.status['state']} after {timeout} s")
        return self.status

    def close(self) -> None:
        """Stop the export and delete its spools: the session owns their files.

        Safe from any thread, the worker's own included (a status observer may close the
        widget): the spools close now when the worker has ended, else when it ends."""
        with self._close_lock:
            self._closing = True
            ended = self._worker is None or self._finished.is_set()
        if ended:
            self._close_spools()
        else:
            self.cancel()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def page(self, stream: str, line: int, count: int) -> tuple[int, list[str]]:
        spool = self.errors if stream == "errors" else self.rows
        return spool.count, spool.page(line, count)

    # -- the worker -----------------------------------------------------------------------

    def _run(self, resume: bool = False) -> None:
        try:
            if resume:
                self._resume_task()
            else:
                self._publish("queued", "Creating the export task…")
                self.task = self.request.run(self.client)
            if self._cancel.is_set():
                self._finish("cancelled", f"Cancelled: task {self.task.uid} was created, "
                             "no rows were read.")
                return
            if self._reader is not None:
                self._reader.join()  # a resumed run never races the reader it replaces
            self._reader_error = None
            stop, done = threading.Event(), threading.Event()
            reader = threading.Thread(target=self._read_rows, args=(stop, done),
                                      name="export-widget-reader", daemon=True)
            self._reader = reader
            reader.start()
            next_poll = 0.0
            while True:
                now = time.monotonic()
                if self._cancel.is_set():
                    stop.set()
                    self._cancel_task()
                    reader.join(timeout=1.0)  # so the last snapshot counts what was kept
                    self._finish("cancelled", f"Cancelled; {self.rows.count:,} rows kept.")
                    return
                if now >= next_poll and (self._server_state == "IN_PROGRESS"
                                         or self._total_rows is None):
                    self._poll_task()
                    next_poll = now + POLL_INTERVAL
                if done.is_set():
                    break
                if now - self._last_publish >= self._interval:
                    self._publish(self._live_state(), self._live_message())
                done.wait(min(self._interval, 0.05))
            if self._reader_error is not None:
                raise self._reader_error
            self._poll_task()
            if self._server_state == "FAILED":
                self._finish("failed", f"The server reported the task FAILED; "
                             f"{self.rows.count:,} rows kept.")
                return
            self.task.refresh()
            self._read_errors()
            self._total_rows = self.rows.count
            self._finish("done", _done_message(self.rows.count, self.errors.count))
        except Exception as exc:
            log.exception("export failed")
            kept = f" {self.rows.count:,} rows kept." if self.rows.count else ""
            self._finish("failed", f"{type(exc).__name__}: {exc}.{kept}".replace("..", "."))

    def _read_rows(self, stop: threading.Event, done: threading.Event) -> None:
        batch: list[str] = []
        try:
            stream = self._open_stream("RESULT", live=True, line=self.rows.count)
            last_flush = time.monotonic()
            for out in stream:
                if stop.is_set():
                    batch = []
                    return
                if self._stream_started is None:
                    self._stream_started = time.monotonic()
                batch.append(out.data)
                now = time.monotonic()
                if len(batch) >= APPEND_BATCH or now - last_flush > 0.05:
                    self.rows.append(batch)
                    batch = []
                    last_flush = now
        except ValueError as exc:
            # A live stream raises "out of range" only once the task has ended and holds no
            # line at the start position: an export with no rows, or a resume at the end.
            if "out of range" not in str(exc):
                self._reader_error = exc
        except BaseException as exc:
            self._reader_error = exc
        finally:
            # Whole lines already received are kept, whatever ended the stream.
            if batch and not stop.is_set():
                self.rows.append(batch)
            done.set()

    def _read_errors(self) -> None:
        from .client.stream import StreamType

        try:
            total = self.task.get_total_lines(StreamType.ERRORS) or 0
        except Exception:
            total = 0
        if self.errors.count >= total:
            return
        batch: list[str] = []
        for out in self._open_stream("ERRORS", live=False, line=self.errors.count):
            batch.append(out.data)
            if len(batch) >= APPEND_BATCH:
                self.errors.append(batch)
                batch = []
        self.errors.append(batch)

    def _open_stream(self, kind: str, live: bool, line: int = 0) -> Iterator[Any]:
        from .client.stream import LineConverter, StreamType

        stream_type = StreamType.RESULT if kind == "RESULT" else StreamType.ERRORS
        stream = self.task.get_stream(LineConverter(), stream_type, live=live)
        return iter(stream.with_line(line) if line else stream)

    def _poll_task(self) -> None:
        try:
            # Streams poll by task id and never read this object's state: refreshing it here
            # cannot disturb the reader thread.
            self.task.refresh()
            self._server_state = str(self.task.status)
            percent = getattr(self.task, "completion_percentage", None)
            self._server_percent = float(percent) if percent is not None else None
            if self._server_state == "COMPLETE" and self._total_rows is None:
                from .client.stream import StreamType

                # Known once the server is done: the rest of the progress is our download.
                self._total_rows = self.task.get_total_lines(StreamType.RESULT) or 0
        except Exception as exc:  # a missed poll only delays the numbers
            log.debug("task poll failed: %s", exc)

    def _resume_task(self) -> None:
        """Continue on the same task while it can still produce the missing lines; once the
        server ended it early (cancelled, failed), run the same export again: rows come in
        a stable order, so reading the new task from the next line continues the spool."""
        self._poll_task()
        if self._server_state in ("CANCELED", "FAILED"):
            old = self.task.uid
            self.task = self.request.run(self.client)
            self._server_state, self._total_rows = "IN_PROGRESS", None
            self._publish("running", f"Resuming with a new task {self.task.uid} (task {old} "
                          f"stopped on the server) at line {self.rows.count + 1:,}.")
        else:
            self._publish("running", f"Resuming task {self.task.uid} at line "
                          f"{self.rows.count + 1:,}.")

    def _cancel_task(self) -> None:
        # Labelbox's own API has no cancel: there the task runs on, and only reading stops.
        try:
            self.task.cancel()
        except Exception as exc:
            log.debug("server-side cancel failed: %s", exc)

    # -- snapshots ------------------------------------------------------------------------

    def _live_state(self) -> State:
        return "streaming" if self.rows.count > 0 else "running"

    def _live_message(self) -> str:
        if self._server_percent is None and self.rows.count == 0:
            return f"Task {getattr(self.task, 'uid', '')} created; waiting for the server."
        if self._server_state == "IN_PROGRESS":
            return "The server is exporting; rows appear as they are written."
        return "The server has finished; reading the rest of the rows."

    def _snapshot(self, state: State, message: str) -> Status:
        self._seq += 1
        now = time.monotonic()
        # The interval counts from the time the snapshot carries, so the statuses' own
        # elapsed_s are at least the interval apart however late an observer sees them.
        self._last_publish = now
        elapsed = now - self._started if self._started else 0.0
        rows = self.rows.count
        since = self._stream_started or self._started or now
        new_rows = rows - self._rows_at_start
        rate = new_rows / (now - since) if new_rows > 0 and now > since else 0.0
        percent = self._server_percent
        eta: float | None = None
        total = self._total_rows
        if state == "done":
            percent = 100.0
            eta = 0.0
        elif total:
            percent = round(100.0 * min(rows, total) / total, 2)
            eta = (total - rows) / rate if rate > 0 else None
        elif percent is not None and 0 < percent < 100:
            eta = elapsed * (100 - percent) / percent
        return Status(state=state, task_id=getattr(self.task, "uid", None), percent=percent,
                      rows=rows, bytes=self.rows.size, total_rows=self._total_rows,
                      rows_per_s=round(rate, 1), elapsed_s=round(elapsed, 2),
                      eta_s=None if eta is None else round(eta, 1),
                      errors=self.errors.count, message=message, seq=self._seq)

    def _publish(self, state: State, message: str) -> None:
        self.status = self._snapshot(state, message)
        if self._on_status is not None:
            try:
                self._on_status(self.status)
            except Exception:
                log.exception("status callback failed")

    def _finish(self, state: State, message: str) -> None:
        assert state in FINAL_STATES
        with self._close_lock:
            self._ending = True
        # The last status keeps the pace too: sent at once, it made an eleventh message in
        # the second it ended. A tenth of a second later is nothing to a reader.
        wait = self._last_publish + self._interval - time.monotonic()
        if self._last_publish and wait > 0:
            time.sleep(wait)
        self._publish(state, message)
        with self._close_lock:
            if self._closing:  # before `finished`: whoever waits sees the files gone
                self._close_spools()
            self._finished.set()

    def _close_spools(self) -> None:
        self.rows.close()
        self.errors.close()


def _done_message(rows: int, errors: int) -> str:
    text = f"Exported {rows:,} row{'' if rows == 1 else 's'}"
    if errors:
        text += f" and {errors:,} error{'' if errors == 1 else 's'}"
    return text + "."
