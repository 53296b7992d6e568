"""Start the export server inside this process (the widget and the tests use this).

    with start_local_server(demo=True) as server:
        client = labelbox.Client(api_key=server.api_key, endpoint=server.endpoint)

uvicorn runs in a daemon thread on 127.0.0.1 and a free port; the API key is generated
when none is given. Tasks and their files live in the store's database and `data_dir`,
so a server started again on the same ones serves the same exports.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette

from export_widget.server.api import create_app
from export_widget.server.engine import ExportEngine
from export_widget.server.export_query import BATCH_ROWS, prepare_export
from export_widget.server.export_spec import ExportSpec, PreparedExport
from export_widget.server.graphql.resolvers import ApiState, build_schema
from export_widget.server.retention import Retention
from export_widget.server.row_processes import RowProcesses, reaches_store
from export_widget.server.signing import DEFAULT_MAX_AGE, ChunkSigner, load_or_create_secret
from export_widget.server.tasks import TaskStore
from export_widget.server.team.leases import LEASE_SECONDS

DEFAULT_DATA_DIR = Path(".export-widget")
SECRET_ENV = "EXPORT_WIDGET_SIGNING_SECRET"


class StoreRowSource:
    """The engine's row source: the data side's export_query on the store.

    With `processes` >= 1 and a store other processes can open, rows are built and
    serialized in that many row processes; with 0 (or an in-memory store), in the export's
    thread. `close()` stops the processes.
    """

    def __init__(self, engine: Engine, processes: int = 0,
                 batch_rows: int = BATCH_ROWS) -> None:
        if processes < 0:
            raise ValueError(f"export_processes: must be >= 0, got {processes}")
        self._engine = engine
        self._batch_rows = batch_rows
        self._processes = None
        if processes and reaches_store(engine.url):
            self._processes = RowProcesses(
                engine.url.render_as_string(hide_password=False), processes)

    def check(self, spec: ExportSpec) -> PreparedExport:
        return prepare_export(self._engine, spec, self._processes, self._batch_rows)

    def close(self) -> None:
        if self._processes is not None:
            self._processes.close()


class KeyAuthenticator:
    """API key -> user: the server's own key maps to the workspace owner; the store's
    keys (if any) map to their users."""

    def __init__(self, workspace: Any, api_key: str) -> None:
        self._workspace = workspace
        self._api_key = api_key

    def __call__(self, key: str) -> dict[str, Any] | None:
        if hmac.compare_digest(key.encode(), self._api_key.encode()):
            owner: dict[str, Any] | None = self._workspace.user()
            return owner
        stored: dict[str, Any] | None = self._workspace.user_by_api_key(key)
        return stored


@dataclass
class ServerParts:
    """Everything a running server is made of (the CLI and the runner share this)."""

    app: Starlette
    engine: ExportEngine
    store: Engine
    db_url: str
    data_dir: Path
    api_key: str

    def close(self) -> None:
        """Stop the exports (the engine then stops its row processes), then the store."""
        self.engine.close()
        self.store.dispose()


def build_server(
    *, db_url: str | None = None, demo: bool = True, rows: int = 0, api_key: str | None = None,
    data_dir: str | Path | None = None, link_max_age: int = DEFAULT_MAX_AGE, workers: int = 2,
    retention: Retention | None = None, lease_seconds: float = LEASE_SECONDS,
    export_processes: int | None = None,
) -> ServerParts:
    """Open (and seed) the store, recover tasks, and build the ASGI app.

    On SQLite this process is the only one running exports and keeps their streams in
    `data_dir`; on PostgreSQL it is one of a team of processes sharing the database, which
    holds the streams too (`lease_seconds`: how long a dead process's exports wait before
    another process takes them over). `export_processes`: the processes that build export
    rows (None: one per CPU; 0: in this process)."""
    from export_widget.server.demo.media import render_media
    from export_widget.server.store import open_store
    from export_widget.server.workspace import Workspace

    directory = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    # The store and the exports hold the workspace's data: only their owner reads them.
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if db_url is None:
        store_file = (directory / "store.sqlite").resolve()
        os.close(os.open(store_file, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite keeps the mode
    url = db_url or f"sqlite:///{(directory / 'store.sqlite').resolve()}"
    store = open_store(url)
    if demo:
        from export_widget.server.demo.seed import seed_demo

        seed_demo(store, rows=rows)
    key = api_key or new_api_key()
    workspace = Workspace(store)
    processes = default_export_processes() if export_processes is None else export_processes
    rows_source = StoreRowSource(store, processes)
    engine = _export_engine(store, directory, workers, retention, lease_seconds, rows_source)
    state = ApiState(
        workspace=workspace,
        engine=engine,
        signer=ChunkSigner(signing_secret(directory), max_age=link_max_age),
    )
    app = create_app(build_schema(), state, KeyAuthenticator(workspace, key), render_media)
    return ServerParts(app=app, engine=engine, store=store, db_url=url, data_dir=directory,
                       api_key=key)


def default_export_processes() -> int:
    """One row process per CPU: the server's own thread mostly waits on them and the disk."""
    return os.cpu_count() or 1


def new_api_key() -> str:
    return f"ew_{secrets.token_urlsafe(24)}"


def _export_engine(store: Engine, directory: Path, workers: int, retention: Retention | None,
                   lease_seconds: float, source: StoreRowSource) -> ExportEngine:
    tasks = TaskStore(store)
    if store.dialect.name != "postgresql":
        return ExportEngine(tasks, directory, source, workers=workers, retention=retention)
    from export_widget.server.team.engine import TeamExportEngine

    return TeamExportEngine(tasks, store, directory, source, retention=retention,
                            workers=workers, lease_seconds=lease_seconds)


def signing_secret(directory: Path) -> bytes:
    """The chunk-URL signing secret: $EXPORT_WIDGET_SIGNING_SECRET when set (every process
    of a team server must sign alike), else the one kept in the data dir."""
    shared = os.environ.get(SECRET_ENV, "").strip()
    return shared.encode() if shared else load_or_create_secret(directory)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LocalServer:
    """A running in-process export server."""

    host: str
    port: int
    api_key: str
    db_url: str
    data_dir: Path
    parts: ServerParts = field(repr=False)
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def rest_endpoint(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def engine(self) -> ExportEngine:
        return self.parts.engine

    def stop(self) -> None:
        """Stop serving; running exports end FAILED (interrupted), keeping their lines."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.parts.close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_local_server(
    *, db_url: str | None = None, demo: bool = True, rows: int = 0, host: str = "127.0.0.1",
    port: int = 0, api_key: str | None = None, data_dir: str | Path | None = None,
    retention: Retention | None = None, export_processes: int | None = None,
) -> LocalServer:
    """Start the server in a daemon thread and return once it accepts connections.
    `export_processes`: the processes that build export rows (None: one per CPU; 0: in
    this process)."""
    parts = build_server(db_url=db_url, demo=demo, rows=rows, api_key=api_key,
                         data_dir=data_dir, retention=retention,
                         export_processes=export_processes)
    chosen = port or free_port(host)
    config = uvicorn.Config(parts.app, host=host, port=chosen, log_level="warning",
                            access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"export-server:{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            parts.close()
            raise RuntimeError(f"the export server did not start on {host}:{chosen}")
        time.sleep(0.02)
    return LocalServer(host=host, port=chosen, api_key=parts.api_key, db_url=parts.db_url,
                       data_dir=parts.data_dir, parts=parts, _server=server, _thread=thread)
