"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium_support import CHROMIUM, FLAGS, need_chromium
from postgres_support import Cluster, need_postgres, running_cluster

from export_widget.server.runner import LocalServer, start_local_server


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One real export server on loopback with the demo workspace, for the whole run."""
    data_dir: Path = tmp_path_factory.mktemp("server")
    with start_local_server(db_url=f"sqlite:///{data_dir / 'store.sqlite'}", demo=True,
                            data_dir=data_dir) as srv:
        yield srv


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the run, removed afterwards."""
    with running_cluster(need_postgres()) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_server(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[LocalServer]:
    """The same export server as `server`, as a team server on PostgreSQL."""
    with start_local_server(db_url=pg_cluster.new_database(), demo=True,
                            data_dir=tmp_path_factory.mktemp("pg-server")) as srv:
        yield srv


@pytest.fixture(scope="session")
def server(sqlite_server: LocalServer) -> LocalServer:
    """The embedded server (the server and SDK tests parametrise this over both stores)."""
    return sqlite_server


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the run: Playwright's sync API allows one instance at a
    time per thread, so the JS harness and the JupyterLab tests share it."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()
