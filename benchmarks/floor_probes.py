"""Where the time above the floors goes: the probes behind issue 16's figures.

    python -m benchmarks.floor_probes rows [--rows N]      # build + serialize, us per row
    python -m benchmarks.floor_probes download [--rows N]  # CPU to fetch a finished export
    python -m benchmarks.floor_probes gil [--rows N]       # a stream vs. the switch interval

`rows` builds default-params rows of the large project in this process, 100,000 of them,
with the interpreter's collector as it comes and as the row processes set it. `download`
and `gil` export the large project (every project param) on `export-widget serve` first.
Stores are the benchmark's cached ones (`--out`).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import platformdirs
import psutil
from sqlalchemy import text

from export_widget.client import Client, StreamType, chunk_http
from export_widget.client.stream import LineConverter
from export_widget.server.export_lines import encode_rows
from export_widget.server.export_query import prepare_export
from export_widget.server.export_spec import ExportSpec
from export_widget.server.row_process import GC_THRESHOLD
from export_widget.server.rows.build import Context, build_rows
from export_widget.server.store import connect_store

from .server_export import run_export
from .workspace import LARGE_PROJECT, ServerProcess, seeded_store, warm_store

BATCHES = 200  # of 500 rows, for `rows`


def rows(root: Path, size: int) -> None:
    store = seeded_store(root, size)
    warm_store(store)
    engine = connect_store(store.db_url)
    with engine.connect() as conn:
        project = conn.execute(text("select id from projects where name = :n"),
                               {"n": LARGE_PROJECT}).scalar()
    prepared = prepare_export(engine, ExportSpec(kind="project", target_id=str(project)))
    pages = prepared._pks(500)
    batches = [pks for _, pks in zip(range(BATCHES), pages, strict=False)]
    shape = prepared.shape
    with engine.connect() as conn:
        context = Context.load(conn, "")
        for label in ("collector as it comes", "frozen, threshold as row processes set it"):
            if label.startswith("frozen"):
                gc.freeze()
                gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
            built = encoded = 0.0
            for pks in batches:
                started = time.perf_counter()
                out = build_rows(conn, context, prepared.options, pks,
                                 with_projects=shape.with_projects,
                                 with_experiments=shape.with_experiments,
                                 with_split=shape.with_split,
                                 with_project_tags=shape.with_project_tags)
                middle = time.perf_counter()
                encode_rows(out)
                built, encoded = built + middle - started, encoded + time.perf_counter() - middle
            count = sum(map(len, batches))
            print(f"{label}: build {built / count * 1e6:.1f} us/row, "
                  f"serialize {encoded / count * 1e6:.1f} us/row ({count:,} rows)")
    engine.dispose()


def _finished_export(root: Path, size: int, then: Callable[[ServerProcess, str], None]) -> None:
    store = seeded_store(root, size)
    warm_store(store)
    with ServerProcess(store) as server:
        run = run_export(server)
        print(f"export: {run.lines:,} lines, {run.size / 1e6:,.0f} MB")
        then(server, run.task_id)


def _cpu() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def download(root: Path, size: int) -> None:
    def probe(server: ServerProcess, task_id: str) -> None:
        with Client(api_key=server.api_key, endpoint=server.endpoint) as client:
            api = client.get_task(task_id).get_stream(LineConverter())._api
            chunks, offset = [], 0
            total = client.get_task(task_id).get_total_file_size(StreamType.RESULT) or 0
            while offset < total:
                info = api.file_from_offset(task_id, StreamType.RESULT, offset)
                assert info is not None
                chunks.append(info)
                offset = info.end + 1
        pool = chunk_http.ChunkConnections(60.0, 10.0)
        with httpx.Client() as http:
            for label, fetch in (
                ("httpx", lambda url: http.get(url).content),
                ("http.client", lambda url: b"".join(pool.get(url, {}).iter_bytes())),
            ):
                cpu, started = _cpu(), time.monotonic()
                got = sum(len(fetch(c.url)) for c in chunks)
                print(f"{label}: {got / 1e6:,.0f} MB in {len(chunks)} chunks, "
                      f"{time.monotonic() - started:.2f} s, {_cpu() - cpu:.2f} CPU-s")
        pool.close()
    _finished_export(root, size, probe)


def gil(root: Path, size: int, repeats: int = 3) -> None:
    def probe(server: ServerProcess, task_id: str) -> None:
        with Client(api_key=server.api_key, endpoint=server.endpoint) as client:
            task = client.get_task(task_id)

            def stream() -> float:
                started = time.monotonic()
                for out in task.get_stream():
                    out.json  # noqa: B018 - the parse is the point
                return time.monotonic() - started

            default = sys.getswitchinterval()
            seconds: dict[str, list[float]] = {"5 ms": [], "0.5 ms": []}
            try:
                for _ in range(repeats):
                    for label, interval in (("5 ms", default), ("0.5 ms", 0.0005)):
                        sys.setswitchinterval(interval)
                        seconds[label].append(stream())
            finally:
                sys.setswitchinterval(default)
            for label, runs in seconds.items():
                print(f"switch interval {label}: median {statistics.median(runs):.2f} s "
                      f"({', '.join(f'{s:.2f}' for s in runs)})")
    _finished_export(root, size, probe)


PROBES = {"rows": rows, "download": download, "gil": gil}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor_probes",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("probe", choices=sorted(PROBES))
    parser.add_argument("--rows", type=int, default=200_000,
                        help="rows in the large project (default 200000)")
    parser.add_argument("--out", type=Path,
                        default=platformdirs.user_cache_path("export-widget") / "bench-stores",
                        help="where the seeded stores are cached")
    args = parser.parse_args(argv)
    if args.rows < 100:
        parser.error(f"--rows: must be >= 100, got {args.rows}")
    PROBES[args.probe](args.out, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
