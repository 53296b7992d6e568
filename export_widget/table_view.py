"""The Table tab's kernel side: the records at one grain, built in a worker and kept in
DuckDB, so the browser asks for one sorted, filtered page at a time and never holds the table.

A built table is a snapshot of the spool's committed lines; when more lines have arrived the
page says so (`lines` against `spool_lines`) and the browser may ask for a rebuild.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from .inspect.table import GRAINS, Grain, iter_tables, labels_table
from .messages import TableColumn, TablePage, TableState
from .spool import Spool

TABLE_PAGE_MAX = 200
_COMPARISON = re.compile(r"^\s*(<=|>=|!=|<>|=|<|>)\s*(.+?)\s*$")
_NUMERIC = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "HUGEINT", "BIGINT", "SMALLINT", "TINYINT")


@dataclass
class Built:
    """One grain's table over the first `lines` lines of a spool, in a DuckDB connection."""

    grain: Grain
    lines: int
    con: duckdb.DuckDBPyConnection
    columns: list[TableColumn]
    rows: int


@dataclass
class _Job:
    grain: Grain
    done: int = 0
    total: int = 0
    error: str = ""
    thread: threading.Thread | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


class TableView:
    """Built tables per grain for one spool, and the pages read from them."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self._lock = threading.Lock()
        self._built: dict[Grain, Built] = {}
        self._jobs: dict[Grain, _Job] = {}

    def close(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()
            for built in self._built.values():
                built.con.close()
            self._built.clear()

    # -- building (a worker per grain) ----------------------------------------------------

    def build(self, grain: Grain) -> None:
        """Start (re)building `grain` over the lines committed now, unless one is running."""
        if grain not in GRAINS:
            raise ValueError(f"grain: must be one of {', '.join(GRAINS)}, got {grain!r}")
        with self._lock:
            job = self._jobs.get(grain)
            if job is not None and job.thread is not None and job.thread.is_alive():
                return
            job = _Job(grain, total=self.spool.count)
            job.thread = threading.Thread(target=self._build, args=(job,),
                                          name=f"export-widget-table-{grain}", daemon=True)
            self._jobs[grain] = job
        job.thread.start()

    def wait(self, grain: Grain, timeout: float | None = None) -> None:
        job = self._jobs.get(grain)
        if job is not None and job.thread is not None:
            job.thread.join(timeout)

    def _build(self, job: _Job) -> None:
        def progress(done: int, _total: int) -> None:
            job.done = done

        try:
            parts = list(iter_tables(self.spool, job.grain, stop=job.total,
                                     should_stop=job.cancel.is_set, on_progress=progress))
            table = pa.concat_tables(parts) if parts else labels_table(self.spool, job.grain,
                                                                       stop=0)
            if job.cancel.is_set():
                return
            built = _load(job.grain, job.total, table)
        except Exception as exc:  # shown on the Table tab, not lost in a thread
            job.error = f"{type(exc).__name__}: {exc}"
            return
        with self._lock:
            old = self._built.get(job.grain)
            self._built[job.grain] = built
        if old is not None:
            old.con.close()

    # -- pages ----------------------------------------------------------------------------

    def page(self, grain: Grain, *, offset: int = 0, count: int = 50, sort: str | None = None,
             descending: bool = False, filters: Mapping[str, str] | None = None,
             rebuild: bool = False) -> TablePage:
        """A page of the table: built on first use (state `building` until it is ready)."""
        if grain not in GRAINS:
            raise ValueError(f"grain: must be one of {', '.join(GRAINS)}, got {grain!r}")
        with self._lock:
            built = self._built.get(grain)
            job = self._jobs.get(grain)
        running = job is not None and job.thread is not None and job.thread.is_alive()
        failed = job is not None and bool(job.error) and not running
        if not running and (rebuild or (built is None and not failed)):
            self.build(grain)
            job, running = self._jobs[grain], True
        if built is None:
            return _empty_page(grain, "building" if running else "failed", job,
                               self.spool.count)
        # While a rebuild runs, the previous table still answers.
        page = _read_page(built, self.spool.count, offset=offset, count=count, sort=sort,
                          descending=descending, filters=filters or {})
        if running and job is not None:
            page["building"], page["done"], page["of"] = True, job.done, job.total
        elif failed and job is not None:
            page["message"] = job.error
        return page


def _load(grain: Grain, lines: int, table: pa.Table) -> Built:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    # `_order` keeps export order as the last sort key, so equal values stay in row order.
    con.register("_arrow", table)
    con.execute("CREATE TABLE t AS SELECT row_number() OVER () AS _order, * FROM _arrow")
    con.unregister("_arrow")
    con.execute("SET enable_external_access = false")
    described = con.sql("DESCRIBE t").fetchall()
    columns = [TableColumn(name=str(name), type=_kind(str(kind)))
               for name, kind, *_ in described if name != "_order"]
    return Built(grain, lines, con, columns, table.num_rows)


def _kind(duck_type: str) -> str:
    if duck_type.startswith("TIMESTAMP"):
        return "time"
    if any(duck_type.startswith(t) for t in _NUMERIC):
        return "number"
    return "text"


def _empty_page(grain: Grain, state: TableState, job: _Job | None, spool_lines: int
                ) -> TablePage:
    return TablePage(type="table_page", id="", grain=grain, state=state,
                     building=state == "building", message=job.error if job else "",
                     done=job.done if job else 0,
                     of=job.total if job else spool_lines, columns=[], rows=[], offset=0,
                     matched=0, total=0, lines=0, spool_lines=spool_lines, sort="",
                     descending=False)


def where_clause(columns: list[TableColumn], filters: Mapping[str, str]
                 ) -> tuple[str, list[Any]]:
    """SQL and parameters for per-column filters; ValueError names a bad column or value.

    Text columns match a case-insensitive substring; number columns take a number or a
    comparison (`< 20`, `>= 5`, `!= 0`); time columns a prefix of the ISO time (`2024-03`).
    `line` is filtered by the 1-based numbers the Table and the viewer show.
    """
    kinds = {c["name"]: c["type"] for c in columns}
    parts: list[str] = []
    params: list[Any] = []
    for name, raw in filters.items():
        text = str(raw).strip()
        if not text:
            continue
        if name not in kinds:
            raise ValueError(f"filters: no column {name!r}")
        column = '"' + name.replace('"', '""') + '"'
        if kinds[name] == "number":
            match = _COMPARISON.match(text)
            op, value = (match.group(1), match.group(2)) if match else ("=", text)
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"filters: {name} takes a number or a comparison such as "
                                 f"'< 20', got {text!r}") from None
            parts.append(f"{column} {'!=' if op == '<>' else op} ?")
            # The Table shows lines 1-based, as the viewer does; a filter uses what it shows.
            params.append(number - 1 if name == "line" else number)
        elif kinds[name] == "time":
            parts.append(f"strftime({column}, '%Y-%m-%dT%H:%M:%S') LIKE ? ESCAPE '\\'")
            params.append(_escape_like(text) + "%")
        else:
            parts.append(f"CAST({column} AS VARCHAR) ILIKE ? ESCAPE '\\'")
            params.append("%" + _escape_like(text) + "%")
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _read_page(built: Built, spool_lines: int, *, offset: int, count: int, sort: str | None,
               descending: bool, filters: Mapping[str, str]) -> TablePage:
    names = [c["name"] for c in built.columns]
    if sort and sort not in names:
        raise ValueError(f"sort: no column {sort!r}")
    where, params = where_clause(built.columns, filters)
    order = "_order"
    if sort:
        quoted = '"' + sort.replace('"', '""') + '"'
        order = f"{quoted} {'DESC' if descending else 'ASC'} NULLS LAST, _order"
    count = max(0, min(count, TABLE_PAGE_MAX))
    offset = max(0, offset)
    cursor = built.con.cursor()  # one cursor per page: pages may be read from two threads
    try:
        matched = int(cursor.execute(f"SELECT count(*) FROM t{where}", params).fetchall()[0][0])
        rows = cursor.execute(
            f"SELECT * EXCLUDE (_order) FROM t{where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, count, offset]).fetchall()
    finally:
        cursor.close()
    return TablePage(type="table_page", id="", grain=built.grain, state="ready",
                     building=False, message="",
                     done=built.lines, of=built.lines, columns=built.columns,
                     rows=[[_cell(v) for v in row] for row in rows], offset=offset,
                     matched=matched, total=built.rows, lines=built.lines,
                     spool_lines=spool_lines, sort=sort or "", descending=descending)


def _cell(value: Any) -> str | float | int | bool | None:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)



