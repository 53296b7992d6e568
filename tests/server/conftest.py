"""Fixtures of the server's data-side tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from export_widget.server.demo.seed import seed_demo
from export_widget.server.store import open_store


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A real SQLite store with the demo workspace, one per test module."""
    eng = open_store(f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.sqlite'}")
    seed_demo(eng)
    return eng
