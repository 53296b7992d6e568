"""One streaming client in its own process, so its RSS is its own.

    python -m benchmarks.stream_worker {ours,sdk,live} ENDPOINT API_KEY ID [MAX_SECONDS]

`ours` and `sdk` read the finished task ID; `live` starts an export of project ID with our
client and reads it while it runs. Every row's JSON is parsed (`.json`), as a user would.
With MAX_SECONDS the reader stops after that long (rows/s is then over the rows read).
Prints one JSON line: rows, first_row_s, seconds, capped, baseline_rss (after imports).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from typing import Any

import orjson
import psutil

MAX_SECONDS = float("inf")
Reading = tuple[int, float, float, bool]  # rows, first_row_s, seconds, capped


def _consume(rows: Iterable[Any], started: float) -> Reading:
    count = 0
    first = 0.0
    stop_at = started + MAX_SECONDS
    for out in rows:
        out.json  # noqa: B018 - the parse is part of the cost
        if count == 0:
            first = time.monotonic() - started
        count += 1
        if count % 1000 == 0 and time.monotonic() > stop_at:
            return count, first, time.monotonic() - started, True
    return count, first, time.monotonic() - started, False


def read_ours(endpoint: str, key: str, task_id: str) -> Reading:
    from export_widget.client import Client

    client = Client(api_key=key, endpoint=endpoint)
    started = time.monotonic()
    task = client.get_task(task_id)
    return _consume(task.get_stream(), started)


def read_sdk(endpoint: str, key: str, task_id: str) -> Reading:
    warnings.filterwarnings("ignore")
    import labelbox
    from labelbox.schema.export_task import ExportTask

    client = labelbox.Client(api_key=key, endpoint=endpoint,
                             rest_endpoint=endpoint.rsplit("/", 1)[0] + "/api/v1")
    # The SDK buffers the whole export in a NamedTemporaryFile and unlinks it only when
    # its stream is read to the end: give it a directory we remove, whatever happens.
    scratch = tempfile.mkdtemp(prefix="ew-bench-sdk-")
    tempfile.tempdir = scratch
    try:
        started = time.monotonic()
        task = ExportTask.get_task(client, task_id)
        return _consume(task.get_buffered_stream(), started)
    finally:
        tempfile.tempdir = None
        shutil.rmtree(scratch, ignore_errors=True)


def read_live(endpoint: str, key: str, project_id: str) -> Reading:
    from export_widget.client import Client

    from .server_export import start_export

    client = Client(api_key=key, endpoint=endpoint)
    client.get_user()
    started = time.monotonic()
    task = start_export(client, project_id)
    return _consume(task.get_stream(live=True), started)


READERS = {"ours": read_ours, "sdk": read_sdk, "live": read_live}


def main(argv: list[str]) -> int:
    global MAX_SECONDS
    mode, endpoint, key, target, *cap = argv
    if cap:
        MAX_SECONDS = float(cap[0])
    baseline = psutil.Process().memory_info().rss
    if mode == "sdk":
        import labelbox  # noqa: F401 - imported before the baseline, like ours

        baseline = psutil.Process().memory_info().rss
    else:
        import export_widget.client  # noqa: F401

        baseline = psutil.Process().memory_info().rss
    rows, first, seconds, capped = READERS[mode](endpoint, key, target)
    print(orjson.dumps({"rows": rows, "first_row_s": first, "seconds": seconds,
                        "capped": capped, "baseline_rss": baseline}).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
