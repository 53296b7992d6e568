"""7. Find and tabulate on the default-params spool: free text, a SQL search, the label
and annotation tables, and a sorted, filtered Table page; seconds and the kernel's RSS growth.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from export_widget.inspect import find, labels_frame
from export_widget.spool import Spool
from export_widget.table_view import TableView

from .workspace import RssPeak

TEXT = "large-00042"  # global keys large-0004200.png .. : a few hundred rows per million
SQL = "FROM annotations WHERE feature_name = 'car' AND width < 70 AND height < 45"


@dataclass(frozen=True)
class Timed:
    seconds: float
    rss_growth: int  # peak RSS during the step over RSS before it, bytes
    count: int  # matches, or records


@dataclass(frozen=True)
class InspectRun:
    rows: int
    spool_bytes: int
    text: Timed
    sql: Timed
    label_frame: Timed
    annotation_frame: Timed
    table_build: Timed  # the Table tab: annotations built into DuckDB, in a worker
    table_page_s: float  # then a page sorted by area, filtered by feature name


def _timed(action: Callable[[], int]) -> Timed:
    process = psutil.Process()
    peak = RssPeak(process.pid)
    peak.start()
    peak.reset()
    before = process.memory_info().rss
    started = time.perf_counter()
    count = action()
    seconds = time.perf_counter() - started
    return Timed(seconds, max(0, peak.stop() - before), count)


def run_inspect(spool: Spool) -> InspectRun:
    text = _timed(lambda: len(find(spool, TEXT)))
    sql = _timed(lambda: len(find(spool, sql=SQL)))
    label = _timed(lambda: len(labels_frame(spool, "label")))
    annotation = _timed(lambda: len(labels_frame(spool, "annotation")))
    view = TableView(spool)

    def build() -> int:
        view.build("annotation")
        view.wait("annotation")
        page = view.page("annotation", count=50)
        return int(page["total"])

    try:
        table = _timed(build)
        started = time.perf_counter()
        view.page("annotation", offset=1000, count=50, sort="area", descending=True,
                  filters={"feature_name": "car", "width": "< 100"})
        page_s = time.perf_counter() - started
    finally:
        view.close()
    return InspectRun(spool.count, spool.size, text, sql, label, annotation, table, page_s)


def as_dict(run: InspectRun) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(run)
