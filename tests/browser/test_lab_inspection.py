"""Find, tabulate and save in JupyterLab: real kernel, real comm, real export server."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import expect

from .conftest import TOKEN
from .test_lab import DASH, KSTATUS, kernel_report, run_cell, shot

pytestmark = pytest.mark.browser


def open_inspect(page: Any, lab: str) -> None:
    page.goto(f"{lab}/lab/tree/inspect.ipynb?token={TOKEN}&reset")
    page.wait_for_function(f"({KSTATUS})() === 'idle'", timeout=90_000)


def search(root: Any, kind: str, query: str) -> None:
    root.get_by_label("Search kind").select_option(kind)
    root.get_by_label("Search rows").fill(query)
    root.get_by_label("Search rows").press("Enter")


def row_labels(root: Any) -> list[str]:
    return root.locator(".ew-row-node > .ew-line .ew-rowlabel").all_inner_texts()


def download(page: Any, root: Any, what: str, format: str, grain: str | None = None) -> bytes:
    save = root.get_by_role("region", name="Save")
    save.get_by_label("What to save").select_option(what)
    save.get_by_label("File format").select_option(format)
    if grain:
        save.get_by_label("Table rows per").select_option(grain)
    with page.expect_download(timeout=60_000) as event:
        save.get_by_role("button", name="Download").click()
    with open(event.value.path(), "rb") as f:
        return f.read()


def test_search_table_and_save_on_a_project_and_a_model_run(lab, lab_page, tmp_path):
    page = lab_page
    open_inspect(page, lab)
    run_cell(page, 0)
    root = page.locator(".jp-Cell").nth(0).locator(".ew-root")
    expect(root.locator(".ew-state")).to_have_text("Done", timeout=90_000)
    report = kernel_report(page, 1, lambda r: r["rows"] > 0)
    total = report["rows"]

    # Free text narrows the viewer to the matching rows, under their own line numbers.
    search(root, "text", "reject")
    n = len(report["reject"])
    expect(root.locator(".ew-search-summary")).to_have_text(f"{n} of {total} rows match",
                                                            timeout=30_000)
    expect(root.locator(".ew-viewer .ew-range")).to_have_text(f"Matches 1{DASH}{n} of {n}")
    expect(root.locator(".ew-row-node > .ew-line .ew-rowlabel").first).to_have_text(
        f"Line {report['reject'][0] + 1}")
    assert row_labels(root) == [f"Line {line + 1}" for line in report["reject"]]
    root.scroll_into_view_if_needed()
    shot(page, "lab_inspect_01_text_search.png")

    # A structured query, then a malformed one.
    search(root, "sql", "FROM annotations WHERE feature_name = 'car' AND width < 100")
    m = len(report["sql"])
    expect(root.locator(".ew-search-summary")).to_have_text(f"{m} of {total} rows match",
                                                            timeout=30_000)
    expect(root.locator(".ew-row-node > .ew-line .ew-rowlabel").nth(2)).to_have_text(
        f"Line {report['sql'][2] + 1}")
    assert row_labels(root)[:3] == [f"Line {line + 1}" for line in report["sql"][:3]]
    root.get_by_label("Line number").fill(str(report["sql"][1] + 1))
    root.get_by_role("button", name="Go to line").click()
    expect(root.locator(".ew-row-node.ew-focus .ew-rowlabel")).to_have_text(
        f"Line {report['sql'][1] + 1}")
    search(root, "sql", "FROM labels WHERE (")
    expect(root.locator(".ew-search-error")).to_have_text(
        'sql: Parser Error: syntax error at or near "("')
    shot(page, "lab_inspect_02_sql_error.png")
    root.get_by_role("button", name="Clear search").click()
    expect(root.locator(".ew-viewer .ew-range")).to_have_text(
        f"Lines 1{DASH}{min(total, 50)} of {total}")

    # The table at each grain; sorted, filtered, and a click lands on the row.
    root.get_by_text("Table", exact=True).click()
    summary = root.locator(".ew-table-summary")
    expect(summary).to_have_text(f"{report['labels']} labels from {total} rows", timeout=30_000)
    root.get_by_label("One row per").select_option("classification")
    expect(summary).to_have_text(f"{report['answers']} answers from {total} rows",
                                 timeout=30_000)
    root.get_by_label("One row per").select_option("annotation")
    expect(summary).to_have_text(f"{report['annotations']} annotations from {total} rows",
                                 timeout=30_000)
    root.get_by_label("Filter feature_name").fill("car")
    expect(summary).to_contain_text("pass the filters")
    root.get_by_role("button", name="Sort by area").click()
    root.get_by_role("button", name="Sort by area").click()
    first = root.locator(".ew-table tbody tr").first
    expect(first).to_have_attribute("data-line", str(report["top_car_line"]))
    first.click()
    expect(root.locator(".ew-row-node.ew-focus .ew-rowlabel")).to_have_text(
        f"Line {report['top_car_line'] + 1}")
    root.locator(".ew-table-section").scroll_into_view_if_needed()
    shot(page, "lab_inspect_03_table.png")

    # Save: NDJSON as the server sent it, the table as Parquet, image labels as COCO.
    assert hashlib.sha256(download(page, root, "rows", "ndjson")).hexdigest() == \
        report["sha256"]
    table = pd.read_parquet(io.BytesIO(download(page, root, "table", "parquet", "annotation")))
    assert len(table) == report["annotations"]
    coco_path = tmp_path / "export.coco.json"
    coco_path.write_bytes(download(page, root, "rows", "coco"))
    from pycocotools.coco import COCO

    assert len(COCO(str(coco_path)).getAnnIds()) == report["coco"] > 0
    expect(root.get_by_role("region", name="Save").get_by_role("status")).to_contain_text(
        "Saved export.coco.json")
    root.get_by_role("region", name="Save").scroll_into_view_if_needed()
    shot(page, "lab_inspect_04_saved.png")

    # A model-run export: ground truth and predictions are separate sources.
    run_cell(page, 2)
    run_root = page.locator(".jp-Cell").nth(2).locator(".ew-root")
    expect(run_root.locator(".ew-state")).to_have_text("Done", timeout=90_000)
    run_report = kernel_report(page, 3, lambda r: r["rows"] > 0)
    run_root.get_by_text("Table", exact=True).click()
    run_root.get_by_label("One row per").select_option("annotation")
    run_summary = run_root.locator(".ew-table-summary")
    expect(run_summary).to_contain_text("annotations from", timeout=30_000)
    run_root.get_by_label("Filter source").fill("prediction")
    run_root.get_by_label("Filter feature_name").fill("car")
    expect(run_summary).to_contain_text(f"; {run_report['count']} pass the filters")
    run_root.get_by_role("button", name="Sort by area").click()
    run_root.get_by_role("button", name="Sort by area").click()
    top = run_root.locator(".ew-table tbody tr").first
    expect(top).to_have_attribute("data-line", str(run_report["top_line"]))
    top.click()
    expect(run_root.locator(".ew-row-node.ew-focus .ew-rowlabel")).to_have_text(
        f"Line {run_report['top_line'] + 1}")
    run_root.locator(".ew-table-section").scroll_into_view_if_needed()
    shot(page, "lab_inspect_05_model_run_table.png")
