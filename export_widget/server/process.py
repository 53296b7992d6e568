"""Run the export server in a child process (`export-widget serve`), for a kernel.

Inside a kernel the server's export threads would share the kernel's GIL with the widget's
reader and page handlers; a child process builds rows on the other core and keeps the
notebook responsive. The child exits with its parent, so a killed kernel leaves no server
(and, when the child made its own data directory, no files).

    with start_server_process(demo=True) as server:
        client = Client(api_key=server.api_key, endpoint=server.endpoint)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from pathlib import Path
from types import TracebackType

API_KEY_ENV = "EXPORT_WIDGET_API_KEY"
STARTUP_TIMEOUT = 120.0  # seeding a large demo (--rows) happens before the endpoint line


class ServerProcess:
    """One `export-widget serve` child on loopback; `stop()` ends it."""

    def __init__(self, proc: subprocess.Popen[str], endpoint: str, api_key: str,
                 db_url: str, data_dir: Path) -> None:
        self._proc = proc
        self.endpoint = endpoint
        self.base_url = endpoint.removesuffix("/graphql")
        self.api_key = api_key
        self.db_url = db_url
        self.data_dir = data_dir

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_server_process(*, data_dir: Path | None = None, db_url: str | None = None,
                         demo: bool = True, rows: int = 0, api_key: str | None = None,
                         startup_timeout: float = STARTUP_TIMEOUT) -> ServerProcess:
    """Start the server in a child process on 127.0.0.1 and a free port; return once it
    answers. Raises RuntimeError with the child's output if it does not start.

    Without `data_dir` the child works in a new temporary directory of its own and removes
    it when it exits, also when its parent dies first. The API key reaches the child in its
    environment, never on its command line (which every local user can read).
    """
    key = api_key or secrets.token_urlsafe(24)
    owned = data_dir is None
    directory = Path(tempfile.mkdtemp(prefix="export-widget-demo-")) if owned else data_dir
    assert directory is not None
    store = db_url or f"sqlite:///{directory / 'store.sqlite'}"
    command = [sys.executable, "-m", "export_widget.cli", "serve", f"--db={store}",
               "--port=0", f"--data-dir={directory}", "--exit-with-parent"]
    if owned:
        command.append("--remove-data-dir")
    if demo:
        command += ["--demo", f"--rows={rows}"]
    # Its own session: a kernel killed with its process group (as Jupyter does) must not take
    # the child down before it removes its directory; it leaves once it sees the parent gone.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, API_KEY_ENV: key},
                            start_new_session=True)
    try:
        endpoint = _read_endpoint(proc, startup_timeout)
    except RuntimeError:
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    return ServerProcess(proc, endpoint, key, store, directory)


def _read_endpoint(proc: subprocess.Popen[str], timeout: float) -> str:
    """The child's `endpoint: ...` line, printed once it listens. The pipe is drained for
    the child's whole life (keeping the last lines), so its output can never block it."""
    tail: deque[str] = deque(maxlen=20)
    found: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip())
            if not found and line.startswith("endpoint:"):
                found.append(line.split(":", 1)[1].strip())
                ready.set()
        ready.set()  # the child exited

    threading.Thread(target=drain, name="export-server-output", daemon=True).start()
    ready.wait(timeout)
    if found:
        return found[0]
    exited = None
    if ready.is_set():
        # The output ended: the child is exiting; its code comes a moment after the pipe.
        with contextlib.suppress(subprocess.TimeoutExpired):
            exited = proc.wait(timeout=10)
    proc.kill()
    proc.wait()
    output = "\n".join(tail) or "(no output)"
    if exited is not None:
        raise RuntimeError(f"the export server did not start: it exited with code {exited}:"
                           f"\n{output}")
    raise RuntimeError(f"the export server did not start within {timeout:.0f} s:\n{output}")
