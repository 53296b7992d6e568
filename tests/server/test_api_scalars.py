"""Custom scalars: the SDK's DateTime format, UInt64 from strings or ints, PageSize."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from export_widget.server.graphql.scalars import (
    parse_page_size,
    parse_uint64,
    serialize_datetime,
    serialize_uint64,
)


def test_datetimes_serialize_as_utc_with_milliseconds_and_z() -> None:
    assert serialize_datetime(1_704_067_200_123) == "2024-01-01T00:00:00.123Z"
    assert serialize_datetime(datetime(2024, 1, 1, 5, 30)) == "2024-01-01T05:30:00.000Z"
    plus_two = datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert serialize_datetime(plus_two) == "2024-01-01T00:00:00.000Z"
    assert serialize_datetime("2024-01-01T00:00:00.000Z") == "2024-01-01T00:00:00.000Z"
    with pytest.raises(TypeError, match="DateTime: cannot serialize list"):
        serialize_datetime([])


def test_uint64_accepts_strings_and_ints_and_answers_strings() -> None:
    assert parse_uint64("129") == 129
    assert parse_uint64(129) == 129
    assert parse_uint64(str(2**64 - 1)) == 2**64 - 1
    assert serialize_uint64(129) == "129"


@pytest.mark.parametrize(("value", "message"), [
    ("-1", "expected a string of digits"),
    ("1e3", "expected a string of digits"),
    (-1, "must be between 0 and 2\\*\\*64-1"),
    (2**64, "must be between 0 and 2\\*\\*64-1"),
    (True, "got a boolean"),
    (1.5, "got float"),
])
def test_uint64_refuses_what_is_not_an_unsigned_64_bit_integer(value: object,
                                                              message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_uint64(value)


def test_page_size_is_bounded() -> None:
    assert parse_page_size(100) == 100
    with pytest.raises(ValueError, match="PageSize: must be between 0 and 1000, got 1001"):
        parse_page_size(1001)
    with pytest.raises(ValueError, match="PageSize: expected an integer"):
        parse_page_size("100")
