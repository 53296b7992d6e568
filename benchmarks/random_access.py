"""3. Random access: `with_line(n)` to the first row, and a 50-row page from the spool and
through the widget's page handler, at the first line, the middle and the last 50."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from export_widget.client import Client
from export_widget.widget import ExportWidget

from .workspace import ServerProcess

PAGE = 50
REPEATS = 5


@dataclass(frozen=True)
class AccessTimes:
    """Median seconds at each position: first, middle, last 50."""

    first: float
    middle: float
    last: float

    @property
    def worst(self) -> float:
        return max(self.first, self.middle, self.last)


def positions(total: int) -> tuple[int, int, int]:
    return 0, total // 2, max(total - PAGE, 0)


def _median(action: Callable[[], Any], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def with_line_times(server: ServerProcess, task_id: str, total: int) -> AccessTimes:
    """Seconds from `get_stream().with_line(n)` to the first row (a new stream each time)."""
    with Client(api_key=server.api_key, endpoint=server.endpoint) as client:
        task = client.get_task(task_id)

        def first_row(n: int) -> Callable[[], Any]:
            def action() -> Any:
                row = next(iter(task.get_stream().with_line(n)))
                assert row.current_line == n, (row.current_line, n)
                return row.json
            return action

        return AccessTimes(*(_median(first_row(n)) for n in positions(total)))


def spool_page_times(widget: ExportWidget) -> AccessTimes:
    session = widget.session
    assert session is not None
    spool = session.rows

    def page(n: int) -> Callable[[], Any]:
        def action() -> Any:
            lines = spool.page(n, PAGE)
            assert len(lines) == min(PAGE, spool.count - n)
            return lines
        return action

    return AccessTimes(*(_median(page(n)) for n in positions(spool.count)))


def handler_page_times(widget: ExportWidget) -> AccessTimes:
    """The browser's page request through `ExportWidget`'s custom-message handler."""
    session = widget.session
    assert session is not None
    replies: list[dict[str, Any]] = []
    widget.send = lambda content, *a, **k: replies.append(content)

    def page(n: int) -> Callable[[], Any]:
        def action() -> Any:
            widget._on_custom(widget, {"type": "page", "id": f"p{n}", "stream": "result",
                                       "line": n, "n": PAGE}, [])
            reply = replies.pop()
            assert reply["type"] == "page" and reply["line"] == n, reply
            return reply
        return action

    return AccessTimes(*(_median(page(n)) for n in positions(session.rows.count)))
