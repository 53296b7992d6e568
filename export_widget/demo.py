"""The embedded demo server behind `ExportWidget()`: one per kernel process, removed at exit."""

from __future__ import annotations

import atexit
import pathlib
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Client
    from .server.process import ServerProcess

_lock = threading.Lock()
_server: ServerProcess | None = None


def demo_client() -> Client:
    """A Client for the embedded demo server, started once per kernel process.

    The server runs as a child process: its export threads then build rows on another core
    instead of competing with this kernel's widget for the GIL."""
    global _server
    from .client import Client
    from .server.process import start_server_process

    with _lock:
        if _server is None or not _server.running:
            data_dir = pathlib.Path(tempfile.mkdtemp(prefix="export-widget-demo-"))
            _server = start_server_process(data_dir=data_dir, demo=True)
            atexit.register(_stop, _server, data_dir)
        return Client(api_key=_server.api_key, endpoint=_server.endpoint)


def _stop(server: ServerProcess, data_dir: pathlib.Path) -> None:
    # The demo store and its exports are scratch: a kernel leaves nothing behind.
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
