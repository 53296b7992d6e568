"""The team server on PostgreSQL: the large-project export with one and two server processes.

    .venv/bin/python -m benchmarks.team --rows 1000000 [--db postgresql+psycopg://...]

Without --db it runs on a scratch cluster (Debian's PostgreSQL, removed afterwards). The
store is seeded once (the demo plus `--rows` large-project rows). Then:
- one process: one export of the large project with every project param, created on it;
- two processes: two such exports at once, one created on each (each runs where it was
  created), so the figure is what two processes on this host export together.
Figures: rows/s, peak RSS of each server process, and the database's size after the runs
(all of it, and the chunk rows holding the exports).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

from export_widget.cli import seed_store
from export_widget.client import Client, StreamType
from export_widget.server.process import ServerProcess, start_server_process
from export_widget.server.team.scratch import find_bindir, running_cluster

from .server_export import large_project_id, start_export
from .workspace import API_KEY, RssPeak

SECRET = "bench-signing-secret"


@dataclass(frozen=True)
class Run:
    processes: int
    lines: int
    seconds: float
    rows_per_s: float
    peak_rss_mib: list[float]
    # 1-minute load average when the run started and when it ended: the machine is shared,
    # so a figure means little without it
    load: tuple[float, float]


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL under /usr/lib/postgresql: run scripts/setup.sh "
                         "or pass --db")
    with running_cluster(bindir) as cluster:
        yield cluster.new_database()


def export_on(server: ServerProcess) -> tuple[int, float]:
    """Export the large project through `server`; (lines, seconds to COMPLETE)."""
    with Client(api_key=API_KEY, endpoint=server.endpoint) as client:
        task = start_export(client, large_project_id(client))
        started = time.monotonic()
        while task.status == "IN_PROGRESS":
            time.sleep(0.05)
            task.refresh()
        seconds = time.monotonic() - started
        if task.status != "COMPLETE":
            raise RuntimeError(f"export {task.uid} ended {task.status}")
        return task.get_total_lines(StreamType.RESULT) or 0, seconds


def run(url: str, processes: int) -> Run:
    directories = [Path(tempfile.mkdtemp(prefix="ew-bench-team-")) for _ in range(processes)]
    os.environ["EXPORT_WIDGET_SIGNING_SECRET"] = SECRET
    servers: list[ServerProcess] = []
    try:
        for directory in directories:
            servers.append(start_server_process(data_dir=directory, db_url=url, demo=False,
                                                api_key=API_KEY))
        peaks = [RssPeak(server.pid) for server in servers]
        for peak in peaks:
            peak.start()
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=processes) as pool:
            results = list(pool.map(export_on, servers))
        seconds = time.monotonic() - started
        lines = sum(count for count, _ in results)
        rss = [peak.stop() / 2**20 for peak in peaks]
        return Run(processes, lines, round(seconds, 2), round(lines / seconds),
                   [round(mib, 1) for mib in rss], (load_before, os.getloadavg()[0]))
    finally:
        for server in servers:
            server.stop(timeout=60)
        for directory in directories:
            shutil.rmtree(directory, ignore_errors=True)


def sizes(url: str) -> dict[str, float]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            database_bytes = conn.execute(sa.text(
                "SELECT pg_database_size(current_database())")).scalar_one()
            chunk_bytes = conn.execute(sa.text(
                "SELECT pg_total_relation_size('export_chunks')")).scalar_one()
    finally:
        engine.dispose()
    return {"database_mib": round(database_bytes / 2**20, 1),
            "export_chunks_mib": round(chunk_bytes / 2**20, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.team", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000,
                        help="large-project rows (default 100000)")
    parser.add_argument("--db", default=None,
                        help="an empty or seeded PostgreSQL database (default: a scratch one)")
    args = parser.parse_args(argv)
    with database(args.db) as url:
        started = time.monotonic()
        said = seed_store(url, args.rows)
        seed_s = round(time.monotonic() - started, 1)
        print(f"[seed {seed_s} s] {said}", flush=True)
        runs = []
        for processes in (1, 2):
            runs.append(run(url, processes))
            print(f"[{processes} process(es)] {asdict(runs[-1])}", flush=True)
        stored = sizes(url)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"\nteam server on PostgreSQL, large project with every project param, "
          f"{args.rows:,} rows ({when}, {os.cpu_count()} cores)")
    for one in runs:
        print(f"{one.processes} process(es): {one.lines:,} lines in {one.seconds} s, "
              f"{one.rows_per_s:,} rows/s, peak RSS per process "
              f"{', '.join(f'{mib} MiB' for mib in one.peak_rss_mib)}; load average "
              f"{one.load[0]:.2f} -> {one.load[1]:.2f}")
    print(f"database after the runs: {stored['database_mib']:,} MiB "
          f"(export chunk rows {stored['export_chunks_mib']:,} MiB)")
    print("JSON: " + json.dumps({"rows": args.rows, "when": when, "seed_s": seed_s,
                                 "runs": [asdict(one) for one in runs], **stored}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
