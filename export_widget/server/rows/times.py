"""Timestamp formats: stored integer milliseconds (UTC) to the strings clients read."""

from __future__ import annotations

from datetime import UTC, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_to_row_time(ms: int) -> str:
    """Row JSON style, as in real exports: `2023-03-15T14:46:58.000+00:00`."""
    secs, milli = divmod(ms, 1000)
    return f"{datetime.fromtimestamp(secs, UTC):%Y-%m-%dT%H:%M:%S}.{milli:03d}+00:00"


def ms_to_gql_time(ms: int) -> str:
    """GraphQL DateTime style the SDK parses: `2024-01-01T00:00:00.000Z`."""
    secs, milli = divmod(ms, 1000)
    return f"{datetime.fromtimestamp(secs, UTC):%Y-%m-%dT%H:%M:%S}.{milli:03d}Z"


def datetime_to_ms(value: datetime) -> int:
    """An aware datetime to epoch milliseconds."""
    return int((value - _EPOCH).total_seconds() * 1000)
