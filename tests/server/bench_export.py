"""Benchmark: a 100,000-row project export with every param, against `export-widget serve`.

    .venv/bin/python tests/server/bench_export.py [--rows 100000]

Runs the server in a subprocess (so its RSS is its own), seeds the demo with N rows in a
temp dir, exports the Large Image Project with every param on, and prints: seconds to the
first readable rows, export rows/s, download MB/s over the chunk URLs, the server's peak
RSS, and the GraphQL operations a client used. Not a test: speed is measured, not asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import httpx
import psutil

from export_widget.server.demo import seed_demo
from export_widget.server.store import open_store

PARAMS = {
    "mediaTypeOverride": None, "includeAttachments": True, "includeEmbeddings": True,
    "includeMetadata": True, "includeDataRowDetails": True, "includeProjectDetails": True,
    "includePerformanceDetails": True, "includeLabelDetails": True,
    "includeInterpolatedFrames": True,
}
EXPORT = """mutation exportDataRowsInProjectPyApi($input: ExportDataRowsInProjectInput!){
  exportDataRowsInProject(input: $input){taskId isStreamable}}"""
STATUS = """query T($u: ID!, $t: ID!){user(where: {id: $u}){createdTasks(where: {id: $t}
  skip: 0 first: 100){status completionPercentage failureReason}}}"""
HEADER = """query H($where: WhereUniqueIdInput, $streamType: TaskStreamType!){task(where: $where){
  exportMetadataHeader(streamType: $streamType){totalSize totalLines}}}"""
FROM_OFFSET = """query O($where: WhereUniqueIdInput, $streamType: TaskStreamType!,
  $offset: UInt64!){task(where: $where){exportFileFromOffset(streamType: $streamType,
  offset: $offset){offsets {start end} lines {start end} file}}}"""


class Peak(threading.Thread):
    """Samples a process's RSS every 20 ms and keeps the maximum."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="ew-bench-")
    db_url = f"sqlite:///{data_dir}/store.sqlite"
    started = time.monotonic()
    # Seed here, so the server process's memory is only what serving costs.
    seed_demo(open_store(db_url), rows=args.rows)
    print(f"seeded {args.rows:,} rows in {time.monotonic() - started:.1f} s")
    server = subprocess.Popen(
        [sys.executable, "-m", "export_widget.cli", "serve", "--db", db_url, "--port", "0",
         "--api-key", "bench", "--data-dir", data_dir],
        stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().split("endpoint:")[1].strip()
        http = httpx.Client(headers={"Authorization": "Bearer bench"}, timeout=120)

        def gql(query: str, variables: dict[str, Any] | None = None) -> Any:
            body = http.post(endpoint, json={"query": query, "variables": variables}).json()
            assert "errors" not in body, body
            return body["data"]

        user = gql("{user{id}}")["user"]["id"]
        project = next(p for p in gql("{projects(skip: 0, first: 100){id name dataRowCount}}")[
            "projects"] if p["name"] == "Large Image Project")
        served = psutil.Process(server.pid)
        baseline = served.memory_info().rss
        cpu_before = sum(served.cpu_times()[:2])
        peak = Peak(server.pid)
        peak.start()
        t0 = time.monotonic()
        task_id = gql(EXPORT, {"input": {
            "taskName": "bench", "isStreamableReady": True, "params": PARAMS,
            "filters": {"projectId": project["id"], "searchQuery": {"scope": None, "query": []}},
            "streamable": True}})["exportDataRowsInProject"]["taskId"]
        first_rows = None
        while True:
            status = gql(STATUS, {"u": user, "t": task_id})["user"]["createdTasks"][0]
            if first_rows is None and gql(HEADER, {"where": {"id": task_id},
                                                   "streamType": "RESULT"})["task"][
                    "exportMetadataHeader"]:
                first_rows = time.monotonic() - t0
            if status["status"] != "IN_PROGRESS":
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
        cpu = sum(served.cpu_times()[:2]) - cpu_before
        assert status["status"] == "COMPLETE", status
        header = gql(HEADER, {"where": {"id": task_id}, "streamType": "RESULT"})["task"][
            "exportMetadataHeader"]
        lines, size = int(header["totalLines"]), int(header["totalSize"])
        d0, offset, chunks, received = time.monotonic(), 0, 0, 0
        while offset < size:
            info = gql(FROM_OFFSET, {"where": {"id": task_id}, "streamType": "RESULT",
                                     "offset": str(offset)})["task"]["exportFileFromOffset"]
            content = httpx.get(info["file"], timeout=60).content
            assert len(content) == int(info["offsets"]["end"]) - offset + 1
            received += len(content)
            offset, chunks = int(info["offsets"]["end"]) + 1, chunks + 1
        download = time.monotonic() - d0
        peak.stop.set()
        peak.join()
        print(f"project rows: {project['dataRowCount']:,}; exported lines: {lines:,}; "
              f"{size / 1e6:.1f} MB")
        print(f"first rows readable after {first_rows:.2f} s")
        print(f"export: {elapsed:.1f} s = {lines / elapsed:,.0f} rows/s; server CPU "
              f"{cpu:.1f} s = {lines / cpu:,.0f} rows per CPU-second")
        print(f"download: {chunks} chunks, {received / 1e6:.1f} MB in {download:.1f} s = "
              f"{received / 1e6 / download:.0f} MB/s")
        print(f"server RSS: {baseline / 2**20:.0f} MiB before, peak {peak.peak / 2**20:.0f} MiB")
        print(f"load average during the run: {psutil.getloadavg()}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
