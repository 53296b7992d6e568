"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from export_widget.server.runner import LocalServer, start_local_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One real export server on loopback with the demo workspace, for the whole run."""
    data_dir: Path = tmp_path_factory.mktemp("server")
    with start_local_server(db_url=f"sqlite:///{data_dir / 'store.sqlite'}", demo=True,
                            data_dir=data_dir) as srv:
        yield srv
