"""The History panel and the Compare view in JupyterLab: a real kernel keeps three exports
(a project before and after its store changed, and a model run); the browser lists them,
compares the two project exports, opens one, and shows the model run's metrics."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_lab import kernel_report, open_notebook, run_cell, shot

pytestmark = pytest.mark.browser
DASH = "\u2013"


def test_history_lists_compares_opens_and_scores_exports(lab, lab_page):
    page = lab_page
    open_notebook(page, lab, "history.ipynb")
    run_cell(page, 0)
    root = page.locator(".jp-OutputArea-output .ew-root")
    expect(root).to_be_visible(timeout=90_000)
    expect(root.locator(".ew-state")).to_have_text("Done", timeout=90_000)

    history = root.locator("details.ew-history")
    history.locator("summary").click()
    entries = history.locator("tr.ew-entry")
    expect(entries).to_have_count(3, timeout=20_000)
    expect(history.locator(".ew-history-usage")).to_contain_text("3 exports")
    expect(history.locator(".ew-history-usage")).to_contain_text("(keeps the newest 100, at most ")
    expect(entries.nth(0).locator(".ew-entry-what")).to_have_text(
        "model run: Street Detector / baseline-v1")
    expect(entries.nth(1).locator(".ew-entry-what")).to_have_text("project: Street Scenes QA")
    expect(entries.nth(0)).to_have_class("ew-entry ew-current")
    for i in range(3):
        expect(entries.nth(i).locator(".ew-entry-state")).to_have_text("done")
    compare_btn = history.get_by_role("button", name="Compare", exact=True)
    expect(compare_btn).to_be_disabled()
    entries.nth(2).locator(".ew-pick-a").check()   # the older project export is A
    entries.nth(1).locator(".ew-pick-b").check()   # the newer one is B
    expect(compare_btn).to_be_enabled()
    history.scroll_into_view_if_needed()
    shot(page, "lab_history_01_list.png")

    compare_btn.click()
    view = history.locator(".ew-compare")
    expect(view.locator(".ew-compare-note")).to_contain_text("1 changed, 1 only in A",
                                                              timeout=30_000)
    chip = view.locator(".ew-chip[data-kind='workflow_status']")
    expect(chip).to_contain_text("1 workflow status")
    expect(view.locator(".ew-chip[data-kind='only_in_a']")).to_contain_text("1 only in A")
    expect(view.locator(".ew-chip[data-kind='label_added']")).to_be_disabled()
    rows = view.locator("tr.ew-crow")
    expect(rows).to_have_count(2)
    chip.click()
    expect(rows).to_have_count(1)
    rows.first.click()
    detail = view.locator(".ew-compare-detail")
    expect(detail.locator("li[data-kind='workflow_status']")).to_contain_text(
        "IN_REVIEW → DONE", timeout=20_000)
    expect(detail.locator(".ew-side")).to_have_count(2)
    expect(detail.locator(".ew-side").nth(0)).to_contain_text("data_row")
    # Each side opens where the change is: the project's details, down to its status.
    for side in (0, 1):
        expect(detail.locator(".ew-side").nth(side).locator(
            "li[data-path$='.project_details.workflow_status']")).to_be_visible()
    view.scroll_into_view_if_needed()
    shot(page, "lab_history_02_compare.png")

    # Metrics of the model run: per feature and the confusions.
    entries.nth(0).get_by_role("button", name="Metrics").click()
    table = view.locator(".ew-metrics-table")
    expect(table.locator("tr[data-feature='car']")).to_have_count(1, timeout=30_000)
    expect(table.locator("tr[data-feature='road']")).to_have_count(1)
    expect(view.locator(".ew-confusion")).to_be_visible()
    view.scroll_into_view_if_needed()
    shot(page, "lab_history_03_metrics.png")

    # Open the oldest export: the viewer shows its rows, and the kernel agrees.
    oldest = entries.nth(2).get_attribute("data-entry")
    entries.nth(2).get_by_role("button", name="Open").click()
    expect(root.locator(".ew-message")).to_contain_text("Opened from history", timeout=20_000)
    expect(root.locator(".ew-viewer .ew-range")).to_have_text(f"Lines 1{DASH}12 of 12")
    report = kernel_report(page, 1, lambda r: r["entry"] == oldest)
    assert report["rows"] == 12 and len(report["entries"]) == 3
    root.scroll_into_view_if_needed()
    shot(page, "lab_history_04_opened.png")

    # The panel follows Lab's theme variables: readable in the dark theme too.
    page.evaluate("""() => window.jupyterapp.commands.execute('apputils:change-theme',
        {theme: 'JupyterLab Dark'})""")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'",
                           timeout=30_000)
    page.wait_for_timeout(500)
    colours = history.evaluate("""(el) => {
        const lum = (c) => { const [r, g, b] = c.match(/\\d+/g).map(Number);
                             return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const root = el.closest('.ew-root'), cell = el.querySelector('.ew-entry-what');
        return {fg: lum(getComputedStyle(cell).color),
                bg: lum(getComputedStyle(root).backgroundColor)};
    }""")
    assert colours["fg"] - colours["bg"] > 100, colours
    history.scroll_into_view_if_needed()
    shot(page, "lab_history_05_dark.png")
