"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium_support import CHROMIUM, FLAGS, need_chromium

from export_widget.server.runner import LocalServer, start_local_server


@pytest.fixture(scope="session", autouse=True)
def history_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exports kept by widgets during the run go to a temp dir, not the user's cache (kernels
    started by the browser tests inherit the variable)."""
    home = tmp_path_factory.mktemp("export-widget-home")
    before = os.environ.get("EXPORT_WIDGET_HOME")
    os.environ["EXPORT_WIDGET_HOME"] = str(home)
    yield home
    if before is None:
        os.environ.pop("EXPORT_WIDGET_HOME", None)
    else:
        os.environ["EXPORT_WIDGET_HOME"] = before


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One real export server on loopback with the demo workspace, for the whole run."""
    data_dir: Path = tmp_path_factory.mktemp("server")
    with start_local_server(db_url=f"sqlite:///{data_dir / 'store.sqlite'}", demo=True,
                            data_dir=data_dir) as srv:
        yield srv


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
