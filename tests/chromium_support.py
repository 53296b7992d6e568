"""Debian's Chromium for the JS harness and JupyterLab tests (Playwright cannot download
its own browser here). Fail in CI, skip locally, when something they need is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).parents[1] / "export_widget" / "static"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialing hosts this machine can't reach.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def need_chromium() -> None:
    """Fail when CI=true, skip otherwise, if Chromium or the built bundle is missing."""
    problems = []
    if not Path(CHROMIUM).exists():
        problems.append(f"Chromium not found at {CHROMIUM}")
    if not (STATIC / "widget.js").exists():
        problems.append("export_widget/static/widget.js missing: run `cd js && npm run build`")
    if problems:
        if os.environ.get("CI") == "true":
            pytest.fail("; ".join(problems))
        pytest.skip("; ".join(problems))


def paste(field: Any, text: str) -> None:
    """Put `text` into a text field the way a paste does: one `input` event, then `change`.

    Playwright's `fill` types multi-line text into a field inside JupyterLab in time that
    grows with the square of its lines (7 s for 1,000 lines, over 30 s for 2,001); a user's
    paste is a single input event, which is what these tests are about."""
    field.focus()
    field.evaluate("""(el, text) => {
        el.value = text;
        el.dispatchEvent(new Event("input", {bubbles: true}));
        el.dispatchEvent(new Event("change", {bubbles: true}));
    }""", text)
