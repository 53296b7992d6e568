"""Translate validated filters into the wire `searchQuery.query` items (spec 3.2).

Two deliberate departures from the SDK: an ISO date's UTC offset is honoured (the SDK
replaces it with +0000 and keeps the wall time), and the user's timezone is asked for once
per export rather than once per date filter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from .validation import DATE_FILTERS, ID_FILTERS, ISO_FORMAT, parse_date

_DATE_TYPES = {"last_activity_at": "data_row_last_activity_at", "label_created_at": "labeled_at"}


def search_query(filters: Mapping[str, Any] | None,
                 timezone: Callable[[], str]) -> list[dict[str, Any]]:
    """The query items for `filters`, in the SDK's order. `timezone` is called at most once."""
    given = filters or {}
    items: list[dict[str, Any]] = []
    cached: list[str] = []

    def tz() -> str:
        if not cached:
            cached.append(timezone())
        return cached[0]

    for key in DATE_FILTERS:
        value = given.get(key)
        if value:
            item = _date_item(_DATE_TYPES[key], value[0], value[1], tz)
            if item:
                items.append(item)
    for key, type_name in ID_FILTERS.items():
        ids = given.get(key)
        if ids is not None:
            items.append({"ids": list(ids), "operator": "is", "type": type_name})
    status = given.get("workflow_status")
    if status == "ToLabel":
        items.append({"type": "task_queue_not_exist"})
    elif status:
        items.append({"type": "task_queue_status", "status": status})
    return items


def to_utc_iso(value: str) -> str | None:
    """An ISO value converted to UTC (`+0000`), or None for the two naive formats."""
    try:
        moment = parse_date(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).strftime(ISO_FORMAT)


def _date_item(type_name: str, start: str | None, end: str | None,
               tz: Callable[[], str]) -> dict[str, Any] | None:
    start = start or None
    end = end or None
    timezone = tz()  # the SDK asks even for [None, None]
    if start is None and end is None:
        return None
    bounds = []
    for bound in (start, end):
        iso = to_utc_iso(bound) if bound is not None else None
        if iso is not None:
            timezone = "UTC"  # any ISO bound makes the whole item UTC, as in the SDK
        bounds.append(iso if iso is not None else bound)
    lo, hi = bounds
    if lo is not None and hi is not None:
        value: dict[str, Any] = {"operator": "BETWEEN", "timezone": timezone,
                                 "value": {"min": lo, "max": hi}}
    elif lo is not None:
        value = {"operator": "GREATER_THAN_OR_EQUAL", "timezone": timezone, "value": lo}
    else:
        value = {"operator": "LESS_THAN_OR_EQUAL", "timezone": timezone, "value": hi}
    return {"type": type_name, "value": value}
