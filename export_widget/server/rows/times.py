"""Timestamp formats: stored integer milliseconds (UTC) to the strings clients read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_MS = 86_400_000
# Date part per day number: exports format millions of timestamps, and strftime per value
# was the row builder's top cost.
_DAYS: dict[int, str] = {}


def _day(days: int) -> str:
    text = _DAYS.get(days)
    if text is None:
        text = (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%d")
        if len(_DAYS) < 100_000:
            _DAYS[days] = text
    return text


_HMS = [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}." for s in range(86_400)]
_MILLI = [f"{m:03d}" for m in range(1000)]


def _clock(ms: int) -> str:
    days, rest = divmod(ms, _DAY_MS)
    secs, milli = divmod(rest, 1000)
    day = _DAYS.get(days) or _day(days)
    return day + _HMS[secs] + _MILLI[milli]


def ms_to_row_time(ms: int) -> str:
    """Row JSON style, as in real exports: `2023-03-15T14:46:58.000+00:00`."""
    days, rest = divmod(ms, _DAY_MS)
    secs, milli = divmod(rest, 1000)
    day = _DAYS.get(days) or _day(days)
    return day + _HMS[secs] + _MILLI[milli] + "+00:00"


def ms_to_gql_time(ms: int) -> str:
    """GraphQL DateTime style the SDK parses: `2024-01-01T00:00:00.000Z`."""
    return _clock(ms) + "Z"


def datetime_to_ms(value: datetime) -> int:
    """An aware datetime to epoch milliseconds."""
    return int((value - _EPOCH).total_seconds() * 1000)
