"""Waiting for a killed parent's child process and its scratch directory to go."""

from __future__ import annotations

import time
from pathlib import Path

import psutil


def wait_gone(child: int, directory: Path, who: str, timeout: float) -> None:
    """Until process `child` has exited (or is a zombie) and `directory` no longer exists;
    fails naming `who` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, f"the {who} outlived its parent"
        time.sleep(0.2)
    while directory.exists():
        assert time.monotonic() < deadline, f"the {who} left {directory} behind"
        time.sleep(0.2)
