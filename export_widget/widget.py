"""ExportWidget: configure an export, watch it run, page through its rows, in a notebook.

State of record, one writer each:
- `config`      written by the browser (the form); read here.
- `status`      written only by the export worker, one whole dict per update.
- `catalog`     written here at construction: what can be exported, with names.
- `validation`  written here on each config change: field -> message.
- `code`        written here on each config change: the form as Python, per flavour.
Start, resume, cancel and page requests come as custom messages with a `type` and an `id`,
answered by the handlers in `routes.py`; every reply echoes the id. Rows never sit in a
trait: pages are read from the session's spool.
"""

from __future__ import annotations

import logging
import pathlib
import threading
import warnings
from typing import Any

import anywidget
import traitlets

from .call_parse import FormWarning, ParsedCall, catalog_notes, parse_export_call
from .call_render import Flavour, render_all, render_code
from .catalog import load_catalog
from .demo import demo_client
from .export_request import ExportRequest
from .messages import ErrorReply, Status, idle_status
from .routes import ROUTES
from .session import ExportSession

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
    code = traitlets.Dict().tag(sync=True)

    def __init__(self, client: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client = client if client is not None else demo_client()
        self._session: ExportSession | None = None
        self._lock = threading.Lock()
        self.status = dict(idle_status())
        self.catalog = dict(load_catalog(self._client))
        self._request = ExportRequest.from_config(self.config)
        self.validation = self._request.field_errors()
        self.code = dict(render_all(self._request, self.endpoint))
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

    # -- kernel side of the protocol ------------------------------------------------------

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
        if isinstance(reply, tuple):
            self.send(reply[0], reply[1])
        else:
            self.send(reply)
