"""Filter dates: the three formats, time zones, operators."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from export_widget.server.selection import parse_time, time_range


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


def test_date_only_is_midnight_in_the_given_zone() -> None:
    assert parse_time("2024-01-01", "UTC", "f") == ms(2024, 1, 1)
    assert parse_time("2024-01-01", "America/New_York", "f") == ms(2024, 1, 1, 5)
    assert parse_time("2024-07-01", "America/New_York", "f") == ms(2024, 7, 1, 4)  # DST


def test_date_time_is_wall_time_in_the_given_zone() -> None:
    assert parse_time("2024-03-10 12:30:15", "Asia/Tokyo", "f") == ms(2024, 3, 10, 3, 30, 15)
    assert parse_time("2024-03-10 12:30:15", None, "f") == ms(2024, 3, 10, 12, 30, 15)


@pytest.mark.parametrize("value", ["2024-01-01T05:30:00+0530", "2024-01-01T05:30:00+05:30",
                                   "2024-01-01T00:00:00Z", "2024-01-01T00:00:00+0000"])
def test_iso_values_use_their_own_offset(value: str) -> None:
    assert parse_time(value, "America/New_York", "f") == ms(2024, 1, 1)


@pytest.mark.parametrize("value", ["2024-13-01", "01/02/2024", "yesterday", "2024-1-1 5pm"])
def test_bad_dates_name_the_field_and_the_formats(value: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_time(value, "UTC", "searchQuery.query[0] (labeled_at)")
    assert str(err.value).startswith(
        f"searchQuery.query[0] (labeled_at): Incorrect format for: {value}.")
    assert "YYYY-MM-DD hh:mm:ss" in str(err.value)


def test_unknown_timezone_is_an_error() -> None:
    with pytest.raises(ValueError, match="f: unknown timezone 'Mars/Olympus'"):
        parse_time("2024-01-01", "Mars/Olympus", "f")


def test_operators_give_open_or_closed_ranges() -> None:
    between = {"value": {"operator": "BETWEEN", "timezone": "UTC",
                         "value": {"min": "2024-01-01", "max": "2024-02-01"}}}
    assert time_range(between, None, "f") == (ms(2024, 1, 1), ms(2024, 2, 1))
    gte = {"value": {"operator": "GREATER_THAN_OR_EQUAL", "value": "2024-01-01"}}
    assert time_range(gte, "UTC", "f") == (ms(2024, 1, 1), None)
    lte = {"value": {"operator": "LESS_THAN_OR_EQUAL", "value": "2024-01-01"}}
    assert time_range(lte, "Asia/Tokyo", "f") == (None, ms(2023, 12, 31, 15))
    with pytest.raises(ValueError, match=r"f\.value\.operator: expected BETWEEN"):
        time_range({"value": {"operator": "EQUALS", "value": "2024-01-01"}}, "UTC", "f")
    with pytest.raises(ValueError, match="BETWEEN needs"):
        time_range({"value": {"operator": "BETWEEN", "value": "2024-01-01"}}, "UTC", "f")
