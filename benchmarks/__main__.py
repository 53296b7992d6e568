"""`python -m benchmarks`: measure export, streaming, random access and the widget at each size.

    python -m benchmarks [--sizes 10000,100000,1000000] [--only NAME[,NAME]] [--out DIR]

Seeds the demo workspace once per size (cached under --out), serves it with
`export-widget serve` in a subprocess, runs every measurement, prints one table and writes the
figures as JSON to benchmarks/results/. Ratios compare figures measured in the same run: each
speed beside its floor (the server export beside orjson.dumps + write of its rows, the client
stream beside orjson.loads of every line) and the load average while each size ran.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
import psutil

from export_widget.history import ENV_HOME

from .table import MB, MIB, Figure, num, ratio, render, three

SECTIONS = ("seed", "export", "stream", "access", "widget", "browser", "inspect")
NEEDS = {"seed": {"seed"}, "export": {"seed", "export"}, "stream": {"seed", "export", "stream"},
         "access": {"seed", "export", "widget", "access"}, "widget": {"seed", "widget"},
         "browser": {"seed", "widget", "browser"}, "inspect": {"seed", "inspect"}}
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
RESULTS = Path(__file__).parent / "results"

WIDGET_TARGET_S = 20.0  # default params, 1,000,000 rows, start() to all rows in the spool


def widget_target_s(result: dict[str, Any]) -> float:
    """The widget target scaled to this size's rows."""
    return WIDGET_TARGET_S * int(result["rows"]) / 1_000_000


FIGURES: tuple[Figure, ...] = (
    Figure("load", "load average, 1 min, when this size started / ended", "",
           lambda r: f"{r['load']['start']:.1f} / {r['load']['end']:.1f}"),
    Figure("seed", "seed the store, s (cached: time of the first seeding)", "",
           num("seed.seed_s", "{:.1f}")),
    Figure("seed", "read the store into the page cache first, s", "",
           num("seed.warm_s", "{:.1f}")),
    Figure("seed", "read it again before each widget run (default / every param), s", "",
           lambda r: f"{r['seed'].get('rewarm_default_s', float('nan')):.1f} / "
                     f"{r['seed'].get('rewarm_s', float('nan')):.1f}"),
    Figure("export", "rows exported", "", num("export.lines")),
    Figure("export", "export file, MB", "", num("export.size", "{:,.1f}", MB)),
    Figure("export", "export to COMPLETE, s", "", num("export.seconds", "{:.2f}")),
    Figure("export", "export rows/s", "", ratio("export.lines", "export.seconds", "{:,.0f}")),
    Figure("export", "export MB/s", "", ratio("export.size", "export.seconds", "{:,.1f}", MB)),
    Figure("export", "server CPU (and its row processes), s", "",
           num("export.server_cpu_s", "{:.2f}")),
    Figure("export", "server peak RSS, MiB", "", num("export.server_peak_rss", "{:,.0f}", MIB)),
    Figure("export", "floor: orjson.dumps of the rows, s", "",
           num("floor.serialize_s", "{:.2f}")),
    Figure("export", "floor: write + fsync the file, s", "", num("floor.write_s", "{:.2f}")),
    Figure("export", "export time / floor time", "< 1.5x",
           ratio("export.seconds", "floor.total_s")),
    Figure("stream", "ours: time to first row, s", "< 0.5 s",
           num("stream.ours.first_row_s", "{:.3f}")),
    Figure("stream", "ours: stream to last row, s (.json parsed)", "",
           num("stream.ours.seconds", "{:.2f}")),
    Figure("stream", "floor: orjson.loads of every line, s", "",
           num("stream.parse_floor_s", "{:.2f}")),
    Figure("stream", "ours: stream time / parse floor", "< 2x",
           ratio("stream.ours.seconds", "stream.parse_floor_s")),
    Figure("stream", "ours: rows/s (.json parsed)", "",
           num("stream.ours.rows_per_s", "{:,.0f}")),
    Figure("stream", "ours: peak RSS, MiB (after imports)", "< 200 MB",
           lambda r: f"{r['stream']['ours']['peak_rss'] / MIB:,.0f} "
                     f"({r['stream']['ours']['baseline_rss'] / MIB:,.0f})"),
    Figure("stream", "SDK get_buffered_stream: rows read", "",
           lambda r: f"{r['stream']['sdk']['rows']:,}" + (
               " (capped)" if r["stream"]["sdk"]["capped"] else ""), part="sdk"),
    Figure("stream", "SDK get_buffered_stream: time to first row, s", "",
           num("stream.sdk.first_row_s", "{:.3f}"), part="sdk"),
    Figure("stream", "SDK: rows/s", "", num("stream.sdk.rows_per_s", "{:,.0f}"),
           part="sdk"),
    Figure("stream", "SDK: peak RSS, MiB (after imports)", "",
           lambda r: f"{r['stream']['sdk']['peak_rss'] / MIB:,.0f} "
                     f"({r['stream']['sdk']['baseline_rss'] / MIB:,.0f})", part="sdk"),
    Figure("stream", "ours / SDK throughput", ">= 2x",
           ratio("stream.ours.rows_per_s", "stream.sdk.rows_per_s"), part="sdk"),
    Figure("stream", "live: export() to first row, s", "< 1 s",
           num("stream.live.first_row_s", "{:.3f}"), "live"),
    Figure("stream", "live: export() to last row, s", "1M < 60 s",
           num("stream.live.seconds", "{:.2f}"), "live"),
    Figure("stream", "live: rows/s end to end", "",
           num("stream.live.rows_per_s", "{:,.0f}"), "live"),
    Figure("stream", "live: client peak RSS, MiB", "< 200 MB",
           num("stream.live.peak_rss", "{:,.0f}", MIB), "live"),
    Figure("stream", "live: server peak RSS, MiB", "",
           num("stream.live.server_peak_rss", "{:,.0f}", MIB), "live"),
    Figure("access", "with_line(n) to first row, ms (first/mid/last-50)", "",
           three("access.with_line")),
    Figure("access", "spool.page(n, 50), ms (first/mid/last-50)", "< 50 ms",
           three("access.spool_page", fmt="{:.2f}")),
    Figure("access", "widget page handler, ms (first/mid/last-50)", "< 50 ms",
           three("access.handler_page", fmt="{:.2f}")),
    Figure("widget", "start to done, s (export + stream + spool)", "1M < 60 s",
           num("widget.seconds", "{:.2f}")),
    Figure("widget", "start to first row in the spool, s", "< 1 s",
           num("widget.first_row_s", "{:.3f}")),
    Figure("widget", "default params: start to done, s", "1M < 20 s",
           num("widget_default.seconds", "{:.2f}")),
    Figure("widget", "default params: start to first row, s", "< 1 s",
           num("widget_default.first_row_s", "{:.3f}")),
    Figure("widget", f"default params: done / target ({WIDGET_TARGET_S:.0f} s per 1M rows)",
           "< 1x", lambda r: f"{r['widget_default']['seconds'] / widget_target_s(r):.2f}x"),
    Figure("widget", "status messages sent", "", num("widget.status_messages")),
    Figure("widget", "status messages, max in any 1 s", "<= ~10", num("widget.max_per_s")),
    Figure("widget", "status messages, mean per s", "", num("widget.mean_per_s", "{:.1f}")),
    Figure("widget", "kernel CPU (client + session + spool), s", "",
           num("widget.kernel_cpu_s", "{:.2f}")),
    Figure("widget", "kernel RSS growth, MiB", "flat",
           num("widget.kernel_rss_growth", "{:,.0f}", MIB)),
    Figure("browser", "render a 50-row page: DOM ready, ms", "",
           num("browser.dom_ms", "{:.1f}")),
    Figure("browser", "render a 50-row page: painted, ms", "",
           num("browser.painted_ms", "{:.1f}")),
    Figure("browser", "bytes of JSON in that page, KB", "",
           num("browser.page_bytes", "{:,.1f}", 1e3)),
    Figure("inspect", "default-params spool, MB", "", num("inspect.spool_bytes", "{:,.0f}", MB)),
    Figure("inspect", "find: free text, s (matches)", "1M < 3 s",
           lambda r: f"{r['inspect']['text']['seconds']:.2f} "
                     f"({r['inspect']['text']['count']:,})"),
    Figure("inspect", "find: SQL over annotations, s (matches)", "1M < 15 s",
           lambda r: f"{r['inspect']['sql']['seconds']:.2f} ({r['inspect']['sql']['count']:,})"),
    Figure("inspect", "find: kernel RSS growth, MiB (text / SQL)", "flat",
           lambda r: f"{r['inspect']['text']['rss_growth'] / MIB:,.0f} / "
                     f"{r['inspect']['sql']['rss_growth'] / MIB:,.0f}"),
    Figure("inspect", "labels_frame('label'), s (records)", "",
           lambda r: f"{r['inspect']['label_frame']['seconds']:.1f} "
                     f"({r['inspect']['label_frame']['count']:,})"),
    Figure("inspect", "labels_frame('annotation'), s (records)", "",
           lambda r: f"{r['inspect']['annotation_frame']['seconds']:.1f} "
                     f"({r['inspect']['annotation_frame']['count']:,})"),
    Figure("inspect", "labels_frame('annotation'): RSS growth, MiB", "a few 100 MB",
           num("inspect.annotation_frame.rss_growth", "{:,.0f}", MIB)),
    Figure("inspect", "Table tab: build annotations, s", "",
           num("inspect.table_build.seconds", "{:.1f}")),
    Figure("inspect", "Table tab: sorted + filtered page, ms", "",
           num("inspect.table_page_s", "{:.1f}", 1e-3)),
)


def _asdict(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = dataclasses.asdict(value)
        for name in ("rows_per_s", "worst"):
            if hasattr(value, name):
                out[name] = getattr(value, name)
        return out
    return value


@dataclasses.dataclass(frozen=True)
class Limits:
    sdk_max_seconds: float | None
    sdk_max_rows: int
    live_max_rows: int


def measure(size: int, root: Path, wanted: set[str], limits: Limits,
            log: Any) -> dict[str, Any]:
    """Every wanted figure at one size; a failing section is recorded, not fatal."""
    from . import (
        browser_render,
        client_stream,
        inspect_run,
        random_access,
        server_export,
        widget_run,
    )
    from .workspace import ServerProcess, drop_from_page_cache, seeded_store, warm_store

    result: dict[str, Any] = {"rows": size, "errors": {},
                              "load": {"start": psutil.getloadavg()[0]}}
    log(f"[{size:,}] seeding (or reusing) the store")
    store = seeded_store(root, size)
    result["seed"] = {**_asdict(store), "warm_s": warm_store(store)}

    def section(name: str, action: Any) -> Any:
        if name not in wanted:
            return None
        log(f"[{size:,}] {name}")
        try:
            return action()
        except Exception as exc:  # recorded and shown in the table; the run goes on
            traceback.print_exc(file=sys.stderr)
            result["errors"][name] = f"{type(exc).__name__}: {exc}"
            return None

    with ServerProcess(store) as server:
        def export() -> server_export.ExportRun:
            done = server_export.run_export(server)
            result["export"] = _asdict(done)
            fl = server_export.floor(server.export_file(done.task_id))
            result["floor"] = {**_asdict(fl), "total_s": fl.serialize_s + fl.write_s}
            return done

        run = section("export", export)
        if run is not None:
            def streams() -> dict[str, Any]:
                out = {"ours": _asdict(client_stream.run_reader(server, "ours", run.task_id)),
                       "parse_floor_s": client_stream.parse_floor(
                           server.export_file(run.task_id))}
                if size <= limits.sdk_max_rows:
                    out["sdk"] = _asdict(client_stream.run_reader(
                        server, "sdk", run.task_id, limits.sdk_max_seconds))
                else:
                    out["sdk"] = {"skipped": f"> --sdk-max-rows {limits.sdk_max_rows:,}"}
                if size <= limits.live_max_rows:
                    out["live"] = _asdict(client_stream.run_reader(server, "live",
                                                                   run.project_id))
                else:
                    out["live"] = {"skipped": f"> --live-max-rows {limits.live_max_rows:,}"}
                return out
            result["stream"] = section("stream", streams)
            drop_from_page_cache(server.export_file(run.task_id))
        project_id = run.project_id if run is not None else None
        if project_id is None and wanted & {"widget", "access", "browser", "inspect"}:
            from export_widget.client import Client

            with Client(api_key=server.api_key, endpoint=server.endpoint) as client:
                project_id = server_export.large_project_id(client)
        def default_params() -> Any:
            # The sections before wrote and read gigabytes of export files, which can push
            # the store out of the page cache: each widget run starts on a warm store, as
            # the export did.
            result["seed"]["rewarm_default_s"] = warm_store(store)
            figures, plain = widget_run.run_widget(server, str(project_id), params={})
            if "inspect" in wanted and plain.session is not None:
                result["inspect"] = section("inspect", lambda: inspect_run.as_dict(
                    inspect_run.run_inspect(plain.session.rows)))  # type: ignore[union-attr]
            plain.close()  # deletes its spool
            return _asdict(figures)
        result["widget_default"] = section(
            "widget" if "widget" in wanted else "inspect", default_params)
        def every_param() -> Any:
            result["seed"]["rewarm_s"] = warm_store(store)
            return widget_run.run_widget(server, str(project_id))
        done = section("widget", every_param)
        if done is not None:
            figures, widget = done
            result["widget"] = _asdict(figures)
            if run is not None:
                def access() -> dict[str, Any]:
                    return {
                        "with_line": _asdict(random_access.with_line_times(
                            server, run.task_id, run.lines)),
                        "spool_page": _asdict(random_access.spool_page_times(widget)),
                        "handler_page": _asdict(random_access.handler_page_times(widget)),
                    }
                result["access"] = section("access", access)
            spool = widget.session.rows if widget.session else None

            def browser() -> Any:
                assert spool is not None
                middle = max(0, spool.count // 2 - 75)
                return _asdict(browser_render.render_times(spool.page(middle, 150)))
            result["browser"] = section("browser", browser)
            widget.close()  # deletes its spool: gigabytes for a big export
    result["load"]["end"] = psutil.getloadavg()[0]
    return result


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes: comma-separated whole numbers, got {text!r}") from None
    if not sizes or any(s < 100 for s in sizes):
        raise argparse.ArgumentTypeError(f"--sizes: each size must be >= 100, got {text!r}")
    return sizes


def parse_sections(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in SECTIONS[1:]]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"--only: comma-separated names from {', '.join(SECTIONS[1:])}, got {text!r}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Export, streaming, random-access and widget benchmarks on the demo "
                    "workspace, at each size.")
    parser.add_argument("--sizes", type=parse_sizes,
                        default=list(DEFAULT_SIZES),
                        help="rows in the large project, comma-separated "
                             "(default 10000,100000,1000000)")
    parser.add_argument("--only", type=parse_sections, action="append",
                        help="run only these measurements (and what they need), comma-"
                             f"separated, from {', '.join(SECTIONS[1:])}; repeatable")
    parser.add_argument("--out", type=Path,
                        default=platformdirs.user_cache_path("export-widget") / "bench-stores",
                        help="where the seeded stores are cached (default: bench-stores in "
                             "the user's cache dir; a run leaves the temp dir as it found it)")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="where the JSON goes (default benchmarks/results/)")
    parser.add_argument("--sdk-max-seconds", type=float, default=120.0,
                        help="stop the official SDK's reader after this long; its rows/s is "
                             "over the rows it read (default 120; 0 = read everything)")
    parser.add_argument("--sdk-max-rows", type=int, default=100_000,
                        help="run the SDK's reader only at sizes up to this (default 100000): "
                             "it downloads the whole export to a temp file before its first "
                             "row")
    parser.add_argument("--live-max-rows", type=int, default=100_000,
                        help="run the live read (a second full export) only at sizes up to "
                             "this (default 100000); the widget run covers the same path")
    args = parser.parse_args(argv)
    limits = Limits(args.sdk_max_seconds or None, args.sdk_max_rows, args.live_max_rows)
    only = {name for names in args.only or [] for name in names}
    wanted: set[str] = set()
    for name in only or SECTIONS:
        wanted |= NEEDS[name]
    shown = [f for f in FIGURES if f.section in (only | {"seed", "load"} if only
                                                  else wanted | {"load"})]

    def log(text: str) -> None:
        print(f"{datetime.now(UTC):%H:%M:%S} {text}", file=sys.stderr, flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_before = psutil.getloadavg()
    # The widgets measured here keep their exports in a scratch history, not the user's.
    with tempfile.TemporaryDirectory(prefix="export-widget-bench-home-") as home:
        os.environ[ENV_HOME] = home
        try:
            results = {size: measure(size, args.out, wanted, limits, log)
                       for size in args.sizes}
        finally:
            del os.environ[ENV_HOME]
    table = render(shown, args.sizes, results)
    print(table)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.results / f"bench-{stamp}.json"
    path.write_text(json.dumps({
        "command": ["python", "-m", "benchmarks", *(argv if argv is not None else sys.argv[1:])],
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version(),
                    "load_average_before": load_before,
                    "load_average_after": psutil.getloadavg()},
        "seconds": time.monotonic() - started,
        "results": {str(k): v for k, v in results.items()},
    }, indent=2, default=str))
    print(f"\nJSON: {path}  ({time.monotonic() - started:.0f} s; load average "
          f"{', '.join(f'{x:.1f}' for x in psutil.getloadavg())} on {psutil.cpu_count()} CPUs)")
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
