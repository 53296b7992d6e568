"""The export server as a child process: what a kernel's widget starts."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import psutil
import pytest
from process_support import wait_gone

from export_widget.client import Client
from export_widget.server.process import start_server_process


def test_a_child_server_serves_the_demo_and_stops(tmp_path: Path) -> None:
    with start_server_process(data_dir=tmp_path, demo=True) as server:
        assert server.endpoint.startswith("http://127.0.0.1:")
        with Client(api_key=server.api_key, endpoint=server.endpoint) as client:
            assert any(p.name == "Street Scenes Annotation" for p in client.get_projects())
        refused = httpx.post(server.endpoint, json={"query": "{user{id}}"},
                             headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        pid = server.pid
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_child_server_exits_and_removes_its_directory_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import time
        from export_widget.server.process import start_server_process
        server = start_server_process(demo=False)
        print(server.pid, server.data_dir, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid, directory = parent.stdout.readline().split()
    child, data_dir = int(pid), Path(directory)
    assert psutil.pid_exists(child) and data_dir.name.startswith("export-widget-demo-")
    assert (data_dir / "store.sqlite").exists()
    parent.send_signal(signal.SIGKILL)  # as a kernel killed by a restart would be
    parent.wait()
    wait_gone(child, data_dir, "server", timeout=15)


def test_the_api_key_is_not_on_the_childs_command_line(tmp_path: Path) -> None:
    key = "secret-key-that-ps-must-not-show"
    with start_server_process(data_dir=tmp_path, demo=True, api_key=key) as server:
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert key.encode() not in cmdline and b"export_widget.cli" in cmdline
        ok = httpx.post(server.endpoint, json={"query": "{organization{id}}"},
                        headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200


def test_a_child_server_started_on_a_given_directory_keeps_it(tmp_path: Path) -> None:
    with start_server_process(data_dir=tmp_path, demo=False):
        pass
    assert (tmp_path / "store.sqlite").exists()


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="did not start: it exited with code"):
        start_server_process(data_dir=tmp_path, db_url="nosuchdialect://x", demo=False,
                             startup_timeout=60)


def test_a_key_that_starts_with_a_dash_is_passed_as_a_value(tmp_path: Path) -> None:
    # Generated keys are URL-safe base64, so about one in 64 starts with "-".
    with start_server_process(data_dir=tmp_path, demo=True, api_key="-starts-with-a-dash") as s:
        ok = httpx.post(s.endpoint, json={"query": "{user{id}}"},
                        headers={"Authorization": "Bearer -starts-with-a-dash"})
        assert ok.status_code == 200 and ok.json()["data"]["user"]["id"]
