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


class _Lines:
    """Lines appended into one buffer as they are serialized, and their lengths.

    Each line's own bytes object is freed at once, so the next one reuses its memory: a
    batch that kept its 500 lines alive to join them at the end serialized at a third of
    the speed (4.3 against 1.1-2.0 us per default row)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lengths = array("Q")

    def add(self, line: bytes) -> None:
        self.data += line
        self.lengths.append(len(line))


def encode_rows(rows: list[Json]) -> EncodedBatch:
    """Serialize built rows; a row that cannot be serialized becomes an error line."""
    result, errors = _Lines(), _Lines()
    for row in rows:
        ok, line = dump_row(row)
        (result if ok else errors).add(line)
    return _batch(result, errors)


def encode(items: list[Item]) -> EncodedBatch:
    """Serialize a batch of ("row", json) / ("error", json) items; a row that cannot be
    serialized becomes an error line naming it."""
    result, errors = _Lines(), _Lines()
    for kind, obj in items:
        if kind == "row":
            ok, line = dump_row(obj)
            (result if ok else errors).add(line)
        else:
            errors.add(orjson.dumps(obj, option=_LINE))
    return _batch(result, errors)


def _batch(result: _Lines, errors: _Lines) -> EncodedBatch:
    return EncodedBatch(bytes(result.data), result.lengths, bytes(errors.data), errors.lengths)
