"""The embedded demo server behind `ExportWidget()`: one per kernel process, removed at exit."""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Client
    from .server.process import ServerProcess

_lock = threading.Lock()
_server: ServerProcess | None = None


def demo_server() -> ServerProcess:
    """The embedded demo server, started once per kernel process.

    The server runs as a child process: its export threads then build rows on another core
    instead of competing with this kernel's widget for the GIL."""
    global _server
    from .server.process import start_server_process

    with _lock:
        if _server is None or not _server.running:
            # The child owns its scratch directory and removes it when it exits, also when
            # this kernel is killed and atexit never runs.
            _server = start_server_process(demo=True)
            atexit.register(_server.stop)
        return _server


def demo_client() -> Client:
    """A Client for the embedded demo server (see `demo_server`)."""
    from .client import Client

    server = demo_server()
    return Client(api_key=server.api_key, endpoint=server.endpoint)
