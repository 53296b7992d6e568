"""The team server: several `export-widget serve` processes on one PostgreSQL database.

Each process is a real child process with its own port and data dir; they share only the
database URL, the API key and the signing secret, as two hosts would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from postgres_support import Cluster

from export_widget.cli import seed_store
from export_widget.server import store as tables
from export_widget.server.demo.seed import LARGE_PROJECT

KEY = "team-key"
SECRET = "team-signing-secret"
LARGE_ROWS = 4_000
PROJECT_EXPORT = """mutation E($input: ExportDataRowsInProjectInput!){
  exportDataRowsInProject(input: $input){taskId isStreamable}}"""
TASK = """query T($id: ID!){task(where: {id: $id}){id status failureReason
  exportMetadataHeader(streamType: RESULT){totalSize totalLines}}}"""
FROM_OFFSET = """query O($id: ID!, $offset: UInt64!){task(where: {id: $id}){
  exportFileFromOffset(streamType: RESULT, offset: $offset){offsets {start end} file}}}"""
DETAILS = {"includeDataRowDetails": True, "includeLabelDetails": True,
               "includeProjectDetails": True, "includePerformanceDetails": True}


@dataclass
class ServeProcess:
    popen: subprocess.Popen[str]
    endpoint: str

    def gql(self, query: str, variables: dict[str, Any]) -> Any:
        response = httpx.post(self.endpoint, json={"query": query, "variables": variables},
                              headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    def export_project(self, project_id: str, params: dict[str, Any]) -> str:
        out = self.gql(PROJECT_EXPORT, {"input": {
            "filters": {"projectId": project_id}, "params": params, "streamable": True}})
        task_id: str = out["exportDataRowsInProject"]["taskId"]
        return task_id

    def task(self, task_id: str) -> dict[str, Any]:
        task: dict[str, Any] = self.gql(TASK, {"id": task_id})["task"]
        return task

    def wait(self, task_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (task := self.task(task_id))["status"] == "IN_PROGRESS":
            assert time.monotonic() < deadline, f"export {task_id} still running: {task}"
            time.sleep(0.1)
        return task

    def download(self, task_id: str) -> bytes:
        """The whole RESULT stream, chunk by chunk, through this process."""
        data = bytearray()
        while True:
            info = self.gql(FROM_OFFSET, {"id": task_id, "offset": len(data)})
            chunk = info["task"]["exportFileFromOffset"]
            if chunk is None:
                return bytes(data)
            assert int(chunk["offsets"]["start"]) == len(data)
            body = httpx.get(chunk["file"], timeout=60)
            assert body.status_code == 200
            data += body.content

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def serve(db_url: str, data_dir: Path, *, lease_seconds: float = 2.0) -> ServeProcess:
    """`export-widget serve` on a free port; returns once it listens."""
    data_dir.mkdir(parents=True, exist_ok=True)
    popen = subprocess.Popen(
        [sys.executable, "-m", "export_widget.cli", "serve", f"--db={db_url}", "--port=0",
         f"--api-key={KEY}", f"--data-dir={data_dir}", f"--lease-seconds={lease_seconds}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "EXPORT_WIDGET_SIGNING_SECRET": SECRET})
    assert popen.stdout is not None
    lines = []
    for line in popen.stdout:
        lines.append(line)
        if line.startswith("endpoint:"):
            # Keep draining, so the child can never block on a full pipe.
            threading.Thread(target=popen.stdout.read, daemon=True).start()
            return ServeProcess(popen, line.split(":", 1)[1].strip())
    popen.wait()
    raise AssertionError(f"the server did not start:\n{''.join(lines)}")


@pytest.fixture(scope="module")
def team_db(pg_cluster: Cluster) -> str:
    """A database with the demo workspace and a large project, seeded once."""
    url = pg_cluster.new_database()
    seed_store(url, LARGE_ROWS)
    return url


@pytest.fixture(scope="module")
def pair(team_db: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[ServeProcess, ServeProcess]]:
    first = serve(team_db, tmp_path_factory.mktemp("host-a"))
    second = serve(team_db, tmp_path_factory.mktemp("host-b"))
    yield first, second
    first.stop()
    second.stop()


def _projects(db_url: str) -> dict[str, tuple[str, set[str]]]:
    """name -> (project id, the ids of its data rows), read from the database."""
    engine = sa.create_engine(db_url)
    pr, dr = tables.project_rows, tables.data_rows
    try:
        with engine.connect() as conn:
            projects = {row.id: row.name for row in conn.execute(
                sa.select(tables.projects.c.id, tables.projects.c.name))}
            members: dict[str, set[str]] = {pid: set() for pid in projects}
            for row in conn.execute(sa.select(pr.c.project_id, dr.c.id).join(
                    dr, dr.c.pk == pr.c.data_row_pk)):
                members[row.project_id].add(row.id)
    finally:
        engine.dispose()
    return {name: (pid, members[pid]) for pid, name in projects.items()}


def _row_ids(data: bytes) -> list[str]:
    return [orjson.loads(line)["data_row"]["id"] for line in data.splitlines()]


def test_an_export_created_on_one_process_is_polled_and_streamed_from_the_other(
    pair: tuple[ServeProcess, ServeProcess], team_db: str,
) -> None:
    first, second = pair
    project_id, members = _projects(team_db)["Street Scenes Annotation"]
    task_id = first.export_project(project_id, {"includeLabelDetails": True})
    task = second.wait(task_id)
    assert task["status"] == "COMPLETE"
    data = second.download(task_id)
    header = task["exportMetadataHeader"]
    assert (len(data), data.count(b"\n")) == (int(header["totalSize"]), int(header["totalLines"]))
    assert sorted(_row_ids(data)) == sorted(members)
    assert first.download(task_id) == data


def test_twenty_concurrent_exports_across_two_processes_all_complete_correctly(
    pair: tuple[ServeProcess, ServeProcess], team_db: str,
) -> None:
    projects = sorted((pid, ids) for name, (pid, ids) in _projects(team_db).items()
                      if name != LARGE_PROJECT)
    jobs = [(pair[n % 2], pair[(n + 1) % 2], *projects[n % len(projects)]) for n in range(20)]

    def run(job: tuple[ServeProcess, ServeProcess, str, set[str]]) -> tuple[str, list[str]]:
        creator, reader, project_id, _ids = job
        task_id = creator.export_project(project_id, {"includeDataRowDetails": True})
        task = reader.wait(task_id)
        assert task["status"] == "COMPLETE", task
        return task_id, _row_ids(reader.download(task_id))

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(run, jobs))
    assert len({task_id for task_id, _ in results}) == 20
    for (_creator, _reader, _project_id, ids), (_task_id, exported) in zip(
            jobs, results, strict=True):
        assert len(exported) == len(ids) and set(exported) == ids


def test_a_process_killed_mid_export_loses_nothing(
    team_db: str, tmp_path: Path,
) -> None:
    doomed = serve(team_db, tmp_path / "host-a")
    survivor = serve(team_db, tmp_path / "host-b")
    try:
        project_id, members = _projects(team_db)[LARGE_PROJECT]
        # The clean run is made through the same process, so its media URLs are the same.
        clean_id = doomed.export_project(project_id, DETAILS)
        assert survivor.wait(clean_id)["status"] == "COMPLETE"
        clean = survivor.download(clean_id)
        assert len(_row_ids(clean)) == len(members)

        task_id = doomed.export_project(project_id, DETAILS)
        deadline = time.monotonic() + 60
        while not int((survivor.task(task_id)["exportMetadataHeader"] or {}).get("totalLines", 0)):
            assert time.monotonic() < deadline, "the export wrote nothing"
            time.sleep(0.02)
        doomed.popen.send_signal(signal.SIGKILL)
        doomed.popen.wait()
        cut = survivor.task(task_id)
        assert cut["status"] == "IN_PROGRESS", "the export finished before the kill"
        assert 0 < int(cut["exportMetadataHeader"]["totalLines"]) < len(members)

        task = survivor.wait(task_id)
        assert task["status"] == "COMPLETE", task
        assert survivor.download(task_id) == clean
    finally:
        doomed.stop()
        survivor.stop()
