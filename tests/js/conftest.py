"""The static-page harness: the shipped ESM and CSS in Chromium with a fake model.

Fast tests of the DOM logic only; the real comm, kernel and JupyterLab are in tests/browser.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium_support import need_chromium

from export_widget.catalog import empty_catalog
from export_widget.messages import idle_search, idle_status

HERE = Path(__file__).parent
STATIC = Path(__file__).parents[2] / "export_widget" / "static"


def sample_catalog() -> dict[str, Any]:
    """The catalog a small workspace gives: the real rules, a few named targets."""
    return {
        **empty_catalog(),
        "projects": [{"id": "p-street", "name": "Street scenes"},
                     {"id": "p-retail", "name": "Retail shelves"}],
        "datasets": [{"id": "d-img", "name": "Images"}, {"id": "d-txt", "name": "Texts"}],
        "slices": [{"id": "s-night", "name": "Night shots"}],
        "model_runs": [{"id": "mr-1", "name": "run 1", "model_name": "detector"}],
        "batches": {"p-street": [{"id": "b-1", "name": "batch one"},
                                 {"id": "b-2", "name": "batch two"}],
                    "p-retail": [{"id": "b-9", "name": "shelf batch"}]},
        "timezone": "Europe/Berlin",
    }


@pytest.fixture(scope="session")
def harness_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_chromium()
    root = tmp_path_factory.mktemp("harness")
    shutil.copy(HERE / "harness.html", root / "index.html")
    state = {
        "_esm": (STATIC / "widget.js").read_text(),
        "_css": (STATIC / "widget.css").read_text(),
        "config": {},
        "status": dict(idle_status()),
        "catalog": sample_catalog(),
        "validation": {},
        "code": {"client": "", "sdk": ""},
        "selected": None,
        "search": dict(idle_search()),
    }
    (root / "state.json").write_text(json.dumps(state))
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def page(chromium: Any, harness_site: str) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(harness_site)
    pg.wait_for_selector("body[data-ready='1']", timeout=10_000)
    yield pg
    context.close()
    assert errors == [], f"errors in the page: {errors}"
