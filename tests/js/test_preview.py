"""The preview panel in Chromium with a fake model: each media type draws a known demo row's
shapes where the row puts them, found by role and accessible name.

The previews are the kernel's real output (shapes_of + MediaFetcher on rows exported from
the real demo server); the fake model hands them over as the kernel would.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from tile_server import serve_tiles

from export_widget.client import Client
from export_widget.inspect import shapes_of
from export_widget.media import MediaFetcher
from export_widget.server.runner import LocalServer

pytestmark = pytest.mark.browser
Row = dict[str, Any]
ARTIFACTS = Path(__file__).parents[2] / "artifacts"

PROJECTS = {
    "IMAGE": "Street Scenes Annotation", "VIDEO": "Traffic Video Tracking", "TEXT": "News NER",
    "TMS_GEO": "Land Use Mapping", "PDF": "Invoice Extraction", "AUDIO": "Call Audio Review",
    "CONVERSATIONAL": "Support Chat Intents", "HTML": "Product Page Review",
}


def _export(task: Any) -> list[Row]:
    task.wait_till_done(timeout_seconds=120)
    return [out.json for out in task.get_stream()]


@pytest.fixture(scope="module")
def demo_rows(server: LocalServer) -> Iterator[dict[str, list[Row]]]:
    """Media type -> the first three rows that carry labels; "MODEL_RUN" -> run rows."""
    out: dict[str, list[Row]] = {}
    with Client(api_key=server.api_key, endpoint=server.endpoint) as client:
        projects = {p.name: p for p in client.get_projects()}
        for media, name in PROJECTS.items():
            rows = _export(projects[name].export(params={"label_details": True}))
            out[media] = [r for r in rows if any(p["labels"] for p in r["projects"].values())][:3]
        run = next(r for m in client.get_models() for r in m.model_runs()
                   if r.name == "finetune-v2")
        rows = _export(run.export(params={"predictions": True}))
        out["MODEL_RUN"] = [r for r in rows if any(
            run_["labels"] for m in r["experiments"].values() for run_ in m["runs"].values())][:2]
    yield out


@pytest.fixture(scope="module")
def fetcher() -> Iterator[MediaFetcher]:
    f = MediaFetcher()
    yield f
    f.close()


def show(page: Any, fetcher: MediaFetcher, rows: list[Row], line: int = 0) -> dict[str, Any]:
    """Load `rows` as the export's result, give the fake kernel their previews, and click the
    Preview button of `line`. Returns that line's preview (what Python says is drawn)."""
    previews = {}
    for n, row in enumerate(rows):
        prepared = fetcher.prepare(shapes_of(row), n)
        previews[n] = {"preview": prepared.preview,
                       "buffers": [base64.b64encode(b).decode() for b in prepared.buffers]}
    page.evaluate("(a) => { window.__rows.result = a.lines; window.__previews = a.previews; }",
                  {"lines": [json.dumps(r) for r in rows], "previews": previews})
    page.evaluate("""(n) => { const s = {...window.__model.get('status'), state: 'done', rows: n,
        seq: 99}; window.__kernel.update({status: s}); }""", len(rows))
    page.get_by_role("button", name=f"Preview line {line + 1}", exact=True).click()
    expect(page.locator(".ew-preview-title")).to_contain_text(f"line {line + 1}")
    expect(page.locator(".ew-preview")).not_to_have_attribute("aria-busy", "true")
    return previews[line]["preview"]  # type: ignore[no-any-return]


def snap(page: Any, name: str) -> None:
    """Keep a picture of the panel as a test artifact (artifacts/ is not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(150)  # let images and the video's first frame paint
    page.locator(".ew-preview").screenshot(path=str(ARTIFACTS / f"preview_js_{name}.png"))


def box_on_screen(page: Any, stage: Any, frame: tuple[float, float], box: dict[str, float]
                  ) -> dict[str, float]:
    """Where a box in the media's frame should appear on screen, given the stage's rect."""
    rect = stage.bounding_box()
    sx, sy = rect["width"] / frame[0], rect["height"] / frame[1]
    return {"x": rect["x"] + box["left"] * sx, "y": rect["y"] + box["top"] * sy,
            "width": box["width"] * sx, "height": box["height"] * sy}


def assert_close(got: dict[str, float] | None, want: dict[str, float], tol: float = 2.5) -> None:
    # Bounding boxes include the 2 px stroke.
    assert got is not None
    for k in ("x", "y", "width", "height"):
        assert abs(got[k] - want[k]) <= tol, (k, got, want)


def shape(preview: dict[str, Any], kind: str, **match: Any) -> dict[str, Any]:
    return next(s for s in preview["shapes"] if s["kind"] == kind and
                all(s.get(k) == v for k, v in match.items()))


def test_image_boxes_polygons_lines_points_masks_and_arrows_are_drawn(page, demo_rows, fetcher):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    preview = show(page, fetcher, demo_rows["IMAGE"])
    stage = page.locator(".ew-preview .ew-stage")
    frame = (preview["width"], preview["height"])
    car = shape(preview, "bounding_box")
    drawn = page.get_by_role("img", name=car["name"])
    expect(drawn).to_be_visible()
    assert car["name"].startswith("bounding box: car, by labeler@example.com")
    assert_close(drawn.locator("rect").bounding_box(),
                 box_on_screen(page, stage, frame, car["coordinates"]))
    road = shape(preview, "polygon")
    points = page.get_by_role("img", name=road["name"]).locator("polygon").get_attribute("points")
    assert points == " ".join(f"{x:g},{y:g}" for x, y in road["coordinates"])
    ped = shape(preview, "point")
    circle = page.get_by_role("img", name=ped["name"]).locator("circle")
    assert (float(circle.get_attribute("cx")), float(circle.get_attribute("cy"))) == tuple(
        ped["coordinates"])
    for kind in ("polyline", "mask", "relationship"):
        expect(page.get_by_role("img", name=shape(preview, kind)["name"])).to_have_count(1)
    mask = page.get_by_role("img", name=shape(preview, "mask")["name"]).locator("image")
    assert mask.get_attribute("href").startswith("blob:")
    assert page.locator(".ew-preview img.ew-media").get_attribute("src").startswith("blob:")
    weather = next(c for c in preview["classifications"] if c["feature"] == "weather")
    expect(page.locator(".ew-classifications")).to_contain_text(f"weather: {weather['answer']}")
    snap(page, "image")
    media_host = preview["row_data"].split("/media/")[0]
    assert not [u for u in requests if u.startswith(media_host)]


def test_legend_toggles_hide_a_feature_and_a_layer(page, demo_rows, fetcher):
    preview = show(page, fetcher, demo_rows["IMAGE"])
    car = shape(preview, "bounding_box")
    page.get_by_role("checkbox", name="Show car (1)").uncheck()
    expect(page.get_by_role("img", name=car["name"])).to_have_count(0)
    page.get_by_role("checkbox", name="Show car (1)").check()
    expect(page.get_by_role("img", name=car["name"])).to_have_count(1)
    layer = preview["layers"][0]
    page.get_by_role("checkbox", name=f"Show {layer['name']}").uncheck()
    expect(page.locator(".ew-overlay [role=img]")).to_have_count(0)
    expect(page.locator(".ew-classifications")).to_contain_text("none")


def test_predictions_show_their_iou(page, demo_rows, fetcher):
    preview = show(page, fetcher, demo_rows["MODEL_RUN"])
    kinds = {la["id"]: la["kind"] for la in preview["layers"]}
    pred = next(s for s in preview["shapes"] if s["kind"] == "bounding_box"
                and kinds[s["layer"]] == "prediction")
    assert pred["iou"] is not None and pred["name"].endswith(f"IoU {pred['iou']:.2f}")
    drawn = page.get_by_role("img", name=pred["name"])
    expect(drawn.locator("text.ew-iou")).to_have_text(f"IoU {pred['iou']:.2f}")
    expect(drawn).to_have_class("ew-shape ew-prediction")
    snap(page, "model_run")
    expect(page.get_by_role("checkbox", name="Show ground truth in Street Detector / "
                            "finetune-v2")).to_be_checked()


def test_video_frames_scrub_and_draw_that_frames_boxes(page, demo_rows, fetcher):
    preview = show(page, fetcher, demo_rows["VIDEO"])
    video = page.locator(".ew-preview video")
    assert video.get_attribute("src").startswith("blob:")
    expect(page.get_by_role("group", name="Annotated frames").get_by_role("button")).to_have_text(
        [str(f) for f in preview["frames"]])
    page.get_by_role("button", name="Frame 11, key frame").click()
    expect(page.locator(".ew-frame-readout")).to_have_text("Frame 11 of 30")
    boxes = [s for s in preview["shapes"] if s["kind"] == "bounding_box" and s["frame"] == 11]
    stage = page.locator(".ew-preview .ew-stage")
    for b in boxes:
        drawn = page.get_by_role("img", name=b["name"])
        assert_close(drawn.locator("rect").bounding_box(),
                     box_on_screen(page, stage, (480, 270), b["coordinates"]))
    expect(page.locator(".ew-overlay [role=img]")).to_have_count(len(boxes))
    # The video element follows the frame (middle of frame 11 at 10 fps).
    page.wait_for_function("() => Math.abs(document.querySelector('.ew-preview video')"
                           ".currentTime - 1.05) < 0.01")
    snap(page, "video")
    segment = shape(preview, "segment")
    expect(page.get_by_role("group", name="Segments timeline")
           .get_by_role("img", name=segment["name"])).to_have_count(1)
    expect(page.locator(".ew-frame-classifications")).to_contain_text("none")
    page.get_by_label("Frame", exact=True).fill("21")
    expect(page.locator(".ew-frame-classifications")).to_contain_text("motion: stopped")


def test_text_spans_are_highlighted_and_named_on_focus(page, demo_rows, fetcher):
    preview = show(page, fetcher, demo_rows["TEXT"])
    for span in (s for s in preview["shapes"] if s["kind"] == "text_span"):
        mark = page.locator(f'mark[aria-label="{span["name"]}"]')
        expect(mark).to_have_text(span["text"])
        mark.focus()
        expect(page.locator(".ew-span-hint")).to_contain_text(f"{span['feature']}: ")
    snap(page, "text")
    rel = shape(preview, "relationship")
    expect(page.get_by_role("list", name="Relationships")).to_contain_text(rel["feature"])


def test_conversation_is_a_transcript_with_spans_and_message_classes(page, demo_rows, fetcher):
    preview = show(page, fetcher, demo_rows["CONVERSATIONAL"])
    turns = page.get_by_role("list", name="Conversation").locator(":scope > li")
    expect(turns).to_have_count(len(preview["media"]["transcript"]))
    span = shape(preview, "message_span")
    first = turns.nth(0)
    c = span["coordinates"]
    digits = preview["media"]["transcript"][0]["content"][c["start"]:c["end"] + 1]
    expect(first.locator(f'mark[aria-label="{span["name"]}"]')).to_have_text(digits)
    snap(page, "conversational")
    intent = next(x for x in preview["classifications"] if x["feature"] == "intent")
    expect(first).to_contain_text(f"intent: {intent['answer']}")


def test_pdf_pages_with_entity_and_box_annotations(page, demo_rows, fetcher):
    preview = show(page, fetcher, demo_rows["PDF"])
    expect(page.locator(".ew-page-label")).to_have_text("Page 1 of 2")
    stage = page.locator(".ew-preview .ew-stage")
    frame = tuple(preview["media"]["pages"][0])
    box = shape(preview, "document_box")
    assert_close(page.get_by_role("img", name=box["name"]).locator("rect").bounding_box(),
                 box_on_screen(page, stage, frame, box["coordinates"]))
    entity = shape(preview, "document_tokens", feature="invoice_number")
    rects = page.get_by_role("img", name=entity["name"]).locator("rect")
    expect(rects).to_have_count(len(entity["coordinates"]["boxes"]))
    assert_close(rects.first.bounding_box(),
                 box_on_screen(page, stage, frame, entity["coordinates"]["boxes"][0]))
    snap(page, "pdf")
    page.get_by_role("button", name="Next page").last.click()
    expect(page.locator(".ew-page-label")).to_have_text("Page 2 of 2")
    expect(page.locator(".ew-overlay [role=img]")).to_have_count(0)


def test_audio_has_a_player_and_a_waveform(page, demo_rows, fetcher):
    preview = show(page, fetcher, demo_rows["AUDIO"])
    assert page.locator(".ew-preview audio").get_attribute("src").startswith("blob:")
    expect(page.get_by_role("img", name="Waveform of line 1, 1.0 s")).to_be_visible()
    snap(page, "audio")
    speaker = next(c for c in preview["classifications"] if c["feature"] == "speaker")
    expect(page.locator(".ew-classifications")).to_contain_text(f"speaker: {speaker['answer']}")


def test_geospatial_shapes_are_drawn_in_their_lon_lat_frame(page, demo_rows, fetcher):
    preview = show(page, fetcher, demo_rows["TMS_GEO"])
    (west, south), (east, north) = preview["bounds"]
    stage = page.locator(".ew-preview .ew-stage").bounding_box()
    well = shape(preview, "geo_point")
    got = page.get_by_role("img", name=well["name"]).locator("circle").bounding_box()
    lng, lat = well["coordinates"]
    cx = stage["x"] + (lng - west) / (east - west) * stage["width"]
    cy = stage["y"] + (north - lat) / (north - south) * stage["height"]
    assert abs(got["x"] + got["width"] / 2 - cx) < 1.5
    assert abs(got["y"] + got["height"] / 2 - cy) < 1.5
    snap(page, "tms_geo")
    for kind in ("geo_line", "geo_polygon", "geo_box"):
        expect(page.get_by_role("img", name=shape(preview, kind)["name"])).to_have_count(1)


def test_a_tile_layer_is_stitched_under_the_shapes(page, demo_rows, fetcher):
    with serve_tiles() as url:
        rows = [{**r, "data_row": {**r["data_row"], "row_data": f"{url}/{{z}}/{{x}}/{{y}}.png"}}
                for r in demo_rows["TMS_GEO"]]
        preview = show(page, fetcher, rows)
    assert any("tiles at zoom" in note for note in preview["media"]["notes"])
    page.wait_for_function("() => { const i = document.querySelector('.ew-preview img.ew-media');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    stage = page.locator(".ew-preview .ew-stage").bounding_box()
    tiles = page.locator(".ew-preview .ew-stage img.ew-media").bounding_box()
    for k in ("x", "y", "width", "height"):
        assert abs(tiles[k] - stage[k]) < 1.5, k
    expect(page.get_by_role("img", name=shape(preview, "geo_polygon")["name"])).to_have_count(1)
    snap(page, "tms_tiles")


def test_html_rows_render_in_a_sandboxed_iframe(page, demo_rows, fetcher):
    show(page, fetcher, demo_rows["HTML"])
    frame = page.locator("iframe.ew-html")
    assert frame.get_attribute("sandbox") == ""
    assert frame.get_attribute("src") is None
    snap(page, "html")
    expect(page.frame_locator("iframe.ew-html").locator("h1")).to_contain_text("Café gadget")


def test_leaving_a_row_revokes_its_blob_urls(page, demo_rows, fetcher):
    page.evaluate("""() => { window.__revoked = []; const revoke = URL.revokeObjectURL;
        URL.revokeObjectURL = (u) => { window.__revoked.push(u); revoke(u); }; }""")
    show(page, fetcher, demo_rows["IMAGE"])
    old = [page.locator(".ew-preview img.ew-media").get_attribute("src"),
           page.locator(".ew-preview .ew-mask").get_attribute("href")]
    assert page.evaluate("(u) => fetch(u).then(r => r.ok)", old[0])
    page.get_by_role("button", name="Preview line 2").click()
    expect(page.locator(".ew-preview-title")).to_contain_text("line 2")
    expect(page.locator(".ew-preview")).to_have_attribute("data-live-blobs", "2")
    assert sorted(page.evaluate("() => window.__revoked")) == sorted(old)


def test_rows_are_selected_by_click_and_by_keyboard(page, demo_rows, fetcher):
    show(page, fetcher, demo_rows["IMAGE"])
    page.locator('.ew-row-node[data-line="3"] > .ew-line .ew-rowlabel').click()
    expect(page.locator(".ew-preview-title")).to_contain_text("line 3")
    expect(page.locator('.ew-row-node[data-line="3"]')).to_have_attribute("aria-selected", "true")
    page.get_by_role("button", name="Preview the previous row").focus()
    page.keyboard.press("ArrowUp")
    expect(page.locator(".ew-preview-title")).to_contain_text("line 2")
    sent = page.evaluate(
        "() => window.__log.sent.filter(m => m.type === 'select').map(m => m.line)")
    assert sent[-2:] == [2, 1]


def test_row_strings_are_drawn_as_text_never_as_html(page, demo_rows, fetcher):
    row = json.loads(json.dumps(demo_rows["IMAGE"][0]))
    label = next(iter(row["projects"].values()))["labels"][0]
    evil = '<img src=x onerror="window.__pwned=1">'
    label["annotations"]["objects"][0]["name"] = evil
    label["annotations"]["classifications"][0]["radio_answer"]["name"] = evil
    show(page, fetcher, [row])
    expect(page.locator(".ew-classifications")).to_contain_text(evil)
    expect(page.locator(".ew-preview img[src='x']")).to_have_count(0)
    assert page.evaluate("() => window.__pwned") is None


def test_paging_100_rows_with_the_preview_open_leaves_only_the_shown_rows_blobs(
        page, demo_rows, fetcher):
    rows = [demo_rows["IMAGE"][k % 3] for k in range(100)]
    show(page, fetcher, rows)
    page.evaluate("""() => { window.__blobs = {created: 0, revoked: 0};
        const create = URL.createObjectURL, revoke = URL.revokeObjectURL;
        URL.createObjectURL = (b) => { window.__blobs.created++; return create(b); };
        URL.revokeObjectURL = (u) => { window.__blobs.revoked++; revoke(u); }; }""")
    title = page.locator(".ew-preview-title")
    page.get_by_role("button", name="Preview the next row").focus()
    for line in range(2, 101):
        page.keyboard.press("ArrowDown")
        expect(title).to_contain_text(f"line {line} ")
    expect(page.get_by_role("button", name="Preview the next row")).to_be_disabled()
    counts = page.evaluate("() => window.__blobs")
    assert counts["created"] == 99 * 2  # the image and its mask, per row shown after line 1
    # Every row left revoked its two (line 1's included, created before counting began).
    assert counts["revoked"] == counts["created"]
    expect(page.locator(".ew-preview")).to_have_attribute("data-live-blobs", "2")
    expect(page.locator('.ew-row-node[data-line="100"]')).to_have_attribute(
        "aria-selected", "true")
