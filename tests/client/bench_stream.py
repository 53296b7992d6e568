"""Quick benchmark: stream one large export with our client and with the official SDK.

    .venv/bin/python -m tests.client.bench_stream --rows 100000

Each reader runs in its own subprocess (so peak RSS is its own) on the same finished task;
reports rows/s, time to first row and peak RSS growth. Not a test: speed is measured here,
never asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from typing import Any

import psutil

READER = r"""
import json, sys, threading, time, warnings
import psutil
kind, key, endpoint, task_id = sys.argv[1:5]
proc = psutil.Process()
base = proc.memory_info().rss
peak = [base]
stop = threading.Event()
def sample():
    while not stop.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.01)
threading.Thread(target=sample, daemon=True).start()
t0 = time.perf_counter()
first = None
n = 0
if kind == "ours":
    from export_widget.client import Client, ExportTask
    client = Client(api_key=key, endpoint=endpoint)
    task = ExportTask.get_task(client, task_id)
    for out in task.get_buffered_stream():
        if first is None:
            first = time.perf_counter() - t0
        n += 1
else:
    warnings.simplefilter("ignore")
    import labelbox as lb
    base_url = endpoint.rsplit("/", 1)[0]
    client = lb.Client(api_key=key, endpoint=endpoint, rest_endpoint=base_url + "/api/v1")
    task = lb.ExportTask.get_task(client, task_id)
    for out in task.get_buffered_stream():
        if first is None:
            first = time.perf_counter() - t0
        n += 1
elapsed = time.perf_counter() - t0
stop.set()
peak[0] = max(peak[0], proc.memory_info().rss)
print(json.dumps({"rows": n, "seconds": elapsed, "first_row_s": first,
                  "rows_per_s": n / elapsed, "peak_rss_growth_mb": (peak[0] - base) / 2**20}))
"""


def run_reader(kind: str, key: str, endpoint: str, task_id: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", READER, kind, key, endpoint, task_id],
                         check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    from export_widget.client import Client, StreamType
    from export_widget.server.runner import start_local_server

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with start_local_server(db_url=f"sqlite:///{tmp}/store.sqlite", demo=True,
                                rows=args.rows, data_dir=tmp) as srv:
            print(f"server seeded in {time.perf_counter() - t0:.1f} s", flush=True)
            client = Client(api_key=srv.api_key, endpoint=srv.endpoint)
            project = max(client.get_projects(), key=lambda p: p.data_row_count)
            t0 = time.perf_counter()
            task = project.export(params={"data_row_details": True, "label_details": True,
                                          "project_details": True, "attachments": True})
            task.wait_till_done()
            size = task.get_total_file_size(StreamType.RESULT) or 0
            print(f"export of {task.get_total_lines(StreamType.RESULT):,} lines, "
                  f"{size / 2**20:.1f} MiB, built in {time.perf_counter() - t0:.1f} s",
                  flush=True)
            print("server process RSS", psutil.Process().memory_info().rss // 2**20, "MiB")
            for kind in ("ours", "sdk"):
                print(kind, run_reader(kind, srv.api_key, srv.endpoint, task.uid), flush=True)


if __name__ == "__main__":
    main()
