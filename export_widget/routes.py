"""The kernel's answers to the browser's custom messages: one handler per message `type`.

A handler gets the widget (as the `Exporter` it needs), the request id and the message, and
returns its reply (or a `(reply, buffers)` pair for binary data); the widget's router sends
it. A handler whose work takes time (the preview fetches media) hands it to a worker and
returns None: the worker sends the reply. A new panel adds its handler in its own module and
one entry to `ROUTES`, and the reply's TypedDict to `messages.py` (mirrored in
`js/src/types.ts`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from . import history_routes, inspect_routes, preview_routes
from .code_panel import read_code
from .messages import (
    PAGE_LINES_MAX,
    ActionReply,
    PageReply,
    PageRequest,
    StartRequest,
    StreamName,
)
from .session import ExportSession


class Exporter(Protocol):
    """What the handlers use of `ExportWidget` (so this module need not import it)."""

    @property
    def session(self) -> ExportSession | None: ...

    def start(self, config: Mapping[str, Any] | None = None) -> ExportSession: ...

    def resume(self) -> ExportSession: ...

    def cancel(self) -> bool: ...


Reply = Mapping[str, object] | tuple[Mapping[str, object], list[bytes]] | None
# The message is typed per handler (its TypedDict in messages.py), but it comes from the
# browser unchecked: a handler reads it defensively.
Handler = Callable[[Exporter, str, Any], Reply]


def start(widget: Exporter, request_id: str, message: StartRequest) -> ActionReply:
    # The browser sends its form with the start message (a trait sync may still be held back
    # by ipywidgets), so the config in the message wins.
    config = message.get("config")
    try:
        widget.start(config if isinstance(config, dict) else None)
    except (ValueError, RuntimeError) as exc:
        return ActionReply(type="ack", id=request_id, action="start", ok=False, message=str(exc))
    return ActionReply(type="ack", id=request_id, action="start", ok=True, message="")


def resume(widget: Exporter, request_id: str, _message: object) -> ActionReply:
    try:
        widget.resume()
    except RuntimeError as exc:
        return ActionReply(type="ack", id=request_id, action="resume", ok=False,
                           message=str(exc))
    return ActionReply(type="ack", id=request_id, action="resume", ok=True, message="")


def cancel(widget: Exporter, request_id: str, _message: object) -> ActionReply:
    ok = widget.cancel()
    return ActionReply(type="ack", id=request_id, action="cancel", ok=ok,
                       message="" if ok else "No export is running.")


def page(widget: Exporter, request_id: str, message: PageRequest) -> PageReply:
    stream: StreamName = "errors" if message.get("stream") == "errors" else "result"
    line = max(0, int(message.get("line", 0)))
    count = max(0, min(int(message.get("n", 50)), PAGE_LINES_MAX))
    session = widget.session
    total, lines = session.page(stream, line, count) if session else (0, [])
    return PageReply(type="page", id=request_id, stream=stream, line=line, total=total,
                     lines=lines)


# Message type -> handler. A new panel is one line here.
ROUTES: dict[str, Handler] = {
    "start": start,
    "resume": resume,
    "cancel": cancel,
    "page": page,
}
# The History and Compare panels; the widget is both an Exporter and a HistoryHost.
ROUTES.update(cast("dict[str, Handler]", history_routes.ROUTES))
# The Code panel; the widget is also a CodeReader (code_panel.py).
ROUTES["code"] = cast("Handler", read_code)
# Find, Table and Save; the widget is also `inspect_routes.Inspected`.
ROUTES.update(cast("dict[str, Handler]", inspect_routes.ROUTES))
# The Preview panel; the widget is a PreviewHost too.
ROUTES.update(cast("dict[str, Handler]", preview_routes.ROUTES))
