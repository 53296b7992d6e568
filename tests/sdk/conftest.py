"""Fixtures for running the official, unmodified `labelbox` SDK against the local server."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from postgres_support import BACKENDS, server_on

from export_widget.server import store as tables
from export_widget.server.runner import LocalServer
from export_widget.server.workspace import Workspace

warnings.filterwarnings("ignore", category=DeprecationWarning)


@dataclass(frozen=True)
class Demo:
    """Ground truth read straight from the server's store (never hard-coded)."""

    workspace: Workspace

    def project(self, name: str) -> dict[str, Any]:
        return next(p for p in self.workspace.projects() if p["name"] == name)

    def dataset(self, name: str) -> dict[str, Any]:
        return next(d for d in self.workspace.datasets() if d["name"] == name)

    def slice(self, name: str) -> dict[str, Any]:
        return next(s for s in self.workspace.slices() if s["name"] == name)

    def model_run(self, name: str) -> dict[str, Any]:
        return next(r for r in self.workspace.model_runs() if r["name"] == name)

    def project_row_ids(self, project_id: str) -> set[str]:
        pr, dr = tables.project_rows, tables.data_rows
        query = sa.select(dr.c.id).join(pr, pr.c.data_row_pk == dr.c.pk).where(
            pr.c.project_id == project_id)
        with self.workspace.engine.connect() as conn:
            return {row[0] for row in conn.execute(query)}

    def dataset_rows(self, dataset_id: str) -> list[tuple[str, str | None]]:
        dr = tables.data_rows
        query = sa.select(dr.c.id, dr.c.global_key).where(dr.c.dataset_id == dataset_id)
        with self.workspace.engine.connect() as conn:
            return [(row[0], row[1]) for row in conn.execute(query.order_by(dr.c.pk))]

    def total_rows(self) -> int:
        with self.workspace.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(
                tables.data_rows)).scalar_one())


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest) -> LocalServer:
    """The server the SDK talks to: the embedded one (SQLite) and the team one (PostgreSQL)."""
    return server_on(request)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def demo(server: LocalServer) -> Demo:
    return Demo(Workspace(server.parts.store))


@pytest.fixture(scope="session")
def lb_client(server: LocalServer) -> Any:
    import labelbox

    return labelbox.Client(api_key=server.api_key, endpoint=server.endpoint,
                           rest_endpoint=server.rest_endpoint)
