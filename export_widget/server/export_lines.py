"""Export lines as bytes: a row or an error item to one NDJSON line, and a batch of items to
an `EncodedBatch`. The engine and the row processes serialize alike, so an export writes the
same bytes wherever its rows were built."""

from __future__ import annotations

from array import array
from typing import Any

import orjson

from export_widget.jsontypes import Json
from export_widget.server.export_spec import EncodedBatch, Item

_LINE = orjson.OPT_APPEND_NEWLINE  # one copy less than `dumps(obj) + b"\n"`


def dump_row(obj: Any) -> tuple[bool, bytes]:
    """(True, line) for a row that serializes, else (False, an error line saying why)."""
    try:
        return True, orjson.dumps(obj, option=_LINE)
    except (TypeError, orjson.JSONEncodeError) as exc:
        data_row = obj.get("data_row") if isinstance(obj, dict) else None
        row_id = data_row.get("id") if isinstance(data_row, dict) else None
        return False, orjson.dumps(
            {"data_row_id": row_id, "error": f"row could not be serialized: {exc}"},
            option=_LINE)


def encode_rows(rows: list[Json]) -> EncodedBatch:
    """Serialize built rows; a row that cannot be serialized becomes an error line."""
    result: list[bytes] = []
    errors: list[bytes] = []
    for row in rows:
        ok, line = dump_row(row)
        (result if ok else errors).append(line)
    return _batch(result, errors)


def encode(items: list[Item]) -> EncodedBatch:
    """Serialize a batch of ("row", json) / ("error", json) items; a row that cannot be
    serialized becomes an error line naming it."""
    result: list[bytes] = []
    errors: list[bytes] = []
    for kind, obj in items:
        if kind == "row":
            ok, line = dump_row(obj)
            (result if ok else errors).append(line)
        else:
            errors.append(orjson.dumps(obj, option=_LINE))
    return _batch(result, errors)


def _batch(result: list[bytes], errors: list[bytes]) -> EncodedBatch:
    return EncodedBatch(b"".join(result), array("Q", map(len, result)),
                        b"".join(errors), array("Q", map(len, errors)))
