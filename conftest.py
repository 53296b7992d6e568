"""Every pytest run, of `tests/` or of `notebooks/` (nbval), keeps the exports its widgets
run in a scratch history, never in the user's cache: set before any kernel or Lab server
starts, so their processes inherit it. A history dir the caller chose is left alone."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_made: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("EXPORT_WIDGET_HOME"):
        home = tempfile.mkdtemp(prefix="export-widget-home-")
        _made.append(home)
        os.environ["EXPORT_WIDGET_HOME"] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _made:
        shutil.rmtree(home, ignore_errors=True)
        if os.environ.get("EXPORT_WIDGET_HOME") == home:
            del os.environ["EXPORT_WIDGET_HOME"]
    _made.clear()
