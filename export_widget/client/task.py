"""`ExportTask`: the SDK's task wrapper, with a timeout that raises and real streams."""

from __future__ import annotations

import time
import warnings
from datetime import datetime
from typing import Any, TypeVar, overload

from ..jsontypes import Json
from .api import ExportApi, HasApi, Header, StreamType
from .errors import ExportTaskException, ExportTimeoutError
from .progress import move_task_bar, task_bar
from .stream import BufferedStream, Converter, JsonConverter, JsonConverterOutput, Stream

T = TypeVar("T")
_ONLY_V2 = ("This property is only available for export_v2 tasks due to compatibility "
            "reasons, please use streamable errors instead")


class ExportTask:
    """One export task. Created by `export()`, or re-attached with `ExportTask.get_task`."""

    ExportTaskException = ExportTaskException

    def __init__(self, api: ExportApi, fields: Json, *, is_export_v2: bool = False) -> None:
        self._api = api
        self._fields = fields
        self._headers: dict[StreamType, Header | None] = {}
        self.is_export_v2 = is_export_v2

    # --- the Task fields ---

    @property
    def uid(self) -> str:
        return str(self._fields["id"])

    @property
    def name(self) -> str | None:
        return self._fields.get("name")

    @property
    def status(self) -> str:
        return str(self._fields.get("status") or "UNKNOWN")

    @property
    def completion_percentage(self) -> float | None:
        value = self._fields.get("completionPercentage")
        return float(value) if value is not None else None

    @property
    def created_at(self) -> datetime | None:
        return _parse_time(self._fields.get("createdAt"))

    @property
    def updated_at(self) -> datetime | None:
        return _parse_time(self._fields.get("updatedAt"))

    @property
    def type(self) -> str | None:
        return self._fields.get("type")

    @property
    def metadata(self) -> Json | None:
        return self._fields.get("metadata")

    def __repr__(self) -> str:
        return f"<ExportTask ID: {self.uid}>"

    @staticmethod
    def get_task(client: HasApi, task_id: str) -> ExportTask:
        """Re-attach to an existing task by id (raises ResourceNotFoundError if unknown)."""
        return ExportTask(client.api, client.api.get_task(task_id))

    def refresh(self) -> None:
        """Fetch the task's current status and progress."""
        self._fields = self._api.get_task(self.uid)

    def wait_till_done(self, timeout_seconds: float = 7200, check_frequency: float = 2.0, *,
                       progress: bool = False) -> None:
        """Poll until the task leaves IN_PROGRESS; raise `ExportTimeoutError` on timeout.

        Polls start at 0.1 s and back off to `check_frequency`, so small exports return fast.
        `progress=True` shows a tqdm bar: the server's percentage, rows and bytes so far.
        """
        deadline = time.monotonic() + timeout_seconds
        delay = 0.1
        bar = task_bar(self.uid) if progress else None
        try:
            while True:
                if bar is not None:
                    move_task_bar(bar, self.completion_percentage,
                                  self._api.header_so_far(self.uid, StreamType.RESULT))
                if self.status != "IN_PROGRESS":
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ExportTimeoutError(self.uid, timeout_seconds, self.status)
                time.sleep(min(delay, left))
                delay = min(check_frequency, delay * 2)
                self.refresh()
        finally:
            if bar is not None:
                bar.close()

    wait_until_done = wait_till_done

    def cancel(self) -> str:
        """Ask the server to stop this export; returns the task's status afterwards.

        The local export server keeps every line already written and ends the task
        CANCELED. Labelbox's own API has no such operation: there this raises the server's
        `InvalidQueryError`, and the task runs on.
        """
        status = self._api.cancel_task(self.uid)
        self.refresh()
        return status or self.status

    # --- results ---

    def _require_complete(self) -> None:
        if self.status == "FAILED":
            raise ExportTaskException("Task failed")
        if self.status != "COMPLETE":
            raise ExportTaskException("Task is not ready yet")

    def _header(self, stream_type: StreamType) -> Header | None:
        # A finished task's header never changes: ask once.
        if stream_type not in self._headers:
            self._headers[stream_type] = self._api.header(self.uid, stream_type)
        return self._headers[stream_type]

    def get_total_file_size(self, stream_type: StreamType) -> int | None:
        self._require_complete()
        header = self._header(stream_type)
        return header.total_size if header else None

    def get_total_lines(self, stream_type: StreamType) -> int | None:
        self._require_complete()
        header = self._header(stream_type)
        return header.total_lines if header else None

    def has_result(self) -> bool:
        return (self.get_total_file_size(StreamType.RESULT) or 0) > 0

    def has_errors(self) -> bool:
        return (self.get_total_file_size(StreamType.ERRORS) or 0) > 0

    @overload
    def get_stream(self, converter: None = None, stream_type: StreamType = ...,
                   *, live: bool = ..., poll_interval: float = ..., progress: bool = ...
                   ) -> Stream[JsonConverterOutput]: ...

    @overload
    def get_stream(self, converter: Converter[T], stream_type: StreamType = ...,
                   *, live: bool = ..., poll_interval: float = ..., progress: bool = ...
                   ) -> Stream[T]: ...

    def get_stream(self, converter: Converter[Any] | None = None,
                   stream_type: StreamType = StreamType.RESULT, *, live: bool = False,
                   poll_interval: float = 0.3, progress: bool = False) -> Stream[Any]:
        """A `Stream` of `stream_type` through `converter` (default `JsonConverter()`).

        `live=True` reads a task that is still running: rows come as the server commits
        them, until the task completes (a FAILED task raises after its committed rows).
        `progress=True` shows a tqdm bar of the rows read while the stream is iterated.
        """
        header = None
        if not live:
            self._require_complete()
            header = self._header(stream_type)
            if header is None:
                raise ValueError(f"Task {self.uid} does not have a {stream_type.value} stream")
        return Stream(self._api, self.uid, stream_type, converter or JsonConverter(),
                      header=header, live=live, poll_interval=poll_interval, progress=progress)

    def get_buffered_stream(self, stream_type: StreamType = StreamType.RESULT) -> BufferedStream:
        """The SDK 6/7 API (`o.json` per row), without buffering the whole export first."""
        return BufferedStream(self.get_stream(JsonConverter(), stream_type))

    # --- the export_v2 surface of SDK 3.x-5.x (old notebooks still read it) ---

    @property
    def result(self) -> list[Json] | str | None:
        """export_v2: every row, parsed ([] when there is none). Otherwise the task's raw
        `result` field, as the SDK returned it."""
        _warn_legacy("result")
        if not self.is_export_v2:
            return self._fields.get("result")
        return self._rows(StreamType.RESULT) or []

    @property
    def errors(self) -> list[Json] | None:
        """export_v2: every error row, parsed, or None when there is none."""
        _warn_legacy("errors")
        if not self.is_export_v2:
            raise ExportTaskException(_ONLY_V2)
        return self._rows(StreamType.ERRORS)

    @property
    def result_url(self) -> str:
        """export_v2: the SDK's REST address of the result (which it never downloads)."""
        _warn_legacy("result_url")
        return self._legacy_url("export-results")

    @property
    def errors_url(self) -> str | None:
        """export_v2: the SDK's REST address of the errors, or None when there is none."""
        _warn_legacy("errors_url")
        if not self.is_export_v2:
            raise ExportTaskException(_ONLY_V2)
        return self._legacy_url("export-errors") if self.has_errors() else None

    def _rows(self, stream_type: StreamType) -> list[Json] | None:
        self._require_complete()
        if self._header(stream_type) is None:
            return None
        return [out.json for out in self.get_stream(stream_type=stream_type)]

    def _legacy_url(self, kind: str) -> str:
        if not self.is_export_v2:
            raise ExportTaskException(_ONLY_V2)
        base = self._api.transport.rest_endpoint
        return f"{base}/{kind}/{self.uid}/{self._api.organization_id()}"


def _warn_legacy(name: str) -> None:
    warnings.warn(f"ExportTask.{name} belongs to the deprecated export_v2; use export() and "
                  "get_stream() / get_buffered_stream()", DeprecationWarning, stacklevel=3)


def _parse_time(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
