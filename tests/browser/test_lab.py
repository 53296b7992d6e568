"""The widget in JupyterLab 4 and Chromium: real kernel, real comm, real export server."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from chromium_support import paste
from playwright.sync_api import expect

from .conftest import ARTIFACTS, TOKEN

pytestmark = pytest.mark.browser
DASH = "\u2013"
KSTATUS = ("() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status"
           " ?? null")
RUN_CELL = """async (i) => { const app = window.jupyterapp, nb = app.shell.currentWidget;
  nb.content.activeCellIndex = i; await app.commands.execute('notebook:run-cell'); }"""


def open_notebook(page: Any, lab: str, name: str) -> None:
    page.goto(f"{lab}/lab/tree/{name}?token={TOKEN}&reset")
    page.wait_for_function(f"({KSTATUS})() === 'idle'", timeout=90_000)


def run_cell(page: Any, index: int) -> None:
    page.evaluate(RUN_CELL, index)


def kernel_report(page: Any, cell: int, until: Any, timeout: float = 20.0) -> dict[str, Any]:
    """Re-run the report cell until the kernel's state satisfies `until` (ipywidgets may hold
    back a trait sync until the kernel is idle)."""
    out = page.locator(".jp-Cell").nth(cell).locator(".jp-OutputArea-output")
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run_cell(page, cell)
        try:
            expect(out).to_contain_text("KERNEL=", timeout=5000)
        except AssertionError:
            continue
        text = out.inner_text()
        match = re.search(r"KERNEL=(\{.*\})", text, re.S)
        if match:
            last = json.loads(match.group(1))
            if until(last):
                return last
        page.wait_for_timeout(300)
    raise AssertionError(f"kernel state never matched; last report: {last}")


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_project_export_runs_pages_and_agrees_with_the_kernel(lab, lab_page):
    page = lab_page
    open_notebook(page, lab, "export.ipynb")
    run_cell(page, 0)
    root = page.locator(".jp-OutputArea-output .ew-root")
    expect(root).to_be_visible(timeout=60_000)
    target = root.get_by_label("Project", exact=True)
    expect(target.locator("option", has_text="Large Image Project")).to_have_count(1)
    target.select_option(label="Large Image Project")
    root.get_by_label("Label details").check()
    root.get_by_label("Batches").select_option(label="large-batch-0001")
    expect(root.get_by_role("button", name="Export", exact=True)).to_be_enabled()
    root.scroll_into_view_if_needed()
    shot(page, "lab_01_configured.png")

    root.get_by_role("button", name="Export", exact=True).click()
    expect(root.locator(".ew-state")).to_have_text("Done", timeout=120_000)
    expect(root.get_by_role("progressbar", name="Export progress")).to_have_attribute(
        "aria-valuenow", "100")
    rows_text = root.locator(".ew-stat-rows").inner_text()
    total = int(rows_text.split(" ")[0].replace(",", ""))
    assert total >= 1000, rows_text
    expect(root.locator(".ew-message")).to_have_text(f"Exported {total:,} rows.")
    expect(root.locator(".ew-range")).to_have_text(f"Lines 1{DASH}50 of {total:,}")
    shot(page, "lab_02_done.png")

    root.get_by_role("button", name="Next page").click()
    expect(root.locator(".ew-range")).to_have_text(f"Lines 51{DASH}100 of {total:,}")
    expect(root.locator(".ew-row-node .ew-rowlabel").first).to_have_text("Line 51")

    root.get_by_label("Line number").fill("900")
    root.get_by_role("button", name="Go to line").click()
    focus = root.locator(".ew-row-node.ew-focus")
    expect(focus.locator(".ew-rowlabel")).to_have_text("Line 900")
    data_row = focus.locator("li[data-path='$.data_row']")
    data_row.locator(":scope > .ew-line .ew-key").click()  # the key's label toggles it
    expect(data_row).to_have_attribute("aria-expanded", "true")
    shown_id = json.loads(data_row.locator("li[data-path='$.data_row.id'] .ew-value").inner_text())
    focus.scroll_into_view_if_needed()
    shot(page, "lab_03_line900_expanded.png")

    report = kernel_report(page, 1, lambda r: r["state"] == "done"
                           and r["config"].get("filters", {}).get("batch_ids"))
    assert report["rows"] == total
    assert report["line900"] == shown_id
    assert report["kwargs"]["params"] == {"label_details": True}
    assert len(report["kwargs"]["filters"]["batch_ids"]) == 1
    assert report["validation"] == {}

    # Shown again in another cell, the widget is a second view of the same state.
    run_cell(page, 2)
    second = page.locator(".jp-Cell").nth(2).locator(".ew-root")
    expect(second.locator(".ew-state")).to_have_text("Done", timeout=30_000)
    expect(second.get_by_label("Project", exact=True)).to_have_value(
        report["config"]["target_id"])
    expect(second.get_by_label("Label details")).to_be_checked()
    expect(second.locator(".ew-range")).to_have_text(f"Lines 1{DASH}50 of {total:,}")
    second.scroll_into_view_if_needed()
    shot(page, "lab_04_second_view.png")


def test_a_2001_id_list_shows_the_kernels_validation_error(lab, lab_page):
    page = lab_page
    open_notebook(page, lab, "validation.ipynb")
    run_cell(page, 0)
    root = page.locator(".jp-OutputArea-output .ew-root")
    expect(root).to_be_visible(timeout=60_000)
    ids = root.get_by_label("Ids to export")
    paste(ids, "\n".join(f"key-{i}" for i in range(2001)))
    ids.press("Tab")
    expect(root.locator(".ew-field[data-field='ids'] .ew-count")).to_have_text(
        "2,001 global keys (max 2,000)")
    error = root.locator(".ew-field[data-field='ids'] .ew-error")
    expect(error).to_have_text(
        "global_keys: global_key filter only supports a max of 2000 items.", timeout=15_000)
    export = root.get_by_role("button", name="Export", exact=True)
    expect(export).to_be_disabled()
    expect(root.locator(".ew-why")).to_have_text("Fix the error first (global_keys).")
    root.scroll_into_view_if_needed()
    shot(page, "lab_05_validation_2001_ids.png")
    report = kernel_report(page, 1, lambda r: "global_keys" in r["validation"])
    assert len(report["config"]["filters"]["global_keys"]) == 2001

    # The same widget stays readable in the dark theme: its colours follow Lab's variables.
    page.evaluate("""() => window.jupyterapp.commands.execute('apputils:change-theme',
        {theme: 'JupyterLab Dark'})""")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'",
                           timeout=30_000)
    page.wait_for_timeout(500)  # the theme's stylesheet finishes applying
    colours = root.evaluate("""(el) => {
        const lum = (c) => { const [r, g, b] = c.match(/\\d+/g).map(Number);
                             return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const s = getComputedStyle(el), e = getComputedStyle(el.querySelector('.ew-error'));
        return {fg: lum(s.color), bg: lum(s.backgroundColor), error: e.color};
    }""")
    assert colours["fg"] - colours["bg"] > 100, colours
    shot(page, "lab_06_validation_dark.png")


def test_the_widget_exports_in_notebook_7(lab, lab_page):
    """The same server serves Notebook 7 (/notebooks/...): the widget renders, exports,
    and the kernel agrees, driven through Notebook's own menus."""
    page = lab_page
    page.goto(f"{lab}/notebooks/notebook7.ipynb?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=90_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    root = page.locator(".jp-OutputArea-output .ew-root")
    expect(root).to_be_visible(timeout=60_000)
    root.get_by_label("Project", exact=True).select_option(label="Street Scenes Annotation")
    root.get_by_role("button", name="Export", exact=True).click()
    expect(root.locator(".ew-state")).to_have_text("Done", timeout=60_000)
    shown = int(root.locator(".ew-stat-rows").inner_text().split(" ")[0].replace(",", ""))
    assert shown > 0
    shot(page, "notebook7_done.png")
    report = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")
    deadline = time.monotonic() + 20
    while True:  # the report cell ran before the export; run it again until it agrees
        page.locator(".jp-Cell").nth(1).click()
        page.keyboard.press("Control+Enter")
        try:
            expect(report).to_contain_text(f'"rows": {shown}', timeout=3000)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    expect(report).to_contain_text('"state": "done"')
