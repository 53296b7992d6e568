"""2. Client streaming: our `get_stream()` vs the SDK's `get_buffered_stream`, and a live read.

Each reader runs in its own subprocess (benchmarks/stream_worker.py); this process samples
its RSS. The server keeps running in its own process. The floor is `orjson.loads` of every
line of the finished export file: the least any Python client spends to hand out the rows.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from .workspace import RssPeak, ServerProcess


@dataclass(frozen=True)
class StreamRun:
    mode: str
    rows: int
    first_row_s: float
    seconds: float
    capped: bool
    peak_rss: int
    baseline_rss: int
    server_peak_rss: int

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def run_reader(server: ServerProcess, mode: str, target: str,
               max_seconds: float | None = None) -> StreamRun:
    """Run one reader (`ours`, `sdk` or `live`) to the end of the stream, or for
    `max_seconds` at most."""
    command = [sys.executable, "-m", "benchmarks.stream_worker", mode, server.endpoint,
               server.api_key, target]
    if max_seconds is not None:
        command.append(str(max_seconds))
    server.rss.reset()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = RssPeak(proc.pid)
    peak.start()
    out, err = proc.communicate()
    rss = peak.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} reader failed ({proc.returncode}): "
                           f"{err.decode(errors='replace')[-2000:]}")
    result = orjson.loads(out.splitlines()[-1])
    return StreamRun(mode=mode, rows=int(result["rows"]),
                     first_row_s=float(result["first_row_s"]), seconds=float(result["seconds"]),
                     capped=bool(result["capped"]),
                     peak_rss=rss, baseline_rss=int(result["baseline_rss"]),
                     server_peak_rss=server.rss.peak)


FLOOR_BATCH = 10_000  # lines read (untimed) before each timed batch of parses


def parse_floor(export_file: Path) -> float:
    """Seconds `orjson.loads` takes over every line of `export_file` (reading not counted)."""
    seconds = 0.0
    with export_file.open("rb") as source:
        while True:
            batch = [line for _, line in zip(range(FLOOR_BATCH), source, strict=False)]
            if not batch:
                return seconds
            started = time.perf_counter()
            for line in batch:
                orjson.loads(line)
            seconds += time.perf_counter() - started
