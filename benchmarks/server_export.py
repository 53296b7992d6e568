"""1. Server export throughput against the floor: orjson alone, and writing the file.

The export is the large project with every param valid for projects on. The floor re-reads
the finished export file, parses it (untimed), then times `orjson.dumps` of the same rows
and the write of those bytes to a new file, fsync included: what any server must pay.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from export_widget.client import Client, StreamType
from export_widget.client.validation import PARAMS_BY_SCOPE

from .workspace import LARGE_PROJECT, ServerProcess

ALL_PROJECT_PARAMS: dict[str, Any] = {
    name: True for name in PARAMS_BY_SCOPE["project"] if name != "media_type_override"
}
FLOOR_BATCH = 10_000


@dataclass(frozen=True)
class ExportRun:
    task_id: str
    project_id: str
    lines: int
    size: int
    seconds: float
    server_cpu_s: float
    server_peak_rss: int


@dataclass(frozen=True)
class Floor:
    serialize_s: float
    write_s: float


def large_project_id(client: Client) -> str:
    for project in client.get_projects():
        if project.name == LARGE_PROJECT:
            return project.uid
    raise LookupError(f"no project named {LARGE_PROJECT!r} in the demo workspace")


def start_export(client: Client, project_id: str) -> Any:
    return client.get_project(project_id).export(task_name="bench", params=ALL_PROJECT_PARAMS)


def run_export(server: ServerProcess) -> ExportRun:
    """Export the large project and wait for COMPLETE, polling every 50 ms."""
    with Client(api_key=server.api_key, endpoint=server.endpoint) as client:
        project_id = large_project_id(client)
        client.get_user()
        cpu_before = server.cpu_seconds()
        server.rss.reset()
        started = time.monotonic()
        task = start_export(client, project_id)
        while task.status == "IN_PROGRESS":
            time.sleep(0.05)
            task.refresh()
        seconds = time.monotonic() - started
        peak = server.rss.peak
        cpu = server.cpu_seconds() - cpu_before
        if task.status != "COMPLETE":
            raise RuntimeError(f"export task {task.uid} ended {task.status}")
        return ExportRun(task_id=task.uid, project_id=project_id,
                         lines=task.get_total_lines(StreamType.RESULT) or 0,
                         size=task.get_total_file_size(StreamType.RESULT) or 0,
                         seconds=seconds, server_cpu_s=cpu, server_peak_rss=peak)


def floor(export_file: Path) -> Floor:
    """Time orjson.dumps of the exported rows, then writing the result to disk."""
    serialize_s = 0.0
    write_s = 0.0
    with tempfile.TemporaryDirectory(prefix="ew-bench-floor-") as tmp, \
            export_file.open("rb") as source, open(Path(tmp) / "floor.ndjson", "wb") as out:
        batch: list[Any] = []
        for line in source:
            batch.append(orjson.loads(line))
            if len(batch) >= FLOOR_BATCH:
                serialize_s, write_s = _dump(batch, out, serialize_s, write_s)
                batch = []
        serialize_s, write_s = _dump(batch, out, serialize_s, write_s)
        started = time.perf_counter()
        out.flush()
        os.fsync(out.fileno())
        write_s += time.perf_counter() - started
    return Floor(serialize_s=serialize_s, write_s=write_s)


def _dump(rows: list[Any], out: Any, serialize_s: float, write_s: float) -> tuple[float, float]:
    started = time.perf_counter()
    blob = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    dumped = time.perf_counter()
    out.write(blob)
    written = time.perf_counter()
    return serialize_s + dumped - started, write_s + written - dumped
