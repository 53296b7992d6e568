"""Select an image row -> its preview shown; and 100 rows paged with the preview open.

Two halves, timed apart and added up:
- kernel: `MediaFetcher.prepare(shapes_of(row))` for a demo street image (fetch the image and
  its mask over HTTP from the export server, tint the mask, name the shapes), cold and cached;
- browser: in the static harness (tests/js) with the real previews and bytes, a click on
  "Preview line N" until the image is decoded, the shapes are drawn and a frame painted.
The sum leaves out the comm hop between kernel and browser (a local websocket, a few ms).

Paging: ArrowDown through 100 rows with the preview open, counting blob URLs created and
revoked; what stays alive must be the shown row's parts only.

    .venv/bin/python -m benchmarks.preview_select
"""

from __future__ import annotations

import base64
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from export_widget.client import Client
from export_widget.inspect import shapes_of
from export_widget.media import MediaFetcher, Prepared

from .browser_render import harness_page, show_done

PROJECT = "Street Scenes Annotation"
PAGED = 100

TIME_SELECT = """async (line) => {
  const title = document.querySelector('.ew-preview-title');
  const t0 = performance.now();
  const shown = () => {
    const img = document.querySelector('.ew-preview img.ew-media');
    return title.textContent.includes(`line ${line + 1} `) && img && img.complete &&
      img.naturalWidth > 0 && document.querySelector('.ew-overlay [role=img]');
  };
  const done = new Promise((resolve) => {
    const tick = () => (shown() ? resolve() : requestAnimationFrame(tick));
    tick();
  });
  document.querySelector(`button[aria-label="Preview line ${line + 1}"]`).click();
  await done;
  await document.querySelector('.ew-preview img.ew-media').decode();
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  return performance.now() - t0;
}"""

PAGE_THROUGH = """async (n) => {
  const title = document.querySelector('.ew-preview-title');
  for (let line = 1; line < n; line++) {
    document.querySelector('.ew-preview button[aria-label="Preview the next row"]').focus();
    const before = title.textContent;
    document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowDown',
      bubbles: true}));
    while (!title.textContent.includes(`line ${line + 1} `)) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  return window.__blobs;
}"""

COUNT_BLOBS = """() => { window.__blobs = {created: 0, revoked: 0};
  const create = URL.createObjectURL, revoke = URL.revokeObjectURL;
  URL.createObjectURL = (b) => { window.__blobs.created++; return create(b); };
  URL.revokeObjectURL = (u) => { window.__blobs.revoked++; revoke(u); }; }"""


@dataclass(frozen=True)
class PreviewTimes:
    """Milliseconds (medians over the labeled street images) and the paging counts."""

    rows: int
    kernel_cold_ms: float
    kernel_cached_ms: float
    browser_ms: float
    total_ms: float
    media_kb: float
    paged_rows: int
    blobs_created: int
    blobs_revoked: int
    blobs_live: int


def _rows(client: Client) -> list[dict[str, Any]]:
    project = next(p for p in client.get_projects() if p.name == PROJECT)
    task = project.export(params={"label_details": True})
    task.wait_till_done(timeout_seconds=120)
    rows = [out.json for out in task.get_stream()]
    return [r for r in rows if any(p["labels"] for p in r["projects"].values())]


def _kernel(rows: list[dict[str, Any]]) -> tuple[list[Prepared], float, float]:
    cold, cached, prepared = [], [], []
    fetcher = MediaFetcher()
    try:
        for n, row in enumerate(rows):
            t0 = time.perf_counter()
            prepared.append(fetcher.prepare(shapes_of(row), n))
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            fetcher.prepare(shapes_of(row), n)
            cached.append(time.perf_counter() - t0)
    finally:
        fetcher.close()
    return prepared, statistics.median(cold) * 1e3, statistics.median(cached) * 1e3


def _browser(rows: list[dict[str, Any]], prepared: list[Prepared]) -> tuple[float, dict[str, int]]:
    # PAGED lines, cycling over the real rows and previews.
    lines = [json.dumps(rows[k % len(rows)]) for k in range(PAGED)]
    previews = {}
    for k in range(PAGED):
        p = prepared[k % len(prepared)]
        previews[k] = {"preview": {**p.preview, "line": k},
                       "buffers": [base64.b64encode(b).decode() for b in p.buffers]}
    with harness_page(1400, 1000, selected=None) as page:
        page.evaluate("(a) => { window.__rows.result = a.lines; "
                      "window.__previews = a.previews; }",
                      {"lines": lines, "previews": previews})
        show_done(page, PAGED)
        page.wait_for_selector(".ew-preview-btn")
        # The first preview pays for module warm-up; time the next ones.
        page.evaluate(TIME_SELECT, len(rows))
        times = [page.evaluate(TIME_SELECT, k) for k in range(len(rows))]
        page.get_by_role("button", name="Preview line 1", exact=True).click()
        page.wait_for_function("document.querySelector('.ew-preview-title')"
                               ".textContent.includes('line 1 ')")
        page.evaluate(COUNT_BLOBS)
        counts: dict[str, int] = page.evaluate(PAGE_THROUGH, PAGED)
        counts["live"] = int(page.locator(".ew-preview").get_attribute(
            "data-live-blobs") or -1)
    return statistics.median(times), counts


def preview_times(api_key: str, endpoint: str) -> PreviewTimes:
    with Client(api_key=api_key, endpoint=endpoint) as client:
        rows = _rows(client)
    prepared, cold, cached = _kernel(rows)
    browser_ms, counts = _browser(rows, prepared)
    media = statistics.median(sum(len(b) for b in p.buffers) for p in prepared)
    return PreviewTimes(rows=len(rows), kernel_cold_ms=cold, kernel_cached_ms=cached,
                        browser_ms=browser_ms, total_ms=cold + browser_ms,
                        media_kb=media / 1e3, paged_rows=PAGED,
                        blobs_created=counts["created"], blobs_revoked=counts["revoked"],
                        blobs_live=counts["live"])


def main() -> None:
    from export_widget.server.runner import start_local_server

    with tempfile.TemporaryDirectory(prefix="ew-bench-preview-store-") as tmp:
        db = Path(tmp) / "store.sqlite"
        with start_local_server(db_url=f"sqlite:///{db}", demo=True, data_dir=Path(tmp)) as srv:
            t = preview_times(srv.api_key, srv.endpoint)
    print(f"| figure ({t.rows} labeled street images, median) | value |\n|---|---|")
    print(f"| kernel: fetch + prepare, cold / cached, ms | {t.kernel_cold_ms:.1f} / "
          f"{t.kernel_cached_ms:.2f} |")
    print(f"| browser: click to image decoded + shapes drawn + painted, ms | "
          f"{t.browser_ms:.1f} |")
    print(f"| select an image row -> preview shown (kernel cold + browser), ms | "
          f"{t.total_ms:.1f} |")
    print(f"| media sent per row (image + tinted mask), KB | {t.media_kb:.1f} |")
    print(f"| paging {t.paged_rows} rows: blob URLs created / revoked / alive at the end | "
          f"{t.blobs_created} / {t.blobs_revoked} / {t.blobs_live} |")


if __name__ == "__main__":
    main()
