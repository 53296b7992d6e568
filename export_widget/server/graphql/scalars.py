"""Custom scalars: DateTime in the SDK's format, UInt64 as string or int, PageSize, JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ariadne import ScalarType

from export_widget.server.graphql.context import MAX_PAGE_SIZE

datetime_scalar = ScalarType("DateTime")
uint64_scalar = ScalarType("UInt64")
page_size_scalar = ScalarType("PageSize")
json_scalar = ScalarType("JSON")


@datetime_scalar.serializer
def serialize_datetime(value: Any) -> str:
    """Epoch milliseconds or datetimes as `2024-01-01T00:00:00.000Z`, the SDK's format."""
    if isinstance(value, str):
        return str(value)
    moment: datetime
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        raise TypeError(f"DateTime: cannot serialize {type(value).__name__}")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"



@uint64_scalar.serializer
def serialize_uint64(value: Any) -> str:
    # Strings, as Labelbox sends them: JSON numbers lose precision past 2**53.
    return str(int(value))


def parse_uint64(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("UInt64: expected an integer or a string of digits, got a boolean")
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise ValueError(f"UInt64: expected a string of digits, got {value!r}")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        raise ValueError(f"UInt64: expected an integer or a string, got {type(value).__name__}")
    if not 0 <= number < 2**64:
        raise ValueError(f"UInt64: must be between 0 and 2**64-1, got {number}")
    return number


def parse_uint64_literal(node: Any, _variables: Any = None) -> int:
    raw = node.value
    return parse_uint64(raw if node.kind == "string_value" else int(raw))


def parse_page_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"PageSize: expected an integer, got {value!r}")
    if not 0 <= value <= MAX_PAGE_SIZE:
        raise ValueError(f"PageSize: must be between 0 and {MAX_PAGE_SIZE}, got {value}")
    return value


def parse_page_size_literal(node: Any, _variables: Any = None) -> int:
    return parse_page_size(int(node.value))


def serialize_page_size(value: Any) -> int:
    return int(value)


uint64_scalar.set_value_parser(parse_uint64)
uint64_scalar.set_literal_parser(parse_uint64_literal)
page_size_scalar.set_value_parser(parse_page_size)
page_size_scalar.set_literal_parser(parse_page_size_literal)
page_size_scalar.set_serializer(serialize_page_size)

SCALARS = [datetime_scalar, uint64_scalar, page_size_scalar, json_scalar]
