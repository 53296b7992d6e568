"""The Code panel, the folded configuration, the 900-px column, keyboard order and the
no-Jupyter colour fallback, in Chromium with a fake model.

The test plays the kernel with the real Python code: the `code` trait comes from
`call_render.render_all`, and replies to `code` messages from `code_panel.read_code`.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from contrast import low_contrast
from playwright.sync_api import expect

from export_widget.call_render import render_all
from export_widget.code_panel import read_code
from export_widget.export_request import ExportRequest

from .conftest import sample_catalog

pytestmark = pytest.mark.browser
ENDPOINT = "http://127.0.0.1:8123/graphql"


class FakeWidget:
    """What `read_code` asks of the widget: its parser with this catalog, and its endpoint."""

    catalog = sample_catalog()
    endpoint = ENDPOINT

    def read_code(self, source: str) -> Any:
        from export_widget.call_parse import catalog_notes, parse_export_call

        parsed = parse_export_call(source)
        parsed.notes.extend(catalog_notes(parsed.config, self.catalog))
        return parsed


def contains(part: str) -> re.Pattern[str]:
    """For expect(): the text contains `part`."""
    return re.compile(re.escape(part))


def saved_config(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.__log.saved.at(-1)?.config ?? {}")


def push_code(page: Any) -> dict[str, str]:
    """Play the kernel: the `code` trait for the config the form last saved."""
    code = dict(render_all(ExportRequest.from_config(saved_config(page)), ENDPOINT))
    page.evaluate("(c) => window.__kernel.update({code: c})", code)
    return code


def answer_code_request(page: Any) -> dict[str, Any]:
    """Play the kernel: answer the last `code` message with the real handler."""
    request = page.evaluate("() => window.__log.sent.filter((m) => m.type === 'code').at(-1)")
    assert request, "the panel sent no code message"
    reply = dict(read_code(FakeWidget(), request["id"], request))
    page.evaluate("(r) => window.__kernel.custom(r)", reply)
    return reply


def open_code(page: Any) -> Any:
    page.get_by_role("button", name="Code", exact=True).click()
    text = page.get_by_label("Export code")
    expect(text).to_be_visible()
    return text


def test_code_panel_shows_the_form_as_code_and_follows_it_live(page):
    push_code(page)
    text = open_code(page)
    expect(text).to_have_value(contains('client.get_project("p-street")'))
    page.get_by_label("Label details").check()
    push_code(page)
    expect(text).to_have_value(contains('"label_details": True'))
    page.get_by_label("Code for").select_option("sdk")
    expect(text).to_have_value(contains("import labelbox as lb"))
    expect(text).to_have_value(contains('export_task = client.get_project("p-street")'))


def test_pasted_code_fills_the_form(page):
    push_code(page)
    text = open_code(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    source = ('run = client.get_model_run("mr-1")\n'
              'task = run.export(params={"predictions": True, "label_details": True})\n')
    page.evaluate("(t) => navigator.clipboard.writeText(t)", source)
    text.fill("")
    text.focus()
    page.keyboard.press("Control+V")
    expect(text).to_have_value(source)
    reply = answer_code_request(page)
    assert reply["ok"] and reply["config"]["scope"] == "model_run"
    expect(page.get_by_label("Export", exact=True)).to_have_value("model_run")
    expect(page.get_by_label("Model run", exact=True)).to_have_value("mr-1")
    expect(page.get_by_label("Predictions")).to_be_checked()
    notes = page.locator(".ew-code-notes")
    expect(notes).to_contain_text("params.label_details: not a parameter of model_run exports")
    assert saved_config(page) == {"scope": "model_run", "target_id": "mr-1",
                                  "params": {"predictions": True}, "filters": {}}
    expect(text).to_have_value(contains('client.get_model_run("mr-1").export('))


def test_typed_code_fills_the_form_with_the_button_and_errors_show_under_it(page):
    text = open_code(page)
    text.fill('client.get_dataset("d-txt").export(params={"attachments": True}, '
              'filters={"global_keys": ["a", "b"]})')
    page.get_by_role("button", name="Fill the form").click()
    answer_code_request(page)
    expect(page.get_by_label("Dataset", exact=True)).to_have_value("d-txt")
    expect(page.get_by_label("Attachments")).to_be_checked()
    expect(page.get_by_label("Ids to export")).to_have_value("a\nb")

    text.fill("project.export(params={")
    page.get_by_role("button", name="Fill the form").click()
    answer_code_request(page)
    notes = page.locator(".ew-code-notes")
    expect(notes).to_have_class(contains("ew-code-failed"))
    expect(notes).to_contain_text("code: line 1")
    expect(page.get_by_label("Dataset", exact=True)).to_have_value("d-txt")  # form unchanged


def test_copy_puts_the_code_on_the_clipboard(page):
    code = push_code(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy code").click()
    expect(page.locator(".ew-code-said")).to_have_text("Copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == code["client"]


def set_status(page: Any, **status: Any) -> None:
    page.evaluate("(s) => window.__kernel.update("
                  "{status: {...window.__model.get('status'), ...s}})", status)


def test_the_form_folds_once_an_export_starts_and_edit_restores_it(page):
    page.get_by_label("Label details").check()
    page.get_by_label("Workflow status").select_option("Done")
    push_code(page)
    expect(page.locator(".ew-fold")).to_be_hidden()
    set_status(page, state="running", task_id="t1")
    fold = page.get_by_role("region", name="Export configuration, folded")
    expect(fold).to_be_visible()
    expect(fold).to_contain_text("Project: Street scenes · params: label_details · "
                                 "filters: workflow_status=Done")
    expect(page.locator(".ew-config")).to_be_hidden()
    expect(page.locator(".ew-code")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel")).to_be_enabled()  # actions stay
    page.get_by_role("button", name="Edit the export configuration").click()
    expect(page.locator(".ew-config")).to_be_visible()
    expect(page.locator(".ew-fold")).to_be_hidden()
    expect(page.get_by_label("Export", exact=True)).to_be_focused()
    # It stays open while this export runs; the next start folds it again.
    set_status(page, state="streaming")
    expect(page.locator(".ew-config")).to_be_visible()
    set_status(page, state="done")
    set_status(page, state="queued")
    expect(page.locator(".ew-fold")).to_be_visible()


def overflow(page: Any) -> list[str]:
    """Elements of the widget reaching past its right edge, and the page's own overflow."""
    return page.evaluate("""() => {
      const root = document.querySelector('.ew-root');
      const right = root.getBoundingClientRect().right + 0.5;
      const out = [...root.querySelectorAll('*')]
        .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > right)
        .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`);
      if (document.scrollingElement.scrollWidth > window.innerWidth) out.push('page scrolls');
      if (root.scrollWidth > root.clientWidth) out.push('root scrolls');
      return out;
    }""")


def test_the_widget_fits_a_900px_column_in_every_state(page):
    page.set_viewport_size({"width": 900, "height": 900})
    page.evaluate("() => { document.body.style.margin = '0'; }")
    rows = [{"data_row": {"id": f"dr-{i}", "global_key": "k" * 300,
                          "row_data": "https://example.com/" + "x" * 400}} for i in range(3)]
    page.evaluate("(r) => { window.__rows.result = r.map((x) => JSON.stringify(x)); }", rows)
    for scope in ["project", "catalog", "data_rows", "model_run"]:
        page.get_by_label("Export", exact=True).select_option(scope)
        assert overflow(page) == [], scope
    push_code(page)
    open_code(page)
    page.get_by_label("Code for").select_option("sdk")
    assert overflow(page) == [], "code panel open"
    set_status(page, state="streaming", rows=3, task_id="t1")
    set_status(page, state="done", rows=3)
    page.get_by_role("button", name="Next page").focus()  # the viewer has its rows
    found = overflow(page)
    assert found == [], "folded, rows shown: " + "; ".join(found)


def test_keyboard_order_follows_the_reading_order(page):
    page.get_by_role("button", name="Code", exact=True).click()
    page.get_by_label("Export", exact=True).focus()
    focused: list[dict[str, Any]] = []
    for _ in range(150):  # until Tab leaves the widget
        where = page.evaluate("""() => {
            const e = document.activeElement;
            const field = e.closest('.ew-field') || e;
            const r = field.getBoundingClientRect();
            const all = [...document.querySelectorAll('.ew-root *')];
            return {name: e.getAttribute('aria-label') || e.id || e.textContent.trim(),
                    top: r.top + window.scrollY, index: all.indexOf(e),
                    tabindex: e.tabIndex}; }""")
        if where["index"] < 0:
            break
        focused.append(where)
        page.keyboard.press("Tab")
    assert len(focused) > 25
    assert all(f["tabindex"] <= 0 for f in focused)
    # Tab visits each control once, in document order, and the document order is the
    # reading order: each field starts on the line of the one before (the next column) or
    # below it.
    indexes = [f["index"] for f in focused]
    assert indexes == sorted(set(indexes)), "; ".join(f"{f['index']}:{f['name']}"
                                                      for f in focused)
    for a, b in itertools.pairwise(focused):
        assert b["top"] >= a["top"] - 2, f"Tab went up from {a} to {b}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_without_jupyter_theme_variables_the_fallback_colours_pass_wcag_aa(page, scheme):
    page.emulate_media(color_scheme=scheme)
    page.get_by_label("Workflow status").select_option("Done")
    page.evaluate("() => window.__kernel.update({validation: {workflow_status: "
                  "'workflow_status: an example error'}})")
    background = page.evaluate("() => getComputedStyle(document.querySelector('.ew-root'))"
                               ".backgroundColor")
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(30, 30, 30)")
    failing, checked = low_contrast(page, ".ew-root")
    assert checked > 40
    assert failing == []
