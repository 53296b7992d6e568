"""The kernel's answers to the Preview panel (`js/src/preview.ts`): select and preview.

`select` moves the widget's `selected` line (the one selection every panel follows);
`preview` hands the row to the preview worker, which sends the reply with the media's bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .messages import PreviewRequest, SelectReply, SelectRequest

if TYPE_CHECKING:
    from .preview import PreviewService


class PreviewHost(Protocol):
    """What these handlers use of `ExportWidget` (so this module need not import it)."""

    @property
    def selected(self) -> int | None: ...

    def select(self, line: int) -> None: ...

    @property
    def preview_service(self) -> PreviewService: ...


def _line(message: Mapping[str, Any]) -> int:
    line = message.get("line")
    if not isinstance(line, int) or isinstance(line, bool):
        raise ValueError(f"line: must be an integer, got {line!r}")
    return line


def select(widget: PreviewHost, request_id: str, message: SelectRequest) -> SelectReply:
    line = _line(message)
    try:
        widget.select(line)
    except ValueError as exc:
        return SelectReply(type="select", id=request_id, line=widget.selected, ok=False,
                           message=str(exc))
    return SelectReply(type="select", id=request_id, line=line, ok=True, message="")


def preview(widget: PreviewHost, request_id: str, message: PreviewRequest) -> None:
    widget.preview_service.request(request_id, max(0, _line(message)))


ROUTES: dict[str, Callable[[PreviewHost, str, Any], Any]] = {
    "select": select,
    "preview": preview,
}
