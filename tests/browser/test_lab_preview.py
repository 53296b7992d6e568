"""The preview in JupyterLab: export the demo's image, video, text and PDF projects, select a
row, and check the drawn shapes against the row's JSON. The page never requests a media URL:
the kernel fetches the media and sends it as message buffers."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .test_lab import kernel_report, open_notebook, run_cell

pytestmark = pytest.mark.browser

PROJECTS = [("IMAGE", "Street Scenes Annotation"), ("VIDEO", "Traffic Video Tracking"),
            ("TEXT", "News NER"), ("PDF", "Invoice Extraction")]


def objects(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for p in row["projects"].values() for lab in p["labels"]
            for o in lab["annotations"].get("objects", [])]


def on_screen(stage: Any, frame: tuple[float, float], box: dict[str, float]) -> dict[str, float]:
    rect = stage.bounding_box()
    sx, sy = rect["width"] / frame[0], rect["height"] / frame[1]
    return {"x": rect["x"] + box["left"] * sx, "y": rect["y"] + box["top"] * sy,
            "width": box["width"] * sx, "height": box["height"] * sy}


def close(got: dict[str, float] | None, want: dict[str, float]) -> None:
    assert got is not None
    for k in want:
        assert abs(got[k] - want[k]) <= 2.5, (k, got, want)  # the stroke is 2 px


def check_image(root: Any, report: dict[str, Any]) -> None:
    row = report["row"]
    stage = root.locator(".ew-preview .ew-stage")
    frame = (row["media_attributes"]["width"], row["media_attributes"]["height"])
    car = next(o for o in objects(row) if o["name"] == "car")
    shape = next(s for s in report["shapes"] if s["feature_id"] == car["feature_id"])
    assert shape["coordinates"] == car["bounding_box"]
    drawn = root.get_by_role("img", name=shape["name"])
    close(drawn.locator("rect").bounding_box(), on_screen(stage, frame, car["bounding_box"]))
    for kind in ("polygon", "polyline", "point", "mask", "relationship"):
        s = next(x for x in report["shapes"] if x["kind"] == kind)
        expect(root.get_by_role("img", name=s["name"])).to_have_count(1)


def check_video(root: Any, report: dict[str, Any]) -> None:
    row = report["row"]
    ann = next(lab for p in row["projects"].values() for lab in p["labels"])["annotations"]
    root.get_by_role("button", name="Frame 11, key frame").click()
    stage = root.locator(".ew-preview .ew-stage")
    frame = (row["media_attributes"]["width"], row["media_attributes"]["height"])
    for fid, obj in ann["frames"]["11"]["objects"].items():
        shape = next(s for s in report["shapes"] if s["feature_id"] == fid and s["frame"] == 11)
        drawn = root.get_by_role("img", name=shape["name"])
        close(drawn.locator("rect").bounding_box(), on_screen(stage, frame, obj["bounding_box"]))
    root.page.wait_for_function(
        "() => { const v = document.querySelector('.ew-preview video');"
        " return v && v.readyState >= 2 && Math.abs(v.currentTime - 1.05) < 0.01; }")


def check_text(root: Any, report: dict[str, Any]) -> None:
    for o in objects(report["row"]):
        shape = next(s for s in report["shapes"] if s["feature_id"] == o["feature_id"])
        expect(root.locator(f'mark[aria-label="{shape["name"]}"]')).to_have_text(
            o["location"]["token"])


def check_pdf(root: Any, report: dict[str, Any]) -> None:
    stage = root.locator(".ew-preview .ew-stage")
    page_size = tuple(report["media"]["pages"][0])
    for o in objects(report["row"]):
        shape = next(s for s in report["shapes"] if s["feature_id"] == o["feature_id"])
        rects = root.get_by_role("img", name=shape["name"]).locator("rect")
        if "bounding_box" in o:
            close(rects.first.bounding_box(), on_screen(stage, page_size, o["bounding_box"]))
        else:
            boxes = shape["coordinates"]["boxes"]
            assert boxes and o["location"]["groups"][0]["text"] == shape["coordinates"]["text"]
            expect(rects).to_have_count(len(boxes))
            close(rects.first.bounding_box(), on_screen(stage, page_size, boxes[0]))


CHECKS = {"IMAGE": check_image, "VIDEO": check_video, "TEXT": check_text, "PDF": check_pdf}


def test_preview_draws_each_media_types_shapes_from_kernel_bytes(lab, lab_page):
    page = lab_page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_notebook(page, lab, "preview.ipynb")
    run_cell(page, 0)
    root = page.locator(".jp-OutputArea-output .ew-root").first
    expect(root).to_be_visible(timeout=60_000)
    media_host = ""
    for index, (media, project) in enumerate(PROJECTS):
        if index:  # an export folds the configuration into one line: open it again
            root.get_by_role("button", name="Edit the export configuration").click()
        target = root.get_by_label("Project", exact=True)
        expect(target.locator("option", has_text=project)).to_have_count(1)
        target.select_option(label=project)
        root.get_by_label("Label details").check()
        root.get_by_role("button", name="Export", exact=True).click()
        # A new export clears the selection: wait for that, so "Done" below is this export's.
        expect(root.locator(".ew-preview-title")).to_have_text("Preview", timeout=30_000)
        expect(root.locator(".ew-state")).to_have_text("Done", timeout=120_000)
        # Line 2 is the first row with a label (line 1 is still to label).
        root.get_by_role("button", name="Preview line 2", exact=True).click()
        expect(root.locator(".ew-preview-title")).to_contain_text("line 2", timeout=30_000)
        expect(root.locator(".ew-preview")).not_to_have_attribute("aria-busy", "true")
        report = kernel_report(page, 1, lambda r: r["selected"] == 1 and r["state"] == "done")
        media_host = report["media_host"]
        assert report["media"]["error"] is None
        expect(root.locator(".ew-row-node[data-line='2']")).to_have_attribute(
            "aria-selected", "true")
        CHECKS[media](root, report)
        page.wait_for_timeout(200)
        root.locator(".ew-preview").screenshot(
            path=str(ARTIFACTS / f"lab_preview_{media.lower()}.png"))
        if media == "IMAGE":  # the whole widget with an image previewed (docs/widget.png)
            root.screenshot(path=str(ARTIFACTS / "lab_preview_widget.png"))
    assert media_host and not [u for u in requests if u.startswith(f"{media_host}/media/")]
