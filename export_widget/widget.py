"""ExportWidget: configure an export, watch it run, page through its rows, in a notebook.

State of record, one writer each:
- `config`      written by the browser (the form); read here.
- `status`      written only by the export worker, one whole dict per update.
- `catalog`     written here at construction: what can be exported, with names.
- `validation`  written here on each config change: field -> message.
- `search`      written only by the search worker: the search box's query and progress.
Start, resume, cancel and page requests come as custom messages with a `type` and an `id`,
answered by the handlers in `routes.py`; every reply echoes the id. Rows never sit in a
trait: pages are read from the session's spool, and so are searches, tables and saves.
"""

from __future__ import annotations

import logging
import pathlib
import threading
from typing import Any

import anywidget
import traitlets

from .catalog import load_catalog
from .demo import demo_client
from .downloads import Downloads, plan, write
from .export_request import ExportRequest
from .finder import Finder, Target
from .inspect.formats import MaskFetcher
from .inspect.query import Query, Search
from .inspect.table import Grain, labels_frame
from .messages import ErrorReply, SearchStatus, Status, idle_search, idle_status
from .routes import ROUTES
from .session import ExportSession
from .table_view import TableView

log = logging.getLogger(__name__)
_STATIC = pathlib.Path(__file__).parent / "static"


class ExportWidget(anywidget.AnyWidget):
    """The export widget. `ExportWidget()` uses the embedded demo workspace;
    `ExportWidget(client)` uses any `export_widget.client.Client`."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    config = traitlets.Dict().tag(sync=True)
    status = traitlets.Dict().tag(sync=True)
    catalog = traitlets.Dict().tag(sync=True)
    validation = traitlets.Dict().tag(sync=True)
    search = traitlets.Dict().tag(sync=True)

    def __init__(self, client: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = client if client is not None else demo_client()
        self._session: ExportSession | None = None
        self._lock = threading.Lock()
        self.status = dict(idle_status())
        self.search = dict(idle_search())
        self._finder = Finder(self._set_search)
        # Looked up at each send, so a test (or a subclass) may replace `send`.
        self._downloads = Downloads(lambda content, buffers: self.send(content, buffers))
        self._tables: TableView | None = None
        self.catalog = dict(load_catalog(self._client))
        self._request = ExportRequest.from_config(self.config)
        self.validation = self._request.field_errors()
        self.observe(self._on_config, names=["config"])
        self.on_msg(self._on_custom)

    def close(self) -> None:
        """Close the widget; a running export is cancelled (its rows stay readable)."""
        if self._session is not None:
            self._session.cancel()
        super().close()

    def __repr__(self) -> str:
        return f"ExportWidget(state={self.status.get('state')!r}, rows={self.status.get('rows')})"

    # -- Python API -----------------------------------------------------------------------

    @property
    def task(self) -> Any:
        """The ExportTask of the current export (None before the first start)."""
        return self._session.task if self._session else None

    @property
    def session(self) -> ExportSession | None:
        return self._session

    def export_request(self, config: dict[str, Any] | None = None) -> ExportRequest:
        """The form (or `config`) as an export request."""
        request = ExportRequest.from_config(self.config if config is None else config)
        # The same request as the last validated one keeps its errors: validated once.
        return self._request if request == self._request else request

    def export_kwargs(self) -> dict[str, Any]:
        """The form as keyword arguments of `export()` (or of `DataRow.export` for data rows)."""
        return self.export_request().kwargs()

    def export_call(self) -> str:
        """The form as one line of Python calling the export API."""
        return self.export_request().call_text()

    def start(self, config: dict[str, Any] | None = None) -> ExportSession:
        """Start an export of `config` (default: the form's). ValueError names bad fields.

        The `config` trait stays the browser's: `config` does not change it.
        """
        request = self.export_request(config)
        errors = request.field_errors()
        if errors:
            raise ValueError("; ".join(errors.values()))
        with self._lock:
            if self._session is not None and not self._session.finished:
                raise RuntimeError("an export is running; cancel it first")
            # A new export: the search and the tables were about the previous one's rows.
            self._finder.clear()
            if self._tables is not None:
                self._tables.close()
                self._tables = None
            self._session = ExportSession(self._client, request, on_status=self._set_status)
            self._session.start()
            return self._session

    def cancel(self) -> bool:
        return self._session.cancel() if self._session else False

    def resume(self) -> ExportSession:
        """Continue a failed or cancelled export from the first row not yet read."""
        with self._lock:
            if self._session is None:
                raise RuntimeError("no export started")
            self._session.resume()
            return self._session

    def wait(self, timeout: float | None = None) -> Status:
        """Block until the export ends; returns the final status."""
        if self._session is None:
            raise RuntimeError("no export started")
        return self._session.wait(timeout)

    def rows(self, start: int = 0, stop: int | None = None) -> list[Any]:
        """Exported rows [start, stop) as parsed JSON, read from the spool."""
        import orjson

        if self._session is None:
            return []
        spool = self._session.rows
        end = spool.count if stop is None else min(stop, spool.count)
        return [orjson.loads(raw) for raw in spool.iter_bytes(start, end)]

    def errors(self) -> list[Any]:
        import orjson

        if self._session is None:
            return []
        return [orjson.loads(raw) for raw in self._session.errors.iter_bytes()]

    def to_pandas(self) -> Any:
        """All exported rows as a DataFrame, nested fields flattened with dots."""
        import pandas as pd

        return pd.json_normalize(self.rows())

    # -- find, tabulate, save ---------------------------------------------------------------

    def find(self, text: str | None = None, *, sql: str | None = None,
             as_frame: bool = False) -> Any:
        """Line numbers (0-based) of the exported rows that match; see `inspect.query`.

        `text` matches anywhere in a row's JSON, case-insensitively; `sql` is one DuckDB
        query over the tables rows, labels, annotations and classifications that returns a
        `line` column. With `as_frame=True`, the matching rows as a DataFrame (column `line`
        first, nested fields flattened with dots).
        """
        spool = self._rows_spool()
        search = Search(spool, Query(text=text, sql=sql))
        search.advance()
        lines = [int(n) for n in search.matches]
        if not as_frame:
            return lines
        import orjson
        import pandas as pd

        from .inspect.query import rows_at

        frame = pd.json_normalize([orjson.loads(raw) for raw in rows_at(spool, lines)])
        frame.insert(0, "line", lines)
        return frame

    def labels_frame(self, grain: Grain = "label") -> Any:
        """One row per label, annotation or classification answer (the Table tab's table)."""
        return labels_frame(self._rows_spool(), grain)

    def save(self, path: str | pathlib.Path, what: str = "rows", format: str | None = None,
             grain: str = "label", only_matches: bool = False) -> dict[str, int]:
        """Write the export (`rows`), the search box's `matches`, or the `table` to `path`.

        Formats: ndjson (the server's bytes), coco (image rows), csv or parquet (the table);
        by default from the path's suffix. `only_matches` narrows the table to the matches.
        """
        checked_what, checked_format, checked_grain = plan(what, format, path, grain)
        search = self._finder.search
        matches = None
        if checked_what == "matches" or (checked_what == "table" and only_matches):
            if search is None:
                raise ValueError("what: there is no search; run one in the search box first")
            matches = [int(n) for n in search.matches]
        fetch = self.mask_fetcher() if checked_format == "coco" else None
        return write(self._rows_spool(), path, what=checked_what, format=checked_format,
                     grain=checked_grain, matches=matches, fetch_mask=fetch)

    def _rows_spool(self) -> Any:
        if self._session is None:
            raise RuntimeError("no export started")
        return self._session.rows

    # Used by the inspection handlers (inspect_routes.py).

    @property
    def finder(self) -> Finder:
        return self._finder

    @property
    def downloads(self) -> Downloads:
        return self._downloads

    def search_target(self) -> Target | None:
        session = self._session
        if session is None:
            return None
        return Target(session.rows, lambda: session.finished)

    def table_view(self) -> TableView | None:
        with self._lock:
            if self._session is None:
                return None
            if self._tables is None or self._tables.spool is not self._session.rows:
                self._tables = TableView(self._session.rows)
            return self._tables

    def mask_fetcher(self) -> MaskFetcher | None:
        """GETs a mask PNG for COCO. Demo media needs no key; a server whose mask URLs do
        need one is not served yet (see the README's notes on COCO)."""
        import httpx

        def fetch(url: str) -> bytes:
            response = httpx.get(url, timeout=30.0, follow_redirects=True)
            response.raise_for_status()
            return response.content

        return fetch

    # -- kernel side of the protocol ------------------------------------------------------

    def _set_search(self, status: SearchStatus) -> None:
        # Called only from the search worker (and by `clear`): one whole dict per update.
        self.search = dict(status)

    def _set_status(self, status: Status) -> None:
        # Called only from the session's worker thread: one whole dict per update.
        self.status = dict(status)

    def _on_config(self, change: dict[str, Any]) -> None:
        self._request = ExportRequest.from_config(change["new"] or {})
        self.validation = self._request.field_errors()

    def _on_custom(self, _widget: Any, content: Any, _buffers: Any) -> None:
        # The router: `routes.ROUTES` maps each message type to its handler, so a new panel
        # adds one entry there and nothing here. Every reply echoes the request id.
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        request_id = str(content.get("id", ""))
        handler = ROUTES.get(str(kind))
        if handler is None:
            self.send(ErrorReply(type="error", id=request_id, message=f"type: unknown {kind!r}"))
            return
        try:
            reply = handler(self, request_id, content)
        except Exception as exc:
            log.exception("handling %r failed", kind)
            self.send(ErrorReply(type="error", id=request_id,
                                 message=f"{type(exc).__name__}: {exc}"))
            return
        if isinstance(reply, tuple):
            self.send(reply[0], reply[1])
        else:
            self.send(reply)
