"""The kernel's answers to the inspection panels: the search box, the Table tab and Save.

Each handler returns at once: a search, a table build and a download run in workers
(`finder.py`, `table_view.py`, `downloads.py`) and report through the `search` trait, the
next table page, or pushed `save_piece` messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from .downloads import EXTENSION, Downloads, plan, write
from .finder import Finder, Target
from .inspect.formats import LoadMask
from .inspect.query import Query, QueryError
from .inspect.table import Grain
from .messages import PAGE_LINES_MAX, FindReply, MatchPage, SaveReply, TablePage
from .spool import Spool
from .table_view import TableView


class Inspected(Protocol):
    """What these handlers use of the widget."""

    @property
    def finder(self) -> Finder: ...

    @property
    def downloads(self) -> Downloads: ...

    def search_target(self) -> Target | None: ...

    def table_view(self) -> TableView | None: ...

    def mask_loader(self) -> LoadMask | None: ...


def find(widget: Inspected, request_id: str, message: Mapping[str, Any]) -> FindReply:
    kind = message.get("kind")
    text = str(message.get("query", ""))
    target = widget.search_target()
    try:
        if kind not in ("text", "sql"):
            raise QueryError(f"kind: must be text or sql, got {kind!r}")
        query = Query(text=text) if kind == "text" else Query(sql=text)
        if target is None:
            raise QueryError("query: there are no rows to search yet; start an export")
        status = widget.finder.start(target, query)
    except QueryError as exc:
        return FindReply(type="find", id=request_id, ok=False, message=str(exc), search_id="")
    return FindReply(type="find", id=request_id, ok=True, message="", search_id=status["id"])


def find_cancel(widget: Inspected, request_id: str, _message: Mapping[str, Any]) -> FindReply:
    ok = widget.finder.cancel()
    return FindReply(type="find", id=request_id, ok=ok,
                     message="" if ok else "No search is running.",
                     search_id=widget.finder.status["id"])


def find_clear(widget: Inspected, request_id: str, _message: Mapping[str, Any]) -> FindReply:
    widget.finder.clear()
    return FindReply(type="find", id=request_id, ok=True, message="", search_id="")


def match_page(widget: Inspected, request_id: str, message: Mapping[str, Any]) -> MatchPage:
    """A page of matching rows: from the `index`-th match, or from the first match at or
    after `line` (go to line while the viewer shows matches)."""
    search = widget.finder.search
    target = widget.search_target()
    count = max(0, min(int(message.get("n", 50)), PAGE_LINES_MAX))
    if search is None or target is None:
        return MatchPage(type="match_page", id=request_id, search_id="", index=0, matches=0,
                         total=0, numbers=[], lines=[])
    line = message.get("line")
    index = search.index_of(int(line)) if line is not None else max(0, int(message.get("index",
                                                                                        0)))
    numbers = search.page(index, count)
    texts = [raw.decode("utf-8") for raw in _rows_at(target.spool, numbers)]
    return MatchPage(type="match_page", id=request_id, search_id=widget.finder.status["id"],
                     index=index, matches=search.count, total=target.spool.count,
                     numbers=numbers, lines=texts)


def _rows_at(spool: Spool, numbers: list[int]) -> list[bytes]:
    # Matches are sorted; neighbours often sit together, so read runs of lines at once.
    out: list[bytes] = []
    start = 0
    while start < len(numbers):
        stop = start + 1
        while stop < len(numbers) and numbers[stop] == numbers[stop - 1] + 1:
            stop += 1
        out += spool.page_bytes(numbers[start], stop - start)
        start = stop
    return out


def table_page(widget: Inspected, request_id: str, message: Mapping[str, Any]) -> TablePage:
    view = widget.table_view()
    grain = str(message.get("grain", "label"))
    filters = message.get("filters") or {}
    if not isinstance(filters, Mapping):
        raise ValueError("filters: must be an object of column -> text")
    if view is None:
        raise ValueError("table: there are no rows yet; start an export")
    page = view.page(grain,  # type: ignore[arg-type]
                     offset=int(message.get("offset", 0)), count=int(message.get("n", 50)),
                     sort=message.get("sort") or None, descending=bool(message.get("descending")),
                     filters={str(k): str(v) for k, v in filters.items()},
                     rebuild=bool(message.get("rebuild")))
    page["id"] = request_id
    return page


def save(widget: Inspected, request_id: str, message: Mapping[str, Any]) -> SaveReply:
    target = widget.search_target()
    try:
        what, format, grain = plan(str(message.get("what", "rows")), message.get("format"),
                                   grain=str(message.get("grain", "label")))
        if target is None:
            raise ValueError("save: there are no rows yet; start an export")
        matches = _matches_for(widget, what, bool(message.get("only_matches")))
    except ValueError as exc:
        return SaveReply(type="save", id=request_id, ok=False, message=str(exc), save_id="",
                         name="")
    name = _file_name(what, format, grain)
    load_mask = widget.mask_loader() if format == "coco" else None
    spool = target.spool

    def job(path: Path) -> dict[str, int]:
        return write(spool, path, what=what, format=format, grain=grain, matches=matches,
                     load_mask=load_mask)

    save_id = widget.downloads.start(job, name, format, request_id)
    return SaveReply(type="save", id=request_id, ok=True, message="", save_id=save_id,
                     name=name)


def _matches_for(widget: Inspected, what: str, only_matches: bool) -> list[int] | None:
    if what != "matches" and not (what == "table" and only_matches):
        return None
    search = widget.finder.search
    if search is None:
        raise ValueError("what: there is no search; type one in the search box first")
    return [int(n) for n in search.matches]


def _file_name(what: str, format: str, grain: Grain) -> str:
    stem = {"rows": "export", "matches": "matches", "table": f"{grain}s"}[what]
    return stem + EXTENSION[format]


ROUTES = {
    "find": find,
    "find_cancel": find_cancel,
    "find_clear": find_clear,
    "match_page": match_page,
    "table_page": table_page,
    "save": save,
}
