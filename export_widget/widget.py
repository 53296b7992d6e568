"""ExportWidget: configure an export, watch it run, page through its rows, in a notebook.

State of record, one writer each:
- `config`      written by the browser (the form); read here.
- `status`      written only by the export worker, one whole dict per update.
- `catalog`     written here at construction: what can be exported, with names.
- `validation`  written here on each config change: field -> message.
- `code`        written here on each config change: the form as Python, per flavour.
- `selected`    written here: the result line the preview shows (the browser asks with a
                `select` message, Python code calls `select`).
- `search`      written only by the search worker: the search box's query and progress.
Start, resume, cancel and page requests come as custom messages with a `type` and an `id`,
answered by the handlers in `routes.py`; every reply echoes the id. Rows never sit in a
trait: pages are read from the session's spool, and so are searches, tables and saves.

Every export is kept in the history (`history.py`): its spool is a history entry's, so it
survives the kernel; `reopen`, `attach` and `history()` work on those entries.
"""

from __future__ import annotations

import functools
import logging
import pathlib
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import anywidget
import traitlets

from .call_parse import FormWarning, ParsedCall, catalog_notes, parse_export_call
from .call_render import Flavour, render_all, render_code
from .catalog import load_catalog
from .demo import demo_client
from .downloads import Downloads, plan, write
from .export_request import ExportRequest
from .finder import Finder, Target
from .history import Entry, History
from .history_session import HistorySession, StoredExport
from .inspect.formats import LoadMask
from .inspect.query import Query, Search
from .inspect.table import Grain, labels_frame
from .media import MediaFetcher, Preview
from .messages import (
    ErrorReply,
    PreviewReply,
    SearchStatus,
    Status,
    idle_search,
    idle_status,
)
from .preview import PreviewService
from .routes import ROUTES
from .session import ExportSession
from .table_view import TableView

log = logging.getLogger(__name__)
_STATIC = pathlib.Path(__file__).parent / "static"


class _class_or_instance:
    """A method that works on the class (the default history, a new widget) and on a widget
    (that widget's history and client)."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, obj: Any, owner: type) -> Callable[..., Any]:
        return functools.partial(self.func, obj if obj is not None else owner)


class ExportWidget(anywidget.AnyWidget):
    """The export widget. `ExportWidget()` uses the embedded demo workspace;
    `ExportWidget(client)` uses any `export_widget.client.Client`.

    `history` is where exports are kept: a `History`, a directory, or None for the default
    (`$EXPORT_WIDGET_HOME/history`, else the user's cache directory)."""

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    config = traitlets.Dict().tag(sync=True)
    status = traitlets.Dict().tag(sync=True)
    catalog = traitlets.Dict().tag(sync=True)
    validation = traitlets.Dict().tag(sync=True)
    code = traitlets.Dict().tag(sync=True)
    selected = traitlets.Int(None, allow_none=True).tag(sync=True)
    search = traitlets.Dict().tag(sync=True)

    def __init__(self, client: Any = None, *, history: History | str | pathlib.Path | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = client if client is not None else demo_client()
        self._history = history if isinstance(history, History) else History(history)
        self._session: ExportSession | StoredExport | None = None
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
        self.code = dict(render_all(self._request, self.endpoint))
        self._preview: PreviewService | None = None
        self.observe(self._on_config, names=["config"])
        self.on_msg(self._on_custom)

    def close(self) -> None:
        """Close the widget; a running export is cancelled (its rows stay in the history)."""
        if self._session is not None:
            self._session.close()
        if self._preview is not None:
            self._preview.close()
        super().close()

    def __repr__(self) -> str:
        return f"ExportWidget(state={self.status.get('state')!r}, rows={self.status.get('rows')})"

    # -- Python API -----------------------------------------------------------------------

    @property
    def task(self) -> Any:
        """The ExportTask of the current export (None before the first start)."""
        return self._session.task if self._session else None

    @property
    def session(self) -> ExportSession | StoredExport | None:
        return self._session

    @property
    def entry(self) -> Entry | None:
        """The history entry of the current export (or of the one reopened)."""
        session = self._session
        return session.entry if isinstance(session, HistorySession | StoredExport) else None

    def export_request(self, config: Mapping[str, Any] | None = None) -> ExportRequest:
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

    def export_code(self, flavour: Flavour = "client") -> str:
        """The form as a script: this project's client ("client") or the official SDK ("sdk")."""
        return render_code(self.export_request(), flavour, self.endpoint)

    @classmethod
    def from_code(cls, source: str, client: Any = None, **kwargs: Any) -> ExportWidget:
        """A widget whose form holds the export call in `source` (read with `ast`, never run).

        Each part the form cannot express is left out with a `FormWarning` naming it."""
        widget = cls(client, **kwargs)
        parsed = widget.read_code(source)
        widget.config = dict(parsed.config)  # before any view exists, so before the browser
        for note in parsed.notes:
            warnings.warn(note, FormWarning, stacklevel=2)
        return widget

    def read_code(self, source: str) -> ParsedCall:
        """The form config of the export call in `source`, with a note for each part the form
        cannot hold here (ids this workspace lacks included). ValueError: no export call."""
        parsed = parse_export_call(source)
        parsed.notes.extend(catalog_notes(parsed.config, self.catalog))
        return parsed

    def start(self, config: Mapping[str, Any] | None = None) -> ExportSession:
        """Start an export of `config` (default: the form's). ValueError names bad fields.

        The `config` trait stays the browser's: `config` does not change it.
        """
        request = self.export_request(config)
        errors = request.field_errors()
        if errors:
            raise ValueError("; ".join(errors.values()))
        with self._lock:
            self._check_idle()
            entry = self._history.create(
                origin="export", endpoint=self._endpoint(), scope=request.scope,
                target_id=request.target_id, target_name=self._target_name(request),
                task_name=request.task_name, params=request.params, filters=request.filters,
                export_call=request.call_text())
            session = HistorySession(self._client, request, entry, self._history,
                                     on_status=self._set_status)
            self._replace_session(session)
            session.start()
            return session

    def cancel(self) -> bool:
        return self._session.cancel() if self._session else False

    def resume(self) -> ExportSession:
        """Continue a failed or cancelled export from the first row not yet read; for an
        export reopened from history and cut off (a kernel that died), continue its task."""
        with self._lock:
            session = self._session
            if session is None:
                raise RuntimeError("no export started")
            if isinstance(session, StoredExport):
                return self._resume_entry(session.entry)
            session.resume()
            return session

    # -- history --------------------------------------------------------------------------

    @_class_or_instance
    def history(self_or_cls: Any, directory: str | pathlib.Path | None = None) -> Any:
        """The exports kept on disk, newest first, as a DataFrame.

        On a widget: its history; on the class: `directory` or the default one."""
        if isinstance(self_or_cls, ExportWidget) and directory is None:
            return self_or_cls.history_store.frame()
        return History(directory).frame()

    @property
    def history_store(self) -> History:
        """The `History` this widget keeps its exports in."""
        return self._history

    def reopen(self, entry_or_task_id: str | Entry) -> Entry:
        """Show a kept export (by entry id, task id or Entry) as the current one: its rows in
        the viewer and in `rows()`, with no new export. Works after a kernel restart."""
        entry = self._history.get(entry_or_task_id)
        with self._lock:
            self._check_idle()
            current = self.entry
            if current is not None and current.id == entry.id:
                return current
            stored = StoredExport(entry)
            self._replace_session(stored)
            self._show(stored.status)
            return entry

    def resume_entry(self, entry_or_task_id: str | Entry) -> ExportSession:
        """Continue a kept export that was cut off, from the first row it does not hold."""
        entry = self._history.get(entry_or_task_id)
        with self._lock:
            return self._resume_entry(entry)

    @_class_or_instance
    def attach(self_or_cls: Any, task_id: str, client: Any = None,
               history: History | str | pathlib.Path | None = None) -> Any:
        """Read an export task started elsewhere (the SDK, a script, another notebook) into
        a new history entry, live while it runs.

        `ExportWidget.attach(task_id, client)` returns a new widget; `widget.attach(task_id)`
        uses that widget (and its client). ValueError says why a task cannot be read."""
        if isinstance(self_or_cls, ExportWidget):
            self_or_cls.attach_task(task_id)
            return self_or_cls
        widget = self_or_cls(client, history=history)
        widget.attach_task(task_id)
        return widget

    @_class_or_instance
    def compare(self_or_cls: Any, a: Any, b: Any, key: str = "auto") -> Any:
        """The changes from export `a` to export `b` (entry ids, task ids, entries, rows)
        as a DataFrame, one line per change (see `export_widget.inspect.compare`)."""
        from .inspect import compare

        store = _store_of(self_or_cls)
        return compare(_resolve(store, a), _resolve(store, b), key=key)  # type: ignore[arg-type]

    @_class_or_instance
    def model_run_metrics(self_or_cls: Any, entry: Any, iou: float = 0.5,
                          masks: Any = None) -> Any:
        """Predictions against ground truth of a model-run export, matched by IoU: a
        `RunMetrics` of DataFrames (`features`, `confusion`, `matches`). Mask pixels are
        fetched by `masks` (default: a `MaskLoader`, plain HTTP GET of each mask URL)."""
        from .inspect import model_run_metrics
        from .masks import MaskLoader

        store = _store_of(self_or_cls)
        if masks is None:
            masks = (self_or_cls.mask_loader() if isinstance(self_or_cls, ExportWidget)
                     else MaskLoader())
        return model_run_metrics(_resolve(store, entry), iou=iou, masks=masks)

    def attach_task(self, task_id: str) -> HistorySession:
        """This widget reads task `task_id` into a new history entry (see `attach`)."""
        task = _readable_task(self._client, task_id)
        meta = task.metadata if isinstance(task.metadata, dict) else {}
        scope = meta.get("exportScope")
        target = meta.get("targetId")
        request = ExportRequest.from_config({"scope": scope or "catalog", "target_id": target,
                                             "task_name": task.name})
        with self._lock:
            self._check_idle()
            entry = self._history.create(
                origin="attach", task_id=task.uid, endpoint=self._endpoint(), scope=scope,
                target_id=target, target_name=self._target_name(request) if scope else None,
                task_name=task.name,
                export_call=f"ExportTask.get_task(client, {task.uid!r})")
            session = HistorySession(self._client, request, entry, self._history,
                                     on_status=self._set_status, task=task, attached=True)
            self._replace_session(session)
            session.run_existing_task()
            return session

    def _resume_entry(self, entry: Entry) -> ExportSession:
        # Called with self._lock held.
        if entry.state != "incomplete":
            raise RuntimeError(f"history entry {entry.id} is {entry.state}; only an "
                               "incomplete export (cut off by a kernel that stopped) resumes "
                               "this way")
        if entry.task_id is None:
            raise RuntimeError(f"history entry {entry.id} was cut off before its task was "
                               "created; start a new export")
        endpoint = entry.manifest["endpoint"]
        if endpoint and endpoint != self._endpoint():
            raise RuntimeError(f"history entry {entry.id} was exported from {endpoint}; this "
                               f"widget's client talks to {self._endpoint()}")
        from .client.errors import ResourceNotFoundError
        from .client.task import ExportTask

        try:
            task = ExportTask.get_task(self._client, entry.task_id)
        except ResourceNotFoundError:
            raise RuntimeError(f"task {entry.task_id}: the server no longer has it (a demo "
                               "server's tasks go with its kernel); start a new export") from None
        m = entry.manifest
        request = ExportRequest.from_config({
            "scope": m["scope"], "target_id": m["target_id"], "task_name": m["task_name"],
            "params": m["params"], "filters": m["filters"]})
        self._check_idle()
        fresh = self._history.get(entry.id)
        session = HistorySession(self._client, request, fresh, self._history,
                                 on_status=self._set_status, task=task,
                                 attached=m["origin"] == "attach")
        fresh.reopen_for_resume()
        self._replace_session(session)
        session.run_existing_task()
        return session

    def _check_idle(self) -> None:
        if self._session is not None and not self._session.finished:
            raise RuntimeError("an export is running; cancel it first")

    def _replace_session(self, session: ExportSession | StoredExport) -> None:
        # The old session lets go of its entry; the entry stays in the history.
        if self._session is not None:
            self._session.close()
        # The search and the tables were about the previous rows.
        self._finder.clear()
        if self._tables is not None:
            self._tables.close()
            self._tables = None
        self._session = session
        self.selected = None  # lines of the previous export mean nothing in this one

    def _show(self, status: Status) -> None:
        # "queued" with no rows makes the viewer start over, as for a new export.
        self.status = {**idle_status(), "state": "queued", "seq": self.status.get("seq", 0) + 1,
                       "message": "Opening from history…"}
        self.status = {**status, "seq": self.status["seq"] + 1}

    def _endpoint(self) -> str | None:
        endpoint = getattr(self._client, "endpoint", None)
        return str(endpoint) if endpoint else None

    def _target_name(self, request: ExportRequest) -> str | None:
        lists = {"project": "projects", "dataset": "datasets", "slice": "slices",
                 "model_run": "model_runs"}
        key = lists.get(request.scope)
        if key is None:
            return "Catalog" if request.scope == "catalog" else None
        for item in self.catalog.get(key) or []:
            if item.get("id") == request.target_id:
                model = item.get("model_name")
                return f"{model} / {item['name']}" if model else str(item["name"])
        return None

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

    def select(self, line: int) -> None:
        """Show result line `line` (0-based, as in `rows()`) in the preview panel."""
        count = self._session.rows.count if self._session else 0
        if not 0 <= line < count:
            raise ValueError(f"line: must be between 0 and {count - 1}, got {line}"
                             if count else f"line: there are no rows yet, got {line}")
        self.selected = line

    def preview(self, line: int | None = None) -> Preview | None:
        """What the preview draws for result line `line` (default: the selected one): the
        shapes (kind, feature, coordinates, layer, accessible name, IoU of predictions), the
        classifications, the legend and the media's facts, as the browser gets them."""
        if line is None:
            line = self.selected
        if line is None:
            return None
        return self.preview_service.preview(line)

    @property
    def preview_service(self) -> PreviewService:
        if self._preview is None:
            self._preview = PreviewService(
                self._row_at, self._send_preview,
                MediaFetcher(headers_for=self._credentials_for))
        return self._preview

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
        load_mask = self.mask_loader() if checked_format == "coco" else None
        return write(self._rows_spool(), path, what=checked_what, format=checked_format,
                     grain=checked_grain, matches=matches, load_mask=load_mask)

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

    def mask_loader(self) -> LoadMask | None:
        """Mask pixels for COCO and metrics, fetched from their URLs (`masks.MaskLoader`),
        with the API key for URLs on the client's own server (Labelbox's composite masks)."""
        from .masks import MaskLoader

        return MaskLoader(headers_for=self._credentials_for)

    def _credentials_for(self, url: str) -> dict[str, str]:
        # Any client works in the widget; only ours knows which URLs may carry its key.
        credentials = getattr(self._client, "credentials_for", None)
        return dict(credentials(url)) if callable(credentials) else {}

    # -- kernel side of the protocol ------------------------------------------------------

    def _row_at(self, line: int) -> dict[str, Any] | None:
        import orjson

        if self._session is None or not 0 <= line < self._session.rows.count:
            return None
        for raw in self._session.rows.iter_bytes(line, line + 1):
            row: dict[str, Any] = orjson.loads(raw)
            return row
        return None

    def _send_preview(self, reply: PreviewReply, buffers: list[bytes]) -> None:
        # Called from the preview worker thread (ipykernel!=7.0.* sends from threads).
        self.send(reply, buffers)

    def _set_search(self, status: SearchStatus) -> None:
        # Called only from the search worker (and by `clear`): one whole dict per update.
        self.search = dict(status)

    def _set_status(self, status: Status) -> None:
        # Called only from the session's worker thread: one whole dict per update.
        self.status = dict(status)

    def _on_config(self, change: dict[str, Any]) -> None:
        self._request = ExportRequest.from_config(change["new"] or {})
        self.validation = self._request.field_errors()
        self.code = dict(render_all(self._request, self.endpoint))

    @property
    def endpoint(self) -> str | None:
        """The GraphQL endpoint of the widget's client, as the code flavours name it."""
        endpoint = getattr(self._client, "endpoint", None)
        return str(endpoint) if endpoint else None

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
        if reply is None:
            return  # the handler's worker sends the reply
        if isinstance(reply, tuple):
            self.send(reply[0], reply[1])
        else:
            self.send(reply)


def _store_of(self_or_cls: Any) -> History:
    return self_or_cls.history_store if isinstance(self_or_cls, ExportWidget) else History()


def _resolve(store: History, source: Any) -> Any:
    """An entry id or task id names a kept export; anything else is rows as they are."""
    if isinstance(source, str) and not source.endswith((".ndjson", ".jsonl", ".json")):
        return store.get(source)
    return source


def _readable_task(client: Any, task_id: str) -> Any:
    """The export task `task_id`, or a ValueError that says why it cannot be read."""
    from .client.errors import ResourceNotFoundError
    from .client.task import ExportTask

    task_id = str(task_id or "").strip()
    if not task_id:
        raise ValueError("task_id: paste the id of an export task")
    try:
        task = ExportTask.get_task(client, task_id)
    except ResourceNotFoundError:
        endpoint = getattr(client, "endpoint", "the server")
        raise ValueError(f"task_id: no task {task_id!r} on {endpoint} for this API key") \
            from None
    kind = task.type
    if kind and kind != "export-data-rows":
        raise ValueError(f"task_id: task {task_id} is a {kind!r} task, not an export "
                         "(export-data-rows); there are no rows to read")
    if task.status == "FAILED":
        reason = ""
        if isinstance(task.metadata, dict) and task.metadata.get("errorMessage"):
            reason = f": {task.metadata['errorMessage']}"
        raise ValueError(f"task_id: task {task_id} failed on the server{reason}; it has no "
                         "rows to read")
    if task.status in ("CANCELED", "CANCELLING"):
        raise ValueError(f"task_id: task {task_id} was cancelled on the server; start a new "
                         "export instead")
    return task
