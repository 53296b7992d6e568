"""The kernel's answers to the History and Compare panels (`js/src/history.ts`, `compare.ts`).

Each handler takes the widget, the request id and the message, like those in `routes.py`.
Comparisons are computed once per pair of entries and kept until another pair is asked for,
so paging through the changed rows and opening one reads only the spools.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .messages import (
    Change,
    ComparePageReply,
    CompareReply,
    CompareRow,
    CompareRowReply,
    CompareSummary,
    Confusion,
    FeatureMetrics,
    HistoryAck,
    HistoryListReply,
    MetricsReply,
)

if TYPE_CHECKING:
    from .history import Entry, History
    from .inspect.compare import Comparison

COMPARE_PAGE_MAX = 200


class HistoryHost(Protocol):
    """What these handlers use of `ExportWidget` (so this module need not import it)."""

    @property
    def session(self) -> Any: ...

    @property
    def entry(self) -> Entry | None: ...

    @property
    def history_store(self) -> History: ...

    def reopen(self, entry_or_task_id: str) -> Entry: ...

    def resume_entry(self, entry_or_task_id: str) -> Any: ...

    def attach_task(self, task_id: str) -> Any: ...

    def model_run_metrics(self, entry: Any, iou: float = 0.5, masks: Any = None) -> Any: ...


# The last comparison each widget asked for: paging and opening rows reuse it.
_COMPARISONS: weakref.WeakKeyDictionary[Any, tuple[tuple[str, str], Comparison]] = \
    weakref.WeakKeyDictionary()


def history_list(widget: HistoryHost, request_id: str,
                 _message: Mapping[str, Any]) -> HistoryListReply:
    store = widget.history_store
    current = widget.entry
    return HistoryListReply(type="history_list", id=request_id, entries=store.summaries(),
                            current=current.id if current else None,
                            disk_bytes=store.disk_usage(), directory=str(store.directory),
                            max_entries=store.max_entries, max_bytes=store.max_bytes)


AckHandler = Callable[["HistoryHost", str, Mapping[str, Any]], HistoryAck]


def _refusals(action: str) -> Callable[[AckHandler], AckHandler]:
    """Turn a refusal (bad id, a running export, a task that cannot be read) into an ack
    that says why, shown next to the button that asked."""

    def wrap(handler: AckHandler) -> AckHandler:
        def run(widget: HistoryHost, request_id: str, message: Mapping[str, Any]) -> HistoryAck:
            try:
                return handler(widget, request_id, message)
            except (ValueError, RuntimeError, KeyError) as exc:
                text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
                return _ack(request_id, action, False, str(text))

        return run

    return wrap


@_refusals("history_open")
def history_open(widget: HistoryHost, request_id: str,
                 message: Mapping[str, Any]) -> HistoryAck:
    entry = widget.reopen(_entry_id(message))
    rows = entry.summary()["rows"]
    return _ack(request_id, "history_open", True,
                f"Showing the export of {entry.manifest['started_at']}: {rows:,} rows.")


@_refusals("history_delete")
def history_delete(widget: HistoryHost, request_id: str,
                   message: Mapping[str, Any]) -> HistoryAck:
    entry_id = _entry_id(message)
    current = widget.entry
    session = widget.session
    if current is not None and current.id == entry_id and session and not session.finished:
        return _ack(request_id, "history_delete", False,
                    "This export is still running; cancel it first.")
    widget.history_store.delete(entry_id)
    return _ack(request_id, "history_delete", True, "Deleted.")


@_refusals("history_resume")
def history_resume(widget: HistoryHost, request_id: str,
                   message: Mapping[str, Any]) -> HistoryAck:
    session = widget.resume_entry(_entry_id(message))
    return _ack(request_id, "history_resume", True,
                f"Resuming task {session.task.uid} at row {session.rows.count + 1:,}.")


@_refusals("attach")
def attach(widget: HistoryHost, request_id: str, message: Mapping[str, Any]) -> HistoryAck:
    task_id = str(message.get("task_id") or "").strip()
    widget.attach_task(task_id)
    return _ack(request_id, "attach", True,
                f"Attached to task {task_id}: its rows go to a new history entry.")


def compare(widget: HistoryHost, request_id: str, message: Mapping[str, Any]) -> CompareReply:
    a, b = _pair(message)
    result = _comparison(widget, a, b)
    s = result.summary()
    summary = CompareSummary(key=s["key"], rows_a=s["rows_a"], rows_b=s["rows_b"],
                             changed_rows=s["changed_rows"], unchanged_rows=s["unchanged_rows"],
                             only_in_a=s["only_in_a"], only_in_b=s["only_in_b"],
                             counts=s["counts"])
    store = widget.history_store
    return CompareReply(type="compare", id=request_id, a=a, b=b,
                        a_label=_label(store.get(a)), b_label=_label(store.get(b)),
                        summary=summary)


def compare_page(widget: HistoryHost, request_id: str,
                 message: Mapping[str, Any]) -> ComparePageReply:
    a, b = _pair(message)
    rows = _comparison(widget, a, b).rows
    kind = message.get("kind")
    if kind:
        rows = rows[rows["kinds"].str.split(", ").apply(lambda ks: str(kind) in ks)]
    line = max(0, int(message.get("line", 0)))
    n = max(0, min(int(message.get("n", 25)), COMPARE_PAGE_MAX))
    page = [CompareRow(**r) for r in _records(rows.iloc[line:line + n])]  # type: ignore[typeddict-item]
    return ComparePageReply(type="compare_page", id=request_id, line=line, total=len(rows),
                            rows=page)


def compare_row(widget: HistoryHost, request_id: str,
                message: Mapping[str, Any]) -> CompareRowReply:
    a, b = _pair(message)
    key = str(message.get("key") or "")
    changes = _comparison(widget, a, b).changes
    mine = changes[changes["key"] == key]
    if mine.empty:
        raise ValueError(f"key: row {key!r} did not change between these exports")
    fields = list(Change.__annotations__)
    listed = [Change(**{f: r[f] for f in fields}) for r in _records(mine)]  # type: ignore[typeddict-item]
    first = mine.iloc[0]
    store = widget.history_store
    return CompareRowReply(type="compare_row", id=request_id, key=key, changes=listed,
                           row_a=_line(store.get(a), first["line_a"]),
                           row_b=_line(store.get(b), first["line_b"]))


def metrics(widget: HistoryHost, request_id: str, message: Mapping[str, Any]) -> MetricsReply:
    entry_id = _entry_id(message)
    iou = float(message.get("iou", 0.5))
    result = widget.model_run_metrics(entry_id, iou=iou)
    features = [FeatureMetrics(**r) for r in _records(result.features)]  # type: ignore[typeddict-item]
    frame = result.confusion
    confusion = Confusion(truth=[str(x) for x in frame.index],
                          predicted=[str(x) for x in frame.columns],
                          counts=[[int(v) for v in row] for row in frame.to_numpy()])
    return MetricsReply(type="metrics", id=request_id, entry=entry_id, iou=result.iou,
                        features=features, confusion=confusion, skipped=result.skipped)


# -- helpers ------------------------------------------------------------------------------


def _ack(request_id: str, action: Any, ok: bool, text: str) -> HistoryAck:
    return HistoryAck(type="ack", id=request_id, action=action, ok=ok, message=text)


def _entry_id(message: Mapping[str, Any]) -> str:
    entry = str(message.get("entry") or "").strip()
    if not entry:
        raise ValueError("entry: the id of a history entry is required")
    return entry


def _pair(message: Mapping[str, Any]) -> tuple[str, str]:
    a, b = str(message.get("a") or ""), str(message.get("b") or "")
    if not a or not b:
        raise ValueError("a, b: two history entries to compare are required")
    if a == b:
        raise ValueError("b: pick another export than A to compare with")
    return a, b


def _comparison(widget: HistoryHost, a: str, b: str) -> Comparison:
    from .inspect import compare_exports

    cached = _COMPARISONS.get(widget)
    if cached is not None and cached[0] == (a, b):
        return cached[1]
    store = widget.history_store
    result = compare_exports(store.get(a), store.get(b))
    _COMPARISONS[widget] = ((a, b), result)
    return result


def _label(entry: Entry) -> str:
    m = entry.manifest
    what = m["target_name"] or m["scope"] or "task"
    return f"{what}, {m['started_at'][:16].replace('T', ' ')}"


def _line(entry: Entry, line: Any) -> str | None:
    if line is None or line != line:  # None or NaN / pd.NA
        return None
    try:
        raw = entry.rows.page_bytes(int(line), 1)
    except (TypeError, ValueError):
        return None
    return raw[0].decode("utf-8") if raw else None


def _records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as plain JSON values: NaN and NA become None, numpy numbers Python's."""
    return list(json.loads(frame.to_json(orient="records")))


ROUTES = {
    "history_list": history_list,
    "history_open": history_open,
    "history_delete": history_delete,
    "history_resume": history_resume,
    "attach": attach,
    "compare": compare,
    "compare_page": compare_page,
    "compare_row": compare_row,
    "metrics": metrics,
}
