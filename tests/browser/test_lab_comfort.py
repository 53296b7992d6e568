"""In JupyterLab with a real kernel: the folded configuration and its Edit control, the Code
panel both ways, the 900-px column, and WCAG AA contrast in the light and the dark theme
(screenshots of both under artifacts/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from contrast import low_contrast
from playwright.sync_api import expect

from .test_lab import kernel_report, open_notebook, run_cell, shot

pytestmark = pytest.mark.browser
ROOT = ".jp-OutputArea-output .ew-root"


def set_theme(page: Any, theme: str) -> None:
    light = "true" if theme == "JupyterLab Light" else "false"
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme: t})", theme)
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'",
                           timeout=30_000)
    page.wait_for_timeout(700)  # the theme's stylesheet finishes applying


@pytest.fixture
def widget(lab: str, lab_page: Any) -> Iterator[Any]:
    """The demo widget in comfort.ipynb, in the light theme (a theme choice outlives a
    page: it is a Lab setting)."""
    open_notebook(lab_page, lab, "comfort.ipynb")
    set_theme(lab_page, "JupyterLab Light")
    run_cell(lab_page, 0)
    root = lab_page.locator(ROOT)
    expect(root).to_be_visible(timeout=60_000)
    expect(root.get_by_label("Project", exact=True).locator("option").first).to_be_attached()
    yield root
    set_theme(lab_page, "JupyterLab Light")


def fit_output_to(page: Any, width: int) -> None:
    """Resize the window so the cell's output area is `width` px wide."""
    size = page.viewport_size
    current = page.locator(".jp-OutputArea-output").first.evaluate(
        "(e) => e.getBoundingClientRect().width")
    page.set_viewport_size({"width": int(size["width"] - (current - width)),
                            "height": size["height"]})
    page.wait_for_timeout(300)


def horizontal_overflow(page: Any) -> list[str]:
    return page.locator(".jp-OutputArea-output").first.evaluate("""(out) => {
      const root = out.querySelector('.ew-root');
      const right = out.getBoundingClientRect().right + 0.5;
      const found = [...root.querySelectorAll('*')]
        .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > right)
        .map((e) => `${e.tagName}.${e.className}`);
      if (out.scrollWidth > out.clientWidth + 1) found.push('output area scrolls');
      return found; }""")


def test_export_folds_the_configuration_and_edit_restores_it(widget, lab_page):
    page, root = lab_page, widget
    fit_output_to(page, 900)
    root.get_by_label("Project", exact=True).select_option(label="Street Scenes Annotation")
    root.get_by_label("Label details").check()
    root.get_by_label("Workflow status").select_option("Done")
    expect(root.get_by_role("button", name="Export", exact=True)).to_be_enabled(timeout=15_000)
    assert horizontal_overflow(page) == []
    root.scroll_into_view_if_needed()
    shot(page, "lab_comfort_01_form_900px.png")

    root.get_by_role("button", name="Export", exact=True).click()
    fold = root.get_by_role("region", name="Export configuration, folded")
    expect(fold).to_be_visible(timeout=30_000)
    expect(fold).to_contain_text("Project: Street Scenes Annotation · params: label_details · "
                                 "filters: workflow_status=Done")
    expect(root.locator(".ew-config")).to_be_hidden()
    expect(root.locator(".ew-state")).to_have_text("Done", timeout=60_000)
    expect(root.locator(".ew-rows .ew-row-node").first).to_be_visible()
    assert horizontal_overflow(page) == []
    root.scroll_into_view_if_needed()
    shot(page, "lab_comfort_02_folded_900px.png")

    root.get_by_role("button", name="Edit the export configuration").click()
    expect(root.locator(".ew-config")).to_be_visible()
    expect(root.get_by_label("Export", exact=True)).to_be_focused()
    expect(root.get_by_label("Label details")).to_be_checked()
    expect(fold).to_be_hidden()
    shot(page, "lab_comfort_03_edit.png")


def test_code_panel_follows_the_form_and_pasted_code_fills_it(widget, lab_page):
    page, root = lab_page, widget
    root.get_by_role("button", name="Code", exact=True).click()
    text = root.get_by_label("Export code")
    expect(text).to_have_value(re.compile(r"client\.get_project\("))
    root.get_by_label("Attachments").check()  # the kernel renders the new code
    expect(text).to_have_value(re.compile(r'"attachments": True'), timeout=15_000)
    root.get_by_label("Code for").select_option("sdk")
    expect(text).to_have_value(re.compile(r"^import labelbox as lb"))

    run = kernel_report(page, 1, lambda r: bool(r["run"]))["run"]
    source = (f'model_run = client.get_model_run("{run}")\n'
              'export_task = model_run.export_v2(params={"predictions": True,\n'
              '                                           "label_details": True})\n')
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("(t) => navigator.clipboard.writeText(t)", source)
    text.fill("")
    text.focus()
    page.keyboard.press("Control+V")
    expect(root.get_by_label("Export", exact=True)).to_have_value("model_run", timeout=15_000)
    expect(root.get_by_label("Model run", exact=True)).to_have_value(run)
    expect(root.get_by_label("Predictions")).to_be_checked()
    notes = root.locator(".ew-code-notes")
    expect(notes).to_contain_text("export_v2: deprecated")
    expect(notes).to_contain_text("params.label_details: not a parameter of model_run exports")
    expect(text).to_have_value(re.compile(rf'client\.get_model_run\("{run}"\)\.export\('))
    root.scroll_into_view_if_needed()
    shot(page, "lab_comfort_04_code_pasted.png")
    report = kernel_report(page, 1, lambda r: r["config"].get("scope") == "model_run")
    assert report["config"] == {"scope": "model_run", "target_id": run,
                                "params": {"predictions": True}, "filters": {}}
    assert f'client.get_model_run("{run}")' in report["code"]["sdk"]

    text.fill("model_run.export(params=")
    root.get_by_role("button", name="Fill the form").click()
    expect(notes).to_have_text(re.compile(r"^code: line 1"), timeout=15_000)
    expect(notes).to_have_class(re.compile("ew-code-failed"))


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_main_controls_pass_wcag_aa_in_the_light_and_the_dark_theme(widget, lab_page, theme):
    page, root = lab_page, widget
    set_theme(page, theme)
    # An export first, so the progress (its "Done"), the rows and the message are checked.
    root.get_by_label("Project", exact=True).select_option(label="Street Scenes Annotation")
    root.get_by_role("button", name="Export", exact=True).click()
    expect(root.locator(".ew-state")).to_have_text("Done", timeout=60_000)
    root.get_by_role("button", name="Edit the export configuration").click()
    root.get_by_role("button", name="Code", exact=True).click()
    root.get_by_label("Workflow status").select_option("Done")
    root.get_by_label("Last activity from").fill("soon")  # the kernel's error shows too
    root.get_by_label("Last activity from").press("Tab")
    expect(root.locator(".ew-field[data-field='last_activity_at'] .ew-error")).to_contain_text(
        "Incorrect format", timeout=15_000)
    page.set_viewport_size({"width": 1400, "height": 2300})  # the whole widget in one shot
    root.scroll_into_view_if_needed()
    name = "light" if theme.endswith("Light") else "dark"
    shot(page, f"lab_theme_{name}.png")
    failing, checked = low_contrast(page, ROOT)
    assert checked > 40
    assert failing == [], f"{theme}: below 4.5:1: {failing}"
