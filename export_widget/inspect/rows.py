"""Where exported rows come from: a history entry, a spool, an NDJSON file or rows in memory.

`RowSource` reads any of them the same way: `iter()` yields (line, row) in export order and
`get(line)` reads one row again, so a comparison keeps only keys and digests in memory and
re-reads the few rows it has to look into.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson


class _Spoolish(Protocol):
    @property
    def count(self) -> int: ...

    def page_bytes(self, line: int, n: int) -> list[bytes]: ...

    def iter_bytes(self, start: int = 0, stop: int | None = None,
                   batch: int = 1000) -> Iterator[bytes]: ...


class RowSource:
    """Random access to the rows of one export."""

    def __init__(self, source: Any) -> None:
        self._spool: _Spoolish | None = None
        self._rows: list[Any] | None = None
        self.name = ""
        spool = getattr(source, "rows", None)  # a history Entry
        if spool is not None and hasattr(spool, "page_bytes"):
            self._spool = spool
            self.name = str(getattr(source, "id", ""))
        elif hasattr(source, "page_bytes") and hasattr(source, "iter_bytes"):
            self._spool = source
        elif isinstance(source, str | os.PathLike):
            path = Path(source)
            with path.open("rb") as fh:
                self._rows = [orjson.loads(line) for line in fh if line.strip()]
            self.name = path.name
        elif isinstance(source, Iterable) and not isinstance(source, Mapping | bytes):
            self._rows = [orjson.loads(r) if isinstance(r, bytes | str) else r for r in source]
        else:
            raise TypeError("rows: expected a history entry, a Spool, an NDJSON path or an "
                            f"iterable of rows, got {type(source).__name__}")

    def __len__(self) -> int:
        if self._spool is not None:
            return self._spool.count
        assert self._rows is not None
        return len(self._rows)

    def iter(self) -> Iterator[tuple[int, Any]]:
        if self._spool is not None:
            for line, raw in enumerate(self._spool.iter_bytes()):
                yield line, orjson.loads(raw)
        else:
            assert self._rows is not None
            yield from enumerate(self._rows)

    def get(self, line: int) -> Any:
        if self._spool is not None:
            raw = self._spool.page_bytes(line, 1)
            if not raw:
                raise IndexError(f"line: {line} is past the end ({self._spool.count} rows)")
            return orjson.loads(raw[0])
        assert self._rows is not None
        return self._rows[line]


def rows_of(source: Any) -> Iterator[Any]:
    """Every row of `source` as parsed JSON, in export order."""
    for _line, row in RowSource(source).iter():
        yield row
