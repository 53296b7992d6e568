"""Exports that live in the history: a session spooling into an entry, an entry reopened.

`HistorySession` is an `ExportSession` whose spools are a history entry's: it records the
task id as soon as there is one, how far it got about once a second, and the final status,
so a kernel that dies mid-export leaves an entry that says how far it got. It also runs on a
task that already exists: attaching to a task started elsewhere, or resuming a cut-off entry.

`StoredExport` is an entry opened for reading with the face of a finished session (pages,
rows, status), so the viewer and `widget.rows()` work on it unchanged.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .export_request import ExportRequest
from .history import Entry, History
from .messages import FINAL_STATES, State, Status, idle_status
from .session import PUBLISH_INTERVAL, ExportSession, StatusCallback

log = logging.getLogger(__name__)


class HistorySession(ExportSession):
    """An export whose rows, errors and manifest go to a history entry (held locked)."""

    def __init__(self, client: Any, request: ExportRequest, entry: Entry,
                 history: History | None = None, on_status: StatusCallback | None = None,
                 publish_interval: float = PUBLISH_INTERVAL, *, task: Any = None,
                 attached: bool = False) -> None:
        entry.acquire()
        super().__init__(client, request, on_status, publish_interval, rows=entry.rows,
                         errors=entry.errors)
        self.entry = entry
        self.history = history
        self.task = task
        # An attached task was started elsewhere with params we do not know: it can be read
        # while the server has it, never re-run.
        self.attached = attached

    def run_existing_task(self) -> None:
        """Read `task` (attached, or the task of a cut-off entry) from the first line the
        entry does not hold yet."""
        if self.task is None:
            raise RuntimeError("history session: no task to read")
        if self.finished or self.status["state"] != "idle":
            raise RuntimeError("history session: already started")
        self._rows_at_start = self.rows.count
        self._started = time.monotonic()
        self._worker = threading.Thread(target=self._run, kwargs={"resume": True},
                                        name="export-widget-worker", daemon=True)
        self._worker.start()

    def resume(self) -> None:
        if self.finished and self.task is not None and self.status["state"] != "done":
            self.entry.reopen_for_resume()
        super().resume()

    def _close_spools(self) -> None:
        # `close()` ends here once the worker is done: the entry's files stay on disk, only
        # its descriptors and its lock are let go.
        super()._close_spools()
        self.entry.release()

    def _resume_task(self) -> None:
        if not self.attached:
            super()._resume_task()
            return
        self._poll_task()
        if self._server_state in ("CANCELED", "CANCELLING", "FAILED"):
            raise RuntimeError(f"task {self.task.uid} is {self._server_state} on the server; "
                               "an attached task cannot be run again")
        where = "at the start" if self.rows.count == 0 else \
            f"at line {self.rows.count + 1:,}"
        self._publish("running", f"Attached to task {self.task.uid} "
                      f"({self._server_state.lower().replace('_', ' ')}); reading {where}.")

    def _publish(self, state: State, message: str) -> None:
        super()._publish(state, message)
        try:
            uid = getattr(self.task, "uid", None)
            if uid and self.entry.task_id != uid:
                self.entry.update(task_id=uid)
            if state in FINAL_STATES:
                self.entry.finish(state, message, self._total_rows)
                if self.history is not None:
                    self.history.apply_retention(keep=self.entry)
            else:
                self.entry.checkpoint()
        except OSError as exc:  # a full disk must not kill the export's status updates
            log.warning("history entry %s not updated: %s", self.entry.id, exc)


class StoredExport:
    """A history entry, read-only, looking like a finished session to the widget."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.request: ExportRequest | None = None
        self.task: Any = None
        summary = entry.summary()
        state: State
        if summary["state"] == "incomplete":
            state = "failed"
            message = (f"Incomplete: this export was cut off after {summary['rows']:,} rows "
                       f"(started {summary['started_at']}). Resume continues task "
                       f"{entry.task_id} while the server still has it.")
        elif summary["state"] == "running":
            state = "streaming"
            message = "Opened from history while another process is still writing it."
        else:
            state = summary["state"]
            message = (f"Opened from history: {summary['message'] or state} "
                       f"(exported {summary['started_at']}).")
        self.status: Status = {**idle_status(), "state": state, "task_id": entry.task_id,
                               "rows": summary["rows"], "bytes": summary["bytes"],
                               "errors": summary["errors"], "message": message,
                               "total_rows": summary["rows"] if state == "done" else None,
                               "percent": 100.0 if state == "done" else None}

    @property
    def rows(self) -> Any:
        return self.entry.rows

    @property
    def errors(self) -> Any:
        return self.entry.errors

    @property
    def finished(self) -> bool:
        return True

    @property
    def incomplete(self) -> bool:
        return self.entry.state == "incomplete"

    def page(self, stream: str, line: int, n: int) -> tuple[int, list[str]]:
        spool = self.errors if stream == "errors" else self.rows
        return spool.count, spool.page(line, n)

    def cancel(self) -> bool:
        return False

    def wait(self, timeout: float | None = None) -> Status:
        return self.status

    def resume(self) -> None:
        raise RuntimeError("this export was opened from history; resume it from the History "
                           "panel or with widget.resume()")

    def close(self) -> None:
        self.entry.release()
