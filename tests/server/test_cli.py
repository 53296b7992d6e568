"""`export-widget serve` from a real subprocess."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from postgres_support import Cluster

from export_widget.cli import main


def test_serve_prints_the_endpoint_and_key_and_answers_with_that_key(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "export_widget.cli", "serve", "--demo", "--port", "0",
         "--api-key", "cli-key", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().split("endpoint:")[1].strip()
        assert process.stdout.readline().split("api key:")[1].strip() == "cli-key"
        assert endpoint.startswith("http://127.0.0.1:") and endpoint.endswith("/graphql")
        ok = httpx.post(endpoint, json={"query": "{organization{name}}"},
                        headers={"Authorization": "Bearer cli-key"})
        assert ok.status_code == 200 and ok.json()["data"]["organization"]["name"]
        refused = httpx.post(endpoint, json={"query": "{organization{name}}"},
                             headers={"Authorization": "Bearer other"})
        assert refused.status_code == 401
        assert (tmp_path / "store.sqlite").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_refuses_bad_options_naming_them(capsys: object) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert main(["serve", "--rows", "5"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "--port: must be between 0 and 65535, got 70000" in err
    assert "--rows: only applies with --demo" in err
    assert main(["serve", "--export-processes", "-1"]) == 2
    assert "--export-processes: must be >= 0, got -1" in capsys.readouterr().err  # type: ignore[attr-defined]


def test_seed_loads_the_demo_once_and_says_what_it_did(pg_cluster: Cluster,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    url = pg_cluster.new_database()
    assert main(["seed", "--demo", "--db", url]) == 0
    assert main(["seed", "--demo", "--db", url]) == 0
    assert main(["seed", "--demo", "--rows", "50", "--db", url]) == 0
    first, again, grown = capsys.readouterr().out.splitlines()
    assert first.startswith("seeded the demo workspace into postgresql+psycopg://")
    assert again.startswith("the demo workspace is already in") and "nothing to add" in again
    assert grown.startswith("added to the demo workspace in") and "50 data rows added" in grown
    assert main(["seed", "--db", url]) == 2
    assert "--demo: the demo workspace is the only one to seed" in capsys.readouterr().err


def test_workers_need_a_postgresql_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "2"]) == 2
    assert main(["serve", "--workers", "0", "--db", "postgresql+psycopg://h/db"]) == 2
    err = capsys.readouterr().err
    assert "--workers: more than one process needs a PostgreSQL store" in err
    assert "--workers: must be >= 1, got 0" in err


def _workers(pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children():
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:  # ended meanwhile
            continue
        if "multiprocessing" in command and "resource_tracker" not in command:
            found.append(child)
    return found


def test_serve_workers_runs_that_many_processes_on_one_port(pg_cluster: Cluster,
                                                            tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    process = subprocess.Popen(
        [sys.executable, "-m", "export_widget.cli", "serve", "--demo", "--workers", "2",
         "--port", "0", "--api-key", "cli-key", "--data-dir", str(tmp_path), "--db", url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().split("endpoint:")[1].strip()
        deadline = time.monotonic() + 60
        while True:  # the workers start after the endpoint line
            try:
                ok = httpx.post(endpoint, json={"query": "{organization{name}}"},
                                headers={"Authorization": "Bearer cli-key"}, timeout=10)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "no worker answered"
                time.sleep(0.2)
        assert ok.status_code == 200 and ok.json()["data"]["organization"]["name"]
        # The first worker may answer before the second one is spawned: wait for it.
        while len(workers := _workers(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == 2
    finally:
        process.terminate()
        process.wait(timeout=30)
