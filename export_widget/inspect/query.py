"""Find rows in an export: free text over each row's JSON, or SQL over the rows' tables.

Two kinds of query, one result: the sorted line numbers of the matching rows.

- Free text matches case-insensitively anywhere in a row's JSON line (a global key, an email,
  a feature name, `Reject`). The text is matched as it is written inside a JSON string, so a
  quote or a backslash in it matches the escaped form the export holds.
- SQL is one DuckDB `SELECT` (or `FROM ...` shorthand) over the tables of `table.py`:
  `rows`, `labels`, `annotations`, `classifications`. Every table has a `line` column; the
  rows whose lines the query returns match. The query sees one chunk of rows at a time, so
  it should pick rows by what they hold (`FROM annotations WHERE feature_name = 'car' AND
  width < 20`), not compare rows with each other.

`Search` scans a spool that may still be growing: each `advance()` reads the lines committed
since the last one, so matches grow while an export streams.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .lines import Source, chunks, snapshot
from .table import EMPTY_CHUNK, Tables, borrow

SEARCH_CHUNK_LINES = 20_000  # small enough that cancelling is quick
# Each SQL query over a chunk costs ~0.1 s to plan (the JSON structures are large), so SQL
# reads bigger chunks: 50,000 lines is still under a second's work, for quick cancelling.
SQL_CHUNK_LINES = 50_000
Progress = Callable[[int, int], None]


class QueryError(ValueError):
    """A query that cannot run; the message names the field (`text` or `sql`) and the rule."""


@dataclass(frozen=True)
class Query:
    """Either free `text` or `sql`, validated."""

    text: str | None = None
    sql: str | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.sql is None):
            raise QueryError("query: give either text or sql, not both and not neither")
        if self.text is not None and not self.text.strip():
            raise QueryError("text: must not be empty")
        if self.sql is not None and not self.sql.strip().rstrip(";").strip():
            raise QueryError("sql: must not be empty")

    @property
    def kind(self) -> str:
        return "text" if self.text is not None else "sql"

    def describe(self) -> str:
        return f"text {self.text!r}" if self.text is not None else f"sql {self.sql!r}"


def text_needle(text: str) -> str:
    """`text` as it appears inside a JSON string of the export (quotes and backslashes escaped)."""
    return orjson.dumps(text).decode("utf-8")[1:-1]


def match_text(chunk: pa.Table, text: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Lines of `chunk` whose JSON holds `text`, case-insensitively."""
    hit = pc.match_substring(chunk.column("json"), text_needle(text), ignore_case=True)
    mask = hit.to_numpy(zero_copy_only=False)
    lines: np.ndarray[Any, np.dtype[np.int64]] = \
        chunk.column("line").to_numpy()[mask.astype(bool)]
    return lines


class SqlMatcher:
    """A checked SQL query, ready to run on chunks loaded into a `Tables`."""

    def __init__(self, sql: str) -> None:
        self.sql = sql.strip().rstrip(";").strip()
        self.wrapped = f"SELECT DISTINCT line FROM ({self.sql}) AS _q ORDER BY line"

    def check(self, tables: Tables) -> None:
        """Raise QueryError now, on empty tables, rather than after a long scan."""
        try:
            statements = tables.con.extract_statements(self.sql)
        except duckdb.Error as exc:
            raise QueryError(f"sql: {_first_line(exc)}") from None
        if len(statements) != 1:
            raise QueryError(f"sql: one query only, got {len(statements)} statements")
        kind = statements[0].type.name
        if kind != "SELECT":
            raise QueryError(f"sql: must be a SELECT (or FROM ...) query, got {kind}")
        tables.load(EMPTY_CHUNK)
        try:
            columns = tables.sql(f"SELECT * FROM ({self.sql}) AS _q LIMIT 0").columns
        except duckdb.Error as exc:
            raise QueryError(f"sql: {_first_line(exc)}") from None
        if "line" not in columns:
            raise QueryError(
                "sql: the query must return the column line (every table has it: rows, "
                f"labels, annotations, classifications); it returns {', '.join(columns)}")

    def match(self, tables: Tables, chunk: pa.Table) -> np.ndarray[Any, np.dtype[np.int64]]:
        tables.load(chunk)
        try:
            out = tables.sql(self.wrapped).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(f"sql: {_first_line(exc)}") from None
        lines: np.ndarray[Any, np.dtype[np.int64]] = \
            out.column("line").to_numpy().astype(np.int64)
        return lines


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check(query: Query) -> None:
    """Raise QueryError if `query` cannot run (SQL is compiled against empty tables)."""
    if query.sql is not None:
        with borrow() as tables:
            SqlMatcher(query.sql).check(tables)


@dataclass
class Search:
    """One query over one source, scanned incrementally.

    `advance()` reads the lines committed since the previous call (all of them the first
    time) and adds their matches; `matches` stays sorted because lines are read in order.
    `cancel()` may be called from any thread; the scan stops at the next chunk.
    """

    source: Source
    query: Query
    scanned: int = 0
    _found: list[np.ndarray[Any, np.dtype[np.int64]]] = field(default_factory=list)
    _count: int = 0
    _cancel: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        check(self.query)

    @property
    def count(self) -> int:
        return self._count

    @property
    def matches(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        if len(self._found) > 1:
            self._found = [np.concatenate(self._found)]
        return self._found[0] if self._found else np.zeros(0, dtype=np.int64)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def advance(self, on_progress: Progress | None = None) -> int:
        """Scan newly committed lines; returns how many new matches were found."""
        snap = snapshot(self.source)
        start, end = self.scanned, snap.count
        before = self._count
        if start >= end:
            return 0
        sql = SqlMatcher(self.query.sql) if self.query.sql is not None else None
        # Free text needs no DuckDB connection; SQL borrows one for the whole scan.
        with borrow() if sql is not None else nullcontext() as tables:
            size = SQL_CHUNK_LINES if sql is not None else SEARCH_CHUNK_LINES
            for chunk in chunks(snap, start, end, max_lines=size):
                if self._cancel.is_set():
                    break
                if sql is not None:
                    assert tables is not None
                    found = sql.match(tables, chunk)
                else:
                    assert self.query.text is not None
                    found = match_text(chunk, self.query.text)
                if len(found):
                    self._found.append(found)
                    self._count += len(found)
                self.scanned = int(chunk.column("line")[-1].as_py()) + 1
                if on_progress is not None:
                    on_progress(self.scanned - start, end - start)
        return self._count - before

    def page(self, index: int, n: int) -> list[int]:
        """Up to `n` matching line numbers from the `index`-th match on."""
        return [int(x) for x in self.matches[max(0, index): max(0, index) + max(0, n)]]

    def index_of(self, line: int) -> int:
        """Position of the first match at or after `line` (len(matches) if none)."""
        return int(np.searchsorted(self.matches, line, side="left"))


def find(source: Source, text: str | None = None, *, sql: str | None = None,
         on_progress: Progress | None = None) -> list[int]:
    """Line numbers (0-based, sorted) of the rows of `source` that match the query."""
    search = Search(source, Query(text=text, sql=sql))
    search.advance(on_progress)
    return [int(x) for x in search.matches]


def rows_at(source: Source, lines: Sequence[int]) -> list[bytes]:
    """The raw lines at the given line numbers (in the order given)."""
    snap = snapshot(source)
    out: list[bytes] = []
    with open(snap.data_path, "rb") as f:
        for line in lines:
            if not 0 <= line < snap.count:
                raise IndexError(f"line: {line} is not in 0..{snap.count - 1}")
            begin = snap.start_of(line)
            end = int(snap.ends(line, line + 1)[0])
            f.seek(begin)
            out.append(f.read(end - begin).rstrip(b"\n"))
    return out
