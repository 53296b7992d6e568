"""The configuration and filter form, in Chromium with a fake model (fast, DOM only)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from chromium_support import paste
from playwright.sync_api import expect

from export_widget.export_request import ExportRequest

pytestmark = pytest.mark.browser


def saved_config(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.__log.saved.at(-1)?.config ?? null")


def push_validation(page: Any) -> dict[str, str]:
    """Play the kernel: validate the last saved config with the real Python rules."""
    errors = ExportRequest.from_config(saved_config(page) or {}).field_errors()
    page.evaluate("(v) => window.__kernel.update({validation: v})", errors)
    return errors


def choose_scope(page: Any, scope: str) -> None:
    page.get_by_label("Export", exact=True).select_option(scope)


def visible_fields(page: Any) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.ew-field[data-field]')]
              .filter((f) => f.offsetParent !== null).map((f) => f.dataset.field)"""
    )


def test_target_select_lists_projects_by_name(page):
    target = page.get_by_label("Project", exact=True)
    options = target.locator("option").all_inner_texts()
    assert options == ["Street scenes", "Retail shelves"]
    assert saved_config(page) == {"scope": "project", "params": {}, "filters": {},
                                  "target_id": "p-street"}


def test_project_scope_shows_only_project_params_and_filters(page):
    shown = set(visible_fields(page))
    assert {"label_details", "project_details", "workflow_status", "batch_ids",
            "last_activity_at", "label_created_at", "ids", "media_type_override"} <= shown
    assert not {"predictions", "project_ids", "model_run_ids", "all_projects",
                "model_run_details"} & shown


def test_model_run_scope_has_no_filters_and_no_label_params(page):
    choose_scope(page, "model_run")
    shown = set(visible_fields(page))
    assert {"predictions", "model_run_details", "attachments"} <= shown
    assert not {"label_details", "workflow_status", "ids", "last_activity_at"} & shown
    expect(page.locator(".ew-filters")).to_be_hidden()
    assert page.get_by_label("Model run", exact=True).locator("option").all_inner_texts() == [
        "detector / run 1"]


def test_catalog_scope_offers_project_and_model_run_lists_capped_at_30(page):
    choose_scope(page, "catalog")
    shown = set(visible_fields(page))
    assert {"project_ids", "model_run_ids", "all_projects", "all_model_runs"} <= shown
    assert "target_id" not in shown
    page.get_by_label("Projects to include").select_option(["p-street", "p-retail"])
    field = page.locator(".ew-field[data-field='project_ids']")
    expect(field.locator(".ew-count")).to_have_text("2 selected (max 30)")
    assert saved_config(page)["params"] == {"project_ids": ["p-street", "p-retail"]}
    runs = page.get_by_label("Model runs to include").locator("option").all_inner_texts()
    assert runs == ["detector / run 1"]


def test_data_rows_scope_asks_for_the_ids_it_needs(page):
    choose_scope(page, "data_rows")
    expect(page.locator(".ew-filters legend")).to_have_text("Data rows to export")
    expect(page.locator(".ew-field[data-field='ids'] .ew-hint")).to_have_text(
        "required: the rows to export; at most 2,000 ids")
    assert push_validation(page) == {
        "data_row_ids": "data_row_ids: data_rows and global_keys cannot both be empty"}
    expect(page.get_by_role("button", name="Export", exact=True)).to_be_disabled()
    page.get_by_label("Ids to export").fill("street-0004.png")
    page.get_by_label("Ids to export").press("Tab")
    assert saved_config(page) == {"scope": "data_rows", "params": {},
                                  "filters": {"global_keys": ["street-0004.png"]}}
    assert push_validation(page) == {}
    expect(page.get_by_role("button", name="Export", exact=True)).to_be_enabled()


def test_the_forms_rules_come_from_the_catalog(page):
    """Statuses, caps, boolean params and targets are the kernel's: change them, the form
    follows."""
    page.evaluate("""async () => {
        const catalog = structuredClone(window.__model.get("catalog"));
        catalog.rules = {workflow_statuses: ["Alpha", "Beta"], bool_params: ["attachments"],
                         row_ids_max: 3, param_ids_max: 1};
        catalog.scopes.dataset.target = null;
        window.__kernel.update({catalog});
        await window.__remount();
    }""")
    statuses = page.get_by_label("Workflow status").locator("option").all_inner_texts()
    assert statuses == ["Any status", "Alpha", "Beta"]
    assert page.locator(".ew-params input[type=checkbox]").count() == 1
    page.get_by_label("Ids to export").fill("a b c d")
    expect(page.locator(".ew-field[data-field='ids'] .ew-count")).to_have_text(
        "4 global keys (max 3)")
    expect(page.locator(".ew-field[data-field='ids'] .ew-hint")).to_have_text(
        "empty = no filter; at most 3 ids")
    choose_scope(page, "catalog")
    page.get_by_label("Projects to include").select_option(["p-street", "p-retail"])
    expect(page.locator(".ew-field[data-field='project_ids'] .ew-count")).to_have_text(
        "2 selected (max 1)")
    choose_scope(page, "dataset")
    assert "target_id" not in visible_fields(page)
    assert "target_id" not in saved_config(page)


def test_batches_follow_the_chosen_project(page):
    batches = page.get_by_label("Batches")
    assert batches.locator("option").all_inner_texts() == ["batch one", "batch two"]
    page.get_by_label("Project", exact=True).select_option("p-retail")
    expect(batches.locator("option")).to_have_text(["shelf batch"])


def test_checked_param_and_media_type_are_saved(page):
    page.get_by_label("Label details").check()
    page.get_by_label("Media type override").select_option("IMAGE")
    assert saved_config(page)["params"] == {"label_details": True, "media_type_override": "IMAGE"}


def test_date_range_with_an_open_end_and_its_timezone(page):
    page.get_by_label("Last activity from").fill("2024-01-01")
    page.get_by_label("Last activity from").press("Tab")
    assert saved_config(page)["filters"] == {"last_activity_at": ["2024-01-01", None]}
    note = page.locator(".ew-field[data-field='last_activity_at'] .ew-tz")
    expect(note).to_have_text(re.compile("read in Europe/Berlin"))


def test_pasted_ids_show_a_live_count_and_the_cap(page):
    ids = page.get_by_label("Ids to export")
    ids.fill("gk-1\ngk-2, gk-3")
    count = page.locator(".ew-field[data-field='ids'] .ew-count")
    expect(count).to_have_text("3 global keys (max 2,000)")
    paste(ids, "\n".join(f"gk-{i}" for i in range(2001)))
    expect(count).to_have_text("2,001 global keys (max 2,000)")
    expect(count).to_have_class(re.compile("ew-over"))


def test_an_empty_id_list_means_no_filter(page):
    ids = page.get_by_label("Ids to export")
    ids.fill("a\nb")
    ids.press("Tab")
    assert saved_config(page)["filters"] == {"global_keys": ["a", "b"]}
    ids.fill("")
    ids.press("Tab")
    assert saved_config(page)["filters"] == {}


def test_switching_to_data_row_ids_moves_the_list(page):
    page.get_by_label("Ids to export").fill("r1 r2")
    page.get_by_label("Identify rows by").select_option("data_row_ids")
    assert saved_config(page)["filters"] == {"data_row_ids": ["r1", "r2"]}


def test_validation_errors_sit_next_to_their_fields_and_disable_export(page):
    paste(page.get_by_label("Ids to export"), "\n".join(f"gk-{i}" for i in range(2001)))
    page.get_by_label("Ids to export").press("Tab")
    page.get_by_label("Label created from").fill("2024-13-45")
    page.get_by_label("Label created from").press("Tab")
    errors = push_validation(page)
    assert set(errors) == {"global_keys", "label_created_at"}
    ids_error = page.locator(".ew-field[data-field='ids'] .ew-error")
    expect(ids_error).to_have_text(
        "global_keys: global_key filter only supports a max of 2000 items.")
    date_error = page.locator(".ew-field[data-field='label_created_at'] .ew-error")
    expect(date_error).to_contain_text("Incorrect format for: 2024-13-45.")
    expect(page.get_by_label("Ids to export")).to_have_attribute("aria-invalid", "true")
    export = page.get_by_role("button", name="Export", exact=True)
    expect(export).to_be_disabled()
    expect(page.locator(".ew-why")).to_have_text(f"Fix 2 errors first ({', '.join(errors)}).")
    # Fixing the fields clears the messages and enables the button.
    page.get_by_label("Ids to export").fill("gk-1")
    page.get_by_label("Ids to export").press("Tab")
    page.get_by_label("Label created from").fill("")
    page.get_by_label("Label created from").press("Tab")
    assert push_validation(page) == {}
    expect(ids_error).to_be_hidden()
    expect(export).to_be_enabled()


def test_a_validation_message_is_shown_as_text_not_html(page):
    page.evaluate("""() => window.__kernel.update({validation:
        {global_keys: "global_keys: <b id='injected'>bold</b>"}})""")
    error = page.locator(".ew-field[data-field='ids'] .ew-error")
    expect(error).to_have_text("global_keys: <b id='injected'>bold</b>")
    assert page.locator("#injected").count() == 0


def test_a_config_from_the_kernel_fills_the_form(page):
    """A second view of the same widget shows the same state: the form follows the trait."""
    page.evaluate("""() => window.__kernel.update({config: {scope: "dataset", target_id: "d-txt",
        params: {embeddings: true}, filters: {data_row_ids: ["x1", "x2"],
        label_created_at: [null, "2024-02-01 10:00:00"]}}})""")
    expect(page.get_by_label("Export", exact=True)).to_have_value("dataset")
    expect(page.get_by_label("Dataset", exact=True)).to_have_value("d-txt")
    expect(page.get_by_label("Embeddings")).to_be_checked()
    expect(page.get_by_label("Identify rows by")).to_have_value("data_row_ids")
    expect(page.get_by_label("Ids to export")).to_have_value("x1\nx2")
    expect(page.get_by_label("Label created to")).to_have_value("2024-02-01 10:00:00")


def test_export_button_sends_start_with_the_form(page):
    page.get_by_label("Attachments").check()
    page.get_by_role("button", name="Export", exact=True).click()
    starts = page.evaluate("() => window.__log.sent.filter((m) => m.type === 'start')")
    assert len(starts) == 1
    assert starts[0]["config"]["params"] == {"attachments": True}
    assert starts[0]["config"]["target_id"] == "p-street"
    assert isinstance(starts[0]["id"], str) and starts[0]["id"]


def test_a_refused_start_shows_the_kernels_reason(page):
    page.evaluate("() => { window.__kernel.autoReply = false; }")
    page.get_by_role("button", name="Export", exact=True).click()
    rid = page.evaluate("() => window.__log.sent.find((m) => m.type === 'start').id")
    page.evaluate("""(id) => window.__kernel.custom({type: "ack", id, action: "start", ok: false,
        message: "an export is running; cancel it first"})""", rid)
    expect(page.get_by_role("alert")).to_have_text("an export is running; cancel it first")


ACCESSIBLE_NAME_JS = """() => {
  const nameOf = (el) => {
    const aria = el.getAttribute('aria-label');
    if (aria && aria.trim()) return aria.trim();
    const by = el.getAttribute('aria-labelledby');
    const text = (id) => document.getElementById(id)?.textContent ?? '';
    if (by) return by.split(' ').map(text).join(' ').trim();
    if (el.labels && el.labels.length) {
      return [...el.labels].map((l) => l.textContent).join(' ').trim();
    }
    if (el.tagName === 'BUTTON') return el.textContent.trim();
    return '';
  };
  return [...document.querySelectorAll('#root button, #root input, #root select, #root textarea')]
    .filter((el) => !nameOf(el)).map((el) => el.outerHTML.slice(0, 120));
}"""


@pytest.mark.parametrize("scope", ["project", "dataset", "catalog", "slice", "model_run",
                                   "data_rows"])
def test_every_control_has_an_accessible_name(page, scope):
    choose_scope(page, scope)
    page.evaluate("""() => { window.__rows.result = [JSON.stringify({data_row: {id: "r1",
        details: {a: [1, 2]}}})]; }""")
    page.evaluate("() => window.__kernel.update({status: {...window.__model.get('status'),"
                  " state: 'streaming', rows: 1, seq: 5}})")
    page.get_by_role("button", name="Expand all rows on this page").click()
    assert page.evaluate(ACCESSIBLE_NAME_JS) == []
