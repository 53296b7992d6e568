"""The widget's embedded demo server leaves nothing behind, even when its kernel is killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from process_support import wait_gone


def test_a_killed_kernel_leaves_no_demo_directory() -> None:
    kernel = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import time
        from export_widget.demo import demo_client, demo_server
        client = demo_client()
        assert client.get_projects()
        print(demo_server().pid, demo_server().data_dir, flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    assert kernel.stdout is not None
    pid, directory = kernel.stdout.readline().split()
    data_dir = Path(directory)
    assert data_dir.name.startswith("export-widget-demo-") and data_dir.exists()
    kernel.send_signal(signal.SIGKILL)  # a kernel restart: no atexit handler runs
    kernel.wait()
    wait_gone(int(pid), data_dir, "demo server of a killed kernel", timeout=20)


def test_a_kernel_that_exits_removes_its_demo_directory() -> None:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        from export_widget.demo import demo_server
        print(demo_server().data_dir, flush=True)
    """)], capture_output=True, text=True, timeout=120, check=True)
    data_dir = Path(out.stdout.split()[0])
    deadline = time.monotonic() + 20
    while data_dir.exists():
        assert time.monotonic() < deadline, f"the kernel left {data_dir} behind"
        time.sleep(0.2)
