"""The measured setup: a demo store seeded once per size, and the server as a subprocess.

The store is cached under `<root>/rows-<N>/store.sqlite` (seeding a million rows takes
minutes); each run serves it with a fresh data dir, so export files never pile up.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psutil

from export_widget.server.process import start_server_process

API_KEY = "bench-key"
LARGE_PROJECT = "Large Image Project"


@dataclass(frozen=True)
class SeededStore:
    rows: int
    db_url: str
    seed_s: float
    cached: bool


def seeded_store(root: Path, rows: int) -> SeededStore:
    """The demo store with `rows` large-project rows, seeded in this process if not cached."""
    from export_widget.server.demo.seed import seed_demo
    from export_widget.server.store import open_store

    directory = root / f"rows-{rows}"
    directory.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{directory / 'store.sqlite'}"
    marker = directory / "seeded.json"
    if marker.exists():
        seed_s = float(json.loads(marker.read_text())["seed_s"])
        return SeededStore(rows, db_url, seed_s, cached=True)
    started = time.monotonic()
    engine = open_store(db_url)
    seed_demo(engine, rows=rows)
    engine.dispose()
    seed_s = time.monotonic() - started
    marker.write_text(json.dumps({"rows": rows, "seed_s": seed_s}))
    return SeededStore(rows, db_url, seed_s, cached=False)


def warm_store(store: SeededStore, block: int = 8 * 1024 * 1024) -> float:
    """Read the store's files once, so every figure is measured on a store in the page
    cache, as the floors are on the export file just written; returns the seconds taken.

    A cold store makes the export wait on random reads: a 200,000-row export took 23 s cold
    (iowait 20-70 %) and 12 s warm, for the same 21-22 CPU seconds."""
    path = Path(store.db_url.removeprefix("sqlite:///"))
    started = time.monotonic()
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            with file.open("rb", buffering=0) as f:
                while f.read(block):
                    pass
    return time.monotonic() - started


def drop_from_page_cache(path: Path) -> None:
    """Let the kernel drop `path`'s cached pages (written back first), so a file a section
    is done with does not make the next section's writes pay to evict it.

    After the 7.5 GB export of 1M rows, the default-params widget took 18.9 s, with the
    kernel spending 8.5 CPU-s instead of 4.8, mostly reclaiming page cache for its own
    writes; with that file dropped first it took 17.1 s and 5.2 CPU-s."""
    if not hasattr(os, "posix_fadvise"):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


class RssPeak(threading.Thread):
    """Samples one process's RSS every 10 ms and keeps the maximum."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        super().__init__(daemon=True, name=f"rss-{pid}")
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop_event = threading.Event()
        self.peak = 0

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            time.sleep(self._interval)

    def sample(self) -> None:
        try:
            self.peak = max(self.peak, self._process.memory_info().rss)
        except psutil.Error:
            self._stop_event.set()

    def reset(self) -> None:
        self.sample()
        self.peak = 0
        self.sample()

    def stop(self) -> int:
        self.sample()
        self._stop_event.set()
        self.join(timeout=1)
        return self.peak


class ServerProcess:
    """`export-widget serve` on loopback in a subprocess, with its RSS sampled."""

    def __init__(self, store: SeededStore) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="ew-bench-data-"))
        self._server = start_server_process(data_dir=self.data_dir, db_url=store.db_url,
                                            demo=True, rows=store.rows, api_key=API_KEY)
        self.endpoint = self._server.endpoint
        self.api_key = API_KEY
        self.rss = RssPeak(self._server.pid)
        self.rss.start()

    @property
    def pid(self) -> int:
        return self._server.pid

    def cpu_seconds(self) -> float:
        """CPU of the server and of its children (the row processes building its exports)."""
        server = psutil.Process(self.pid)
        total = 0.0
        for process in [server, *server.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.Error:  # ended meanwhile
                continue
            total += times.user + times.system
        return total

    def export_file(self, task_id: str) -> Path:
        return self.data_dir / "exports" / task_id / "result.ndjson"

    def stop(self) -> None:
        self.rss.stop()
        self._server.stop(timeout=30)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
