"""The kernel side of the preview panel: a row -> its shapes and media, off the message thread.

`PreviewService.request` hands a request to one worker thread and returns at once; when
several requests wait (a user paging fast), only the newest is answered: the browser drops
replies to older ones anyway. `PreviewService.preview` does the same work synchronously
for `ExportWidget.preview`, so Python sees exactly what the browser draws.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .inspect.shapes import shapes_of
from .media import MediaFetcher, Prepared, Preview
from .messages import PreviewReply

log = logging.getLogger(__name__)

ReadRow = Callable[[int], Mapping[str, Any] | None]
Send = Callable[[PreviewReply, list[bytes]], None]


class PreviewService:
    def __init__(self, read_row: ReadRow, send: Send, fetcher: MediaFetcher | None = None
                 ) -> None:
        self._read_row = read_row
        self._send = send
        self.fetcher = fetcher or MediaFetcher()
        self._wake = threading.Condition()
        self._pending: tuple[str, int] | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def prepare(self, line: int) -> Prepared | None:
        """Shapes and media of result line `line` (0-based), or None when there is no row."""
        row = self._read_row(line)
        if row is None:
            return None
        return self.fetcher.prepare(shapes_of(row), line)

    def preview(self, line: int) -> Preview | None:
        prepared = self.prepare(line)
        return prepared.preview if prepared else None

    def request(self, request_id: str, line: int) -> None:
        """Answer `line` soon, from the worker; a newer request replaces a waiting one."""
        with self._wake:
            self._pending = (request_id, line)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="export-widget-preview",
                                                daemon=True)
                self._thread.start()
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self.fetcher.close()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                assert self._pending is not None
                request_id, line = self._pending
                self._pending = None
            self._answer(request_id, line)

    def _answer(self, request_id: str, line: int) -> None:
        try:
            prepared = self.prepare(line)
        except Exception as exc:  # a bad row must not stop the worker
            log.exception("preview of line %d failed", line)
            self._send(PreviewReply(type="preview", id=request_id, line=line, preview=None,
                                    message=f"The preview failed: {type(exc).__name__}: {exc}"),
                       [])
            return
        if prepared is None:
            self._send(PreviewReply(type="preview", id=request_id, line=line, preview=None,
                                    message=f"Line {line + 1} has no row (yet)."), [])
            return
        self._send(PreviewReply(type="preview", id=request_id, line=line,
                                preview=prepared.preview, message=""), prepared.buffers)
