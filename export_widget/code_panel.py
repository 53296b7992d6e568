"""The kernel's side of the Code panel: pasted source in, the form config it holds out.

The `code` trait (the form as Python) is written by the widget on each config change; this
handler only reads code. The browser applies the returned config to its form, so `config`
keeps one writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .call_parse import ParsedCall
from .call_render import render_all
from .export_request import ExportRequest
from .messages import CodeReply, CodeTexts


class CodeReader(Protocol):
    """What the handler needs of the widget (a Protocol, so this module never imports it)."""

    @property
    def endpoint(self) -> str | None: ...

    def read_code(self, source: str) -> ParsedCall: ...

MAX_SOURCE = 200_000  # characters; a pasted notebook, not a data file


def read_code(widget: CodeReader, request_id: str, message: Mapping[str, Any]) -> CodeReply:
    source = message.get("source")
    empty = CodeTexts(client="", sdk="")
    if not isinstance(source, str):
        return CodeReply(type="code", id=request_id, ok=False, config=None, notes=[],
                         code=empty, message="source: expects the code as a string")
    if len(source) > MAX_SOURCE:
        return CodeReply(type="code", id=request_id, ok=False, config=None, notes=[],
                         code=empty, message=f"source: at most {MAX_SOURCE:,} characters, "
                         f"got {len(source):,}")
    try:
        parsed = widget.read_code(source)
    except ValueError as exc:
        return CodeReply(type="code", id=request_id, ok=False, config=None, notes=[],
                         code=empty, message=str(exc))
    code = render_all(ExportRequest.from_config(parsed.config), widget.endpoint)
    return CodeReply(type="code", id=request_id, ok=True, config=parsed.config,
                     notes=parsed.notes, code=code, message="")
