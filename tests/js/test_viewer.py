"""The row viewer and the progress panel, in Chromium with a fake model (fast, DOM only)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
DASH = "\u2013"  # the range separator the pager shows


def row(i: int) -> dict[str, Any]:
    return {"data_row": {"id": f"dr-{i}", "global_key": f"gk-{i}",
                         "details": {"dataset_name": "Images", "tags": ["a", "b"]}},
            "media_attributes": {"width": 640 + i, "height": 480}}


def load_rows(page: Any, n: int, stream: str = "result", state: str = "done") -> None:
    page.evaluate("(a) => { window.__rows[a.stream] = a.lines; }",
                  {"stream": stream, "lines": [json.dumps(row(i)) for i in range(n)]})
    set_status(page, state=state, rows=n if stream == "result" else 0,
               errors=n if stream == "errors" else 0)


def set_status(page: Any, **changes: Any) -> None:
    page.evaluate("""(c) => { const s = {...window.__model.get('status'), ...c};
        s.seq = (s.seq || 0) + 1; window.__kernel.update({status: s}); }""", changes)


def row_labels(page: Any) -> list[str]:
    return page.locator(".ew-row-node > .ew-line .ew-rowlabel").all_inner_texts()


def test_rows_show_as_trees_with_line_numbers(page):
    load_rows(page, 120)
    expect(page.locator(".ew-range")).to_have_text(f"Lines 1{DASH}50 of 120")
    labels = row_labels(page)
    assert labels[0] == "Line 1" and labels[-1] == "Line 50" and len(labels) == 50
    first = page.locator(".ew-row-node").first
    expect(first.locator(":scope > .ew-group > li > .ew-line .ew-key")).to_have_text(
        ["data_row", "media_attributes"])
    expect(first.locator(":scope > .ew-line .ew-rowhint")).to_have_text("gk-0")


def test_pager_moves_first_next_last_prev(page):
    load_rows(page, 120)
    page.get_by_role("button", name="Next page").click()
    expect(page.locator(".ew-range")).to_have_text(f"Lines 51{DASH}100 of 120")
    page.get_by_role("button", name="Last page").click()
    expect(page.locator(".ew-range")).to_have_text(f"Lines 71{DASH}120 of 120")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    expect(page.locator(".ew-range")).to_have_text(f"Lines 21{DASH}70 of 120")
    page.get_by_role("button", name="First page").click()
    expect(page.locator(".ew-range")).to_have_text(f"Lines 1{DASH}50 of 120")
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()


def test_page_size_changes_the_page(page):
    load_rows(page, 120)
    page.get_by_label("Rows per page").select_option("10")
    expect(page.locator(".ew-range")).to_have_text(f"Lines 1{DASH}10 of 120")
    assert len(row_labels(page)) == 10
    last = page.evaluate("() => window.__log.sent.filter((m) => m.type === 'page').at(-1)")
    assert last["n"] == 10 and last["line"] == 0


def test_go_to_line_shows_that_line_first_and_marks_it(page):
    load_rows(page, 1000)
    page.get_by_label("Line number").fill("777")
    page.get_by_role("button", name="Go to line").click()
    expect(page.locator(".ew-range")).to_have_text(f"Lines 777{DASH}826 of 1,000")
    expect(page.locator(".ew-row-node.ew-focus .ew-rowlabel")).to_have_text("Line 777")
    page.get_by_label("Line number").fill("5000")
    page.get_by_label("Line number").press("Enter")
    expect(page.locator(".ew-note")).to_have_text("Line 5,000 is past the end (1,000 lines).")


def test_a_late_reply_to_an_older_request_is_dropped(page):
    load_rows(page, 300)
    expect(page.locator(".ew-range")).to_have_text(f"Lines 1{DASH}50 of 300")
    # The reply for page 2 comes late, after the reply for page 3: page 3 must stay.
    page.evaluate("() => { window.__kernel.delays = [400, 0]; }")
    page.get_by_role("button", name="Next page").click()
    page.get_by_role("button", name="Go to line").click()  # empty input: nothing sent
    page.get_by_label("Line number").fill("101")
    page.get_by_role("button", name="Go to line").click()
    expect(page.locator(".ew-range")).to_have_text(f"Lines 101{DASH}150 of 300")
    page.wait_for_timeout(600)  # let the late reply arrive
    expect(page.locator(".ew-range")).to_have_text(f"Lines 101{DASH}150 of 300")
    assert row_labels(page)[0] == "Line 101"


def test_stale_reply_count_is_visible_to_the_rpc(page):
    load_rows(page, 300)
    page.evaluate("() => { window.__kernel.autoReply = false; }")
    page.get_by_role("button", name="Next page").click()
    page.get_by_role("button", name="Last page").click()
    sent = page.evaluate("() => window.__log.sent.filter((m) => m.type === 'page').slice(-2)")
    # Answer the newer request, then the older one.
    page.evaluate("(m) => window.__kernel.custom(window.__kernel.answer(m))", sent[1])
    page.evaluate("(m) => window.__kernel.custom(window.__kernel.answer(m))", sent[0])
    expect(page.locator(".ew-range")).to_have_text(f"Lines 251{DASH}300 of 300")


def test_clicking_a_key_label_toggles_it_like_the_arrow(page):
    load_rows(page, 3)
    node = page.locator(".ew-row-node").first.locator("li[data-path='$.data_row']")
    arrow = node.get_by_role("button", name="Expand data_row")
    expect(arrow).to_have_attribute("aria-expanded", "false")
    node.locator(":scope > .ew-line .ew-key").click()
    expect(node).to_have_attribute("aria-expanded", "true")
    expect(node.locator("li[data-path='$.data_row.id'] .ew-value")).to_have_text('"dr-0"')
    node.get_by_role("button", name="Collapse data_row").click()
    expect(node).to_have_attribute("aria-expanded", "false")
    expect(node.locator("li[data-path='$.data_row.id']")).to_be_hidden()
    arrow.click()
    expect(node.locator("li[data-path='$.data_row.id']")).to_be_visible()


def test_a_row_and_the_page_expand_and_collapse(page):
    load_rows(page, 4)
    first = page.locator(".ew-row-node").first
    first.get_by_role("button", name="Collapse Line 1").click()
    expect(first.locator("li[data-path='$.data_row']")).to_be_hidden()
    page.get_by_role("button", name="Expand all rows on this page").click()
    expect(page.locator("li[data-path='$.data_row.details.tags[1]'] .ew-value")).to_have_text(
        ['"b"'] * 4)
    page.get_by_role("button", name="Collapse all rows on this page").click()
    expect(page.locator("li[data-path='$.data_row']")).to_have_count(4)
    expect(page.locator("li[data-path='$.data_row']").first).to_be_hidden()


def test_strings_from_rows_are_text_never_html(page):
    evil = {"data_row": {"id": "<img src=x id=pwn onerror=\"window.__pwned=1\">",
                         "<b id=keypwn>k</b>": "<script>window.__pwned=2</script>"}}
    page.evaluate("(l) => { window.__rows.result = [l]; }", json.dumps(evil))
    set_status(page, state="done", rows=1)
    page.get_by_role("button", name="Expand all rows on this page").click()
    value = page.locator("li[data-path='$.data_row.id'] .ew-value")
    expect(value).to_have_text(json.dumps(evil["data_row"]["id"]))
    assert page.locator("#pwn, #keypwn, .ew-rows img, .ew-rows script").count() == 0
    assert page.evaluate("() => window.__pwned ?? null") is None


def test_copy_path_and_value(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    load_rows(page, 2)
    node = page.locator(".ew-row-node").first
    node.get_by_role("button", name="Expand data_row").click()
    page.get_by_role("button", name="Copy path $.data_row.global_key").first.click()
    expect(page.locator(".ew-note")).to_have_text("Copied path $.data_row.global_key")
    assert page.evaluate("() => navigator.clipboard.readText()") == "$.data_row.global_key"
    page.get_by_role("button", name="Copy value of $.data_row.details").first.click()
    copied = json.loads(page.evaluate("() => navigator.clipboard.readText()"))
    assert copied == {"dataset_name": "Images", "tags": ["a", "b"]}


def test_rows_appear_while_the_export_still_runs(page):
    page.evaluate("(l) => { window.__rows.result = l; }", [json.dumps(row(i)) for i in range(7)])
    set_status(page, state="streaming", rows=7, percent=20.0)
    expect(page.locator(".ew-range")).to_have_text(f"Lines 1{DASH}7 of 7")
    page.evaluate("(l) => { window.__rows.result.push(...l); }",
                  [json.dumps(row(i)) for i in range(7, 30)])
    set_status(page, state="streaming", rows=30, percent=60.0)
    expect(page.locator(".ew-range")).to_have_text(f"Lines 1{DASH}30 of 30")
    assert len(row_labels(page)) == 30


def test_errors_tab_pages_the_error_stream(page):
    page.evaluate("""() => { window.__rows.errors = [JSON.stringify({error: "media unreadable",
        data_row_id: "dr-9"})]; }""")
    set_status(page, state="done", rows=0, errors=1)
    tab = page.get_by_role("tab", name=re.compile("Errors"))
    expect(tab).to_have_text("Errors (1)")
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(page.locator(".ew-row-node li[data-path='$.error'] .ew-value")).to_have_text(
        '"media unreadable"')
    last = page.evaluate("() => window.__log.sent.filter((m) => m.type === 'page').at(-1)")
    assert last["stream"] == "errors"


def test_progress_shows_state_percent_counts_and_times(page):
    set_status(page, state="streaming", percent=42.0, rows=12345, bytes=3 * 1024 * 1024,
               rows_per_s=2500.0, elapsed_s=65.0, eta_s=90.0, errors=2)
    bar = page.get_by_role("progressbar", name="Export progress")
    expect(bar).to_have_attribute("aria-valuenow", "42")
    expect(page.locator(".ew-state")).to_have_text("Streaming rows")
    expect(page.locator(".ew-stat-rows")).to_have_text("12,345")
    expect(page.locator(".ew-stat-bytes")).to_have_text("3.0 MB")
    expect(page.locator(".ew-stat-rate")).to_have_text("2,500")
    expect(page.locator(".ew-stat-elapsed")).to_have_text("1m 5s")
    expect(page.locator(".ew-stat-eta")).to_have_text("1m 30s")
    expect(page.locator(".ew-stat-errors")).to_have_text("2")


def test_cancel_is_offered_only_while_running_and_sends_cancel(page):
    cancel = page.get_by_role("button", name="Cancel")
    expect(cancel).to_be_disabled()
    set_status(page, state="running", percent=5.0)
    expect(cancel).to_be_enabled()
    expect(page.get_by_role("button", name="Export", exact=True)).to_be_disabled()
    expect(page.locator(".ew-why")).to_have_text(
        "An export is running; cancel it to start another.")
    cancel.click()
    assert page.evaluate("() => window.__log.sent.at(-1).type") == "cancel"


def test_a_failure_shows_its_reason_and_keeps_the_rows(page):
    load_rows(page, 20, state="streaming")
    set_status(page, state="failed", rows=20,
               message="NetworkError: connection reset. 20 rows kept.")
    expect(page.locator(".ew-state")).to_have_text("Failed")
    expect(page.locator(".ew-message")).to_have_text(
        "NetworkError: connection reset. 20 rows kept.")
    expect(page.locator(".ew-range")).to_have_text(f"Lines 1{DASH}20 of 20")


def test_resume_is_offered_after_a_failure_and_sends_resume(page):
    resume = page.get_by_role("button", name="Resume")
    expect(resume).to_be_hidden()
    set_status(page, state="failed", task_id="t-1", rows=3, message="NetworkError: reset.")
    expect(resume).to_be_visible()
    resume.click()
    assert page.evaluate("() => window.__log.sent.at(-1).type") == "resume"
    set_status(page, state="running", message="Resuming task t-1 at line 4.")
    expect(resume).to_be_hidden()
