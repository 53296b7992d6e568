"""4a. The widget end to end in this process: status messages per second, time to done.

`ExportWidget(client)` runs without a kernel; every change of its synced `status` trait is
one state message to the browser, so observing the trait counts what a frontend receives.
Custom messages (`send`) are captured the same way.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import psutil

from export_widget.client import Client
from export_widget.widget import ExportWidget

from .server_export import ALL_PROJECT_PARAMS
from .workspace import RssPeak, ServerProcess


@dataclass(frozen=True)
class WidgetRun:
    rows: int
    seconds: float
    first_row_s: float
    status_messages: int
    max_per_s: int
    mean_per_s: float
    kernel_rss_growth: int
    kernel_cpu_s: float


class StatusLog:
    """Times of every `status` change and of the first one that counts rows."""

    def __init__(self, widget: ExportWidget) -> None:
        self.times: list[float] = []
        self.first_row: float | None = None
        self._lock = threading.Lock()
        widget.observe(self._seen, names=["status"])

    def _seen(self, change: dict[str, Any]) -> None:
        now = time.monotonic()
        with self._lock:
            self.times.append(now)
            if self.first_row is None and (change["new"] or {}).get("rows"):
                self.first_row = now

    def max_in_one_second(self) -> int:
        best = 0
        left = 0
        for right, t in enumerate(self.times):
            while t - self.times[left] >= 1.0:
                left += 1
            best = max(best, right - left + 1)
        return best


def run_widget(server: ServerProcess, project_id: str, timeout: float = 1800,
               params: dict[str, Any] | None = None) -> tuple[WidgetRun, ExportWidget]:
    """Export the large project through the widget (every project param on, unless
    `params` says otherwise); returns the figures and the widget, whose spool the
    random-access benchmark then reads."""
    client = Client(api_key=server.api_key, endpoint=server.endpoint)
    widget = ExportWidget(client)
    widget.send = lambda *a, **k: None
    log = StatusLog(widget)
    # Sampled from inside the measured process, so less often than other processes: at
    # every 10 ms the sampler took a sixth of this process's CPU samples during the run.
    me = RssPeak(psutil.Process().pid, interval=0.05)
    me.start()
    me.reset()
    me_process = psutil.Process()
    baseline = me_process.memory_info().rss
    cpu_before = sum(me_process.cpu_times()[:2])
    started = time.monotonic()
    widget.start({"scope": "project", "target_id": project_id,
                  "params": ALL_PROJECT_PARAMS if params is None else params})
    status = widget.wait(timeout)
    seconds = time.monotonic() - started
    cpu = sum(me_process.cpu_times()[:2]) - cpu_before
    peak = me.stop()
    if status["state"] != "done":
        raise RuntimeError(f"widget export ended {status['state']}: {status['message']}")
    span = max(log.times[-1] - log.times[0], 1e-9) if len(log.times) > 1 else 1.0
    return WidgetRun(
        rows=int(status["rows"]), seconds=seconds,
        first_row_s=(log.first_row - started) if log.first_row else float("nan"),
        status_messages=len(log.times), max_per_s=log.max_in_one_second(),
        mean_per_s=len(log.times) / span, kernel_rss_growth=max(0, peak - baseline),
        kernel_cpu_s=cpu,
    ), widget
