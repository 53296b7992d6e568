"""The search box, the Table tab and Save, in Chromium with a fake model and kernel.

The fake kernel answers the panels' messages with the reply shapes of
`export_widget/inspect_routes.py`; the real kernel is exercised in tests/widget and
tests/browser.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from .test_viewer import DASH, load_rows, row, row_labels

pytestmark = pytest.mark.browser

MATCHES_JS = """(numbers) => {
  window.__matches = numbers;
  window.__kernel.responders.find = (c) => ({type: 'find', id: c.id, ok: true, message: '',
                                              search_id: 's1'});
  window.__kernel.responders.match_page = (c) => {
    const all = window.__matches;
    let index = c.index ?? 0;
    if (c.line !== undefined) { index = all.findIndex((n) => n >= c.line);
                                if (index < 0) index = all.length; }
    const numbers = all.slice(index, index + c.n);
    return {type: 'match_page', id: c.id, search_id: 's1', index, matches: all.length,
            total: window.__rows.result.length, numbers,
            lines: numbers.map((n) => window.__rows.result[n])};
  };
}"""


def set_search(page: Any, **changes: Any) -> None:
    page.evaluate("""(c) => { const s = {...window.__model.get('search'), ...c};
        s.seq = (s.seq || 0) + 1; window.__kernel.update({search: s}); }""", changes)


def sent(page: Any, kind: str) -> list[dict[str, Any]]:
    return page.evaluate("(k) => window.__log.sent.filter((m) => m.type === k)", kind)


def test_text_search_narrows_the_viewer_to_the_matches(page):
    load_rows(page, 120)
    page.evaluate(MATCHES_JS, [7, 70, 77])
    page.get_by_label("Search rows").fill("gk-7")
    page.get_by_label("Search rows").press("Enter")
    assert sent(page, "find")[-1] == {"type": "find", "kind": "text", "query": "gk-7",
                                      "id": sent(page, "find")[-1]["id"]}
    set_search(page, id="s1", kind="text", query="gk-7", state="done", scanned=120,
               total=120, matches=3)
    expect(page.locator(".ew-search-summary")).to_have_text("3 of 120 rows match")
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Matches 1{DASH}3 of 3")
    assert row_labels(page) == ["Line 8", "Line 71", "Line 78"]
    page.get_by_role("button", name="Clear search").click()
    assert sent(page, "find_clear")
    set_search(page, id="", kind="", query="", state="idle", scanned=0, total=0, matches=0)
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Lines 1{DASH}50 of 120")


def test_structured_search_pages_through_matches_that_grow(page):
    load_rows(page, 300, state="streaming")
    numbers = list(range(0, 300, 2))  # 150 matches
    page.evaluate(MATCHES_JS, numbers[:40])
    page.get_by_label("Search kind").select_option("sql")
    expect(page.get_by_text("How to write a SQL search")).to_be_visible()
    page.get_by_label("Search rows").fill("FROM labels WHERE review_verdicts = 'Reject'")
    page.get_by_role("button", name="Search", exact=True).click()
    assert sent(page, "find")[-1]["kind"] == "sql"
    set_search(page, id="s1", kind="sql", query="q", state="running", scanned=80, total=300,
               matches=40)
    expect(page.locator(".ew-search-summary")).to_have_text(
        "Searching… 80 of 300 rows read, 40 matches so far")
    expect(page.get_by_label("Search progress")).to_be_visible()
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Matches 1{DASH}40 of 40")
    # More matches arrive while the export streams: the page fills up.
    page.evaluate("(n) => { window.__matches = n; }", numbers)
    set_search(page, state="waiting", scanned=300, matches=150)
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Matches 1{DASH}50 of 150")
    expect(page.locator(".ew-search-summary")).to_have_text(
        "150 of 300 rows match so far; the export is still streaming")
    page.get_by_role("button", name="Next page").click()
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Matches 51{DASH}100 of 150")
    assert row_labels(page)[0] == "Line 101"
    page.get_by_role("button", name="Last page").click()
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Matches 101{DASH}150 of 150")
    # Go to a line that is not a match: the matches from there on, with a note.
    page.get_by_label("Line number").fill("42")
    page.get_by_role("button", name="Go to line").click()
    expect(page.locator(".ew-note")).to_have_text(
        "Line 42 does not match; the matches from line 43 on.")
    assert row_labels(page)[0] == "Line 43"
    page.get_by_label("Line number").fill("43")
    page.get_by_role("button", name="Go to line").click()
    expect(page.locator(".ew-row-node.ew-focus .ew-rowlabel")).to_have_text("Line 43")


def test_a_malformed_query_shows_the_reason_under_the_box(page):
    load_rows(page, 10)
    page.evaluate("""() => { window.__kernel.responders.find = (c) => ({type: 'find', id: c.id,
        ok: false, search_id: '', message: 'sql: Parser Error: syntax error at or near "("'}); }""")
    page.get_by_label("Search kind").select_option("sql")
    page.get_by_label("Search rows").fill("FROM labels WHERE (")
    page.get_by_label("Search rows").press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Parser")).to_have_text(
        'sql: Parser Error: syntax error at or near "("')
    expect(page.get_by_label("Search rows")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Search rows").fill("")
    page.get_by_label("Search rows").press("Enter")
    expect(page.locator(".ew-search-error")).to_have_text("sql: type something to search for")
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Lines 1{DASH}10 of 10")


TABLE_JS = """() => {
  const columns = [{name: 'line', type: 'number'}, {name: 'global_key', type: 'text'},
                   {name: 'feature_name', type: 'text'}, {name: 'area', type: 'number'},
                   {name: 'created_at', type: 'time'}];
  const all = Array.from({length: 60}, (_, i) => [i * 2, `gk-${i * 2}`,
      i === 4 ? '<img src=x onerror="window.__pwned=1">' : (i % 2 ? 'car' : 'road'),
      i * 10.5, '2024-03-01T10:00:00+00:00']);
  window.__tableCalls = 0;
  window.__kernel.responders.table_page = (c) => {
    window.__tableCalls += 1;
    const base = {type: 'table_page', id: c.id, grain: c.grain, message: '', columns,
                  lines: 120, spool_lines: 120, sort: c.sort, descending: c.descending,
                  building: false};
    if (window.__tableCalls === 1) return {...base, state: 'building', done: 30, of: 120,
        columns: [], rows: [], offset: 0, matched: 0, total: 0, lines: 0, building: true};
    let rows = all.filter((r) => !c.filters.feature_name || r[2].includes(c.filters.feature_name));
    if (c.sort === 'area')
      rows = [...rows].sort((a, b) => c.descending ? b[3] - a[3] : a[3] - b[3]);
    return {...base, state: 'ready', done: 120, of: 120, offset: c.offset, matched: rows.length,
            total: all.length, rows: rows.slice(c.offset, c.offset + c.n)};
  };
}"""


def test_the_table_sorts_filters_pages_and_a_click_shows_the_row(page):
    load_rows(page, 120)
    page.evaluate(TABLE_JS)
    page.get_by_text("Table", exact=True).click()
    expect(page.locator(".ew-table-summary")).to_have_text(
        "60 labels from 120 rows", timeout=5000)
    calls = sent(page, "table_page")
    assert calls[0]["grain"] == "label" and calls[0]["n"] == 25 and not calls[0]["rebuild"]
    expect(page.locator(".ew-table-range")).to_have_text(f"Rows 1{DASH}25 of 60")
    # Data is text: markup in a value is shown, never run.
    expect(page.locator(".ew-table td").filter(has_text="<img")).to_have_count(1)
    assert page.evaluate("() => window.__pwned") is None
    page.get_by_role("button", name="Sort by area").click()
    page.get_by_role("button", name="Sort by area").click()
    expect(page.locator("th[data-column='area']")).to_have_attribute("aria-sort", "descending")
    expect(page.locator(".ew-table tbody tr").first.locator("td").nth(3)).to_have_text("619.50")
    assert sent(page, "table_page")[-1]["sort"] == "area"
    assert sent(page, "table_page")[-1]["descending"] is True
    page.get_by_label("Filter feature_name").fill("car")
    expect(page.locator(".ew-table-summary")).to_have_text(
        "60 labels from 120 rows; 30 pass the filters")
    assert sent(page, "table_page")[-1]["filters"] == {"feature_name": "car"}
    page.get_by_role("button", name="Next table page").click()
    expect(page.locator(".ew-table-range")).to_have_text(f"Rows 26{DASH}30 of 30")
    page.get_by_label("One row per").select_option("annotation")
    assert sent(page, "table_page")[-1]["grain"] == "annotation"
    assert sent(page, "table_page")[-1]["filters"] == {}
    # A click on a table row shows that row in the viewer, marked.
    target = page.locator(".ew-table tbody tr[data-line='20']")
    target.click()
    expect(target).to_have_class("ew-table-row ew-selected")
    expect(page.locator(".ew-row-node.ew-focus .ew-rowlabel")).to_have_text("Line 21")
    assert sent(page, "page")[-1]["line"] == 20


def test_a_table_row_that_the_search_did_not_match_is_still_shown(page):
    load_rows(page, 120)
    page.evaluate(MATCHES_JS, [2, 6, 10])
    page.evaluate(TABLE_JS)
    set_search(page, id="s1", kind="text", query="x", state="done", scanned=120, total=120,
               matches=3)
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Matches 1{DASH}3 of 3")
    page.get_by_text("Table", exact=True).click()
    expect(page.locator(".ew-table tbody tr[data-line='4']")).to_be_visible(timeout=5000)
    page.locator(".ew-table tbody tr[data-line='4']").click()
    expect(page.locator(".ew-note")).to_have_text(
        "Line 5 does not match the search; shown on its own.")
    expect(page.locator(".ew-row-node.ew-focus .ew-rowlabel")).to_have_text("Line 5")
    page.locator(".ew-table tbody tr[data-line='6']").click()
    expect(page.locator(".ew-row-node.ew-focus .ew-rowlabel")).to_have_text("Line 7")
    expect(page.locator(".ew-viewer .ew-range")).to_have_text(f"Matches 2{DASH}3 of 3")


def test_save_joins_the_pieces_into_a_download(page):
    load_rows(page, 5)
    page.evaluate("""() => { window.__kernel.responders.save = (c) => {
        window.__saveAsk = c;
        // The pieces overtake the reply, as a fast worker's can in the kernel.
        queueMicrotask(() => {
          const enc = new TextEncoder();
          const parts = ['line,area\\n1,', '2.5\\n'];
          parts.forEach((text, index) => window.__kernel.push(
            {type: 'save_piece', save_id: 'd1', request_id: c.id, index, pieces: 2, size: 16,
             name: 'annotations.csv', mime: 'text/csv'}, [new DataView(enc.encode(text).buffer)]));
        });
        return {type: 'save', id: c.id, ok: true, message: '', save_id: 'd1',
                name: 'annotations.csv'}; }; }""")
    save = page.get_by_role("region", name="Save")
    expect(save.get_by_label("What to save").locator("option[value='matches']")).to_be_disabled()
    save.get_by_label("What to save").select_option("table")
    save.get_by_label("File format").select_option("csv")
    save.get_by_label("Table rows per").select_option("annotation")
    with page.expect_download() as download:
        save.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "annotations.csv"
    with open(download.value.path(), "rb") as f:
        assert f.read() == b"line,area\n1,2.5\n"
    expect(save.get_by_role("status")).to_have_text("Saved annotations.csv (16 B)")
    assert page.evaluate("() => window.__saveAsk") == {
        "type": "save", "what": "table", "format": "csv", "grain": "annotation",
        "only_matches": False, "id": page.evaluate("() => window.__saveAsk.id")}
    text = page.evaluate("""async () => {
        const link = [...document.querySelectorAll('a[download]')];
        return link.length; }""")
    assert text == 0  # the temporary link is gone


def test_a_failed_save_says_why(page):
    load_rows(page, 5)
    page.evaluate("""() => { window.__kernel.responders.save = (c) => {
        setTimeout(() => window.__kernel.push({type: 'save_failed', save_id: 'd9',
            request_id: c.id,
            message: 'OSError: disk full'}), 10);
        return {type: 'save', id: c.id, ok: true, message: '', save_id: 'd9',
                name: 'export.ndjson'}; }; }""")
    save = page.get_by_role("region", name="Save")
    save.get_by_role("button", name="Download").click()
    expect(save.get_by_role("alert")).to_have_text("OSError: disk full")
    expect(save.get_by_role("button", name="Download")).to_be_enabled()


def test_every_new_control_has_an_accessible_name(page):
    load_rows(page, 3)
    page.get_by_text("Table", exact=True).click()
    for name in ("Search kind", "Search rows", "One row per", "What to save", "File format"):
        expect(page.get_by_label(name, exact=True)).to_have_count(1)
    unnamed = page.evaluate("""() => [...document.querySelectorAll(
        '.ew-search input, .ew-search select, .ew-search button, .ew-table-section select,'
        + '.ew-table-section button, .ew-save select, .ew-save button')]
        .filter((el) => !el.getAttribute('aria-label') && !el.closest('label')
                        && !(el.labels && el.labels.length) && !el.textContent.trim())
        .map((el) => el.outerHTML)""")
    assert unnamed == []
    assert json.dumps(row(0))  # the rows helper is shared with the viewer tests
