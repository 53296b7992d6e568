"""`export-widget serve --workers N`: one host's cores serving one team database.

uvicorn's process supervisor runs N worker processes on one listening socket; each builds
its own server (`worker_app`) from the settings the parent leaves in the environment, so
nothing but the database is shared between them. The parent seeds the demo (once) and
creates the signing secret before any worker starts, so workers never race for either.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from export_widget.server.retention import Retention

SETTINGS_ENV = "EXPORT_WIDGET_WORKER_SETTINGS"


@dataclass(frozen=True)
class WorkerSettings:
    """What every worker process builds its server from."""

    db_url: str
    api_key: str
    data_dir: str
    lease_seconds: float
    retention_days: float | None = None
    retention_bytes: int | None = None


def worker_app() -> Starlette:
    """The app of one worker process (uvicorn calls this factory in each worker)."""
    from export_widget.server.runner import build_server

    settings = WorkerSettings(**orjson.loads(os.environ[SETTINGS_ENV]))
    parts = build_server(db_url=settings.db_url, demo=False, api_key=settings.api_key,
                         data_dir=settings.data_dir, lease_seconds=settings.lease_seconds,
                         retention=Retention(settings.retention_days, settings.retention_bytes))

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        # A worker that stops hands its exports on to the others, then stops its row
        # processes and the store.
        parts.close()

    parts.app.router.lifespan_context = lifespan
    return parts.app


def serve_workers(settings: WorkerSettings, *, host: str, port: int, workers: int,
                  announce: Any) -> None:
    """Bind the socket, `announce(port)`, then run `workers` worker processes until stopped."""
    from export_widget.server.runner import signing_secret

    signing_secret(Path(settings.data_dir))  # created here, read by every worker
    os.environ[SETTINGS_ENV] = orjson.dumps(asdict(settings)).decode()
    config = uvicorn.Config("export_widget.server.team.workers:worker_app", factory=True,
                            host=host, port=port, workers=workers, log_level="warning",
                            lifespan="on")
    sock = config.bind_socket()
    announce(sock.getsockname()[1])
    Multiprocess(config, sockets=[sock]).run()
