"""4b. Time for Chromium to render a page of 50 real exported rows in the widget's viewer.

Reuses the widget engineer's static-page harness (tests/js/harness.html and the constants
of tests/js/conftest.py): the shipped ESM and CSS with a fake model that answers page
requests from `window.__rows`. A click on "Next page"/"Previous page" is timed in the page
until the 50 new rows are in the DOM and one frame has been painted.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from export_widget.messages import idle_status

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
HARNESS_DIR = ROOT / "tests" / "js"
STATIC = ROOT / "export_widget" / "static"
FLIPS = 6

TIME_FLIP = """async (label) => {
  const range = document.querySelector('.ew-range');
  const before = range.textContent;
  const root = document.getElementById('root');
  const t0 = performance.now();
  const done = new Promise((resolve) => {
    const ready = () => range.textContent !== before &&
      document.querySelectorAll('.ew-row-node').length === 50;
    const obs = new MutationObserver(() => { if (ready()) { obs.disconnect(); resolve(); } });
    obs.observe(root, { subtree: true, childList: true, characterData: true });
  });
  document.querySelector(`button[aria-label="${label}"]`).click();
  await done;
  const dom = performance.now() - t0;
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  return { dom, painted: performance.now() - t0 };
}"""


@dataclass(frozen=True)
class RenderTimes:
    """Median milliseconds per page flip of 50 rows."""

    dom_ms: float
    painted_ms: float
    page_bytes: int


def _harness_conftest() -> ModuleType:
    tests_dir = str(HARNESS_DIR.parent)  # the harness imports tests/chromium_support.py
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    spec = importlib.util.spec_from_file_location("_ew_js_harness", HARNESS_DIR / "conftest.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {HARNESS_DIR / 'conftest.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def harness_page(width: int, height: int, **state: Any) -> Iterator[Page]:
    """The static harness (the shipped ESM and CSS, `state` added to the model's first
    state) served from a temp directory and open in headless Chromium, ready."""
    if not (STATIC / "widget.js").exists():
        raise FileNotFoundError("export_widget/static/widget.js: run `cd js && npm run build`")
    harness = _harness_conftest()
    import chromium_support  # on sys.path once the harness is loaded
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="ew-bench-harness-") as tmp:
        site = Path(tmp)
        shutil.copy(HARNESS_DIR / "harness.html", site / "index.html")
        first = {"_esm": (STATIC / "widget.js").read_text(),
                 "_css": (STATIC / "widget.css").read_text(), "config": {},
                 "status": dict(idle_status()), "catalog": harness.sample_catalog(),
                 "validation": {}, **state}
        (site / "state.json").write_text(json.dumps(first))
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_support.CHROMIUM,
                                            headless=True, args=chromium_support.FLAGS)
                try:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
                    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
                    yield page
                finally:
                    browser.close()
        finally:
            server.shutdown()


def show_done(page: Page, rows: int) -> None:
    """Tell the viewer an export of `rows` rows is done, as the kernel would."""
    page.evaluate("""(n) => { const s = {...window.__model.get('status'),
        state: 'done', rows: n, total_rows: n, percent: 100};
        s.seq = (s.seq || 0) + 1; window.__kernel.update({status: s}); }""", rows)


def render_times(lines: list[str]) -> RenderTimes:
    """Flip pages back and forth over `lines` (at least 100 real rows) and time each."""
    if len(lines) < 100:
        raise ValueError(f"lines: need at least 100 rows for two pages, got {len(lines)}")
    with harness_page(1200, 900) as page:
        page.evaluate("(rows) => { window.__rows.result = rows; }", lines)
        show_done(page, len(lines))
        page.wait_for_function(
            "document.querySelectorAll('.ew-row-node').length === 50", timeout=15_000)
        timings = [page.evaluate(TIME_FLIP, "Next page" if i % 2 == 0 else "Previous page")
                   for i in range(FLIPS)]
    return RenderTimes(dom_ms=statistics.median(t["dom"] for t in timings),
                       painted_ms=statistics.median(t["painted"] for t in timings),
                       page_bytes=sum(len(x.encode()) for x in lines[:50]))
