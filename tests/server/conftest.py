"""Fixtures of the server tests: each runs on SQLite (embedded) and PostgreSQL (team)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from postgres_support import BACKENDS, server_on
from sqlalchemy import Engine

from export_widget.server.demo.seed import seed_demo
from export_widget.server.runner import LocalServer
from export_widget.server.store import open_store


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest) -> LocalServer:
    """The real export server with the demo workspace, on each store."""
    return server_on(request)  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty store: a SQLite file, or a new database in the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite'}"
    url: str = request.getfixturevalue("pg_cluster").new_database()
    return url


@pytest.fixture(scope="module")
def engine(store_url: str) -> Iterator[Engine]:
    """A real store with the demo workspace, one per test module and backend."""
    eng = open_store(store_url)
    seed_demo(eng)
    yield eng
    eng.dispose()
