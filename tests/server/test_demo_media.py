"""The demo's media can be read by eye: what a label marks is where the picture shows it."""

from __future__ import annotations

import io
import random
from typing import Any

import av
import numpy as np
import orjson
import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import Engine, select

from export_widget.server import store
from export_widget.server.demo import media, scenes
from export_widget.server.demo.clips import clip_webm
from export_widget.server.demo.samples import annotations_for


def picture(path: str) -> np.ndarray[Any, Any]:
    rendered = media.render_media(path)
    assert rendered is not None, path
    return np.asarray(Image.open(io.BytesIO(rendered[0])).convert("RGB")).astype(int)


def share_of_colour(pixels: np.ndarray[Any, Any], rgb: tuple[int, int, int]) -> float:
    if pixels.size == 0:
        return 0.0
    close = np.abs(pixels - np.asarray(rgb)).sum(axis=-1) < 30
    return float(close.mean())


def crop(pixels: np.ndarray[Any, Any], box: dict[str, float]) -> np.ndarray[Any, Any]:
    left, top = int(box["left"]), int(box["top"])
    return pixels[top:top + int(box["height"]), left:left + int(box["width"])]


def image_label(name: str, defect: str | None = None) -> dict[str, Any]:
    return annotations_for(7, "IMAGE", "label-x", name, random.Random(3), defect=defect)


def test_street_images_have_the_size_their_media_attributes_state() -> None:
    assert picture("images/street-0005.png").shape == (480, 640, 3)
    assert scenes.IMAGE_SIZE == (640, 480)


@pytest.mark.parametrize("name", ["street-0001.png", "street-0007.png", "large-0000042.png"])
def test_the_labelled_car_box_sits_on_the_car_of_the_answered_colour(name: str) -> None:
    pixels = picture(f"images/{name}")
    car = image_label(name)["objects"][0]
    colour = car["classifications"][0]["radio_answer"]["name"]
    rgb = scenes.CAR_COLOURS[colour]
    inside = share_of_colour(crop(pixels, car["bounding_box"]), rgb)
    assert inside > 0.3, (name, inside)
    assert share_of_colour(pixels, rgb) * pixels.shape[0] * pixels.shape[1] < \
        1.3 * inside * car["bounding_box"]["width"] * car["bounding_box"]["height"]


def test_the_seeded_missed_box_is_beside_its_car() -> None:
    name = "street-0003.png"
    assert scenes.QA_DEFECTS[("image", name)] == "box_misses"
    pixels = picture(f"images/{name}")
    scene = scenes.street_scene(name)
    box = image_label(name, "box_misses")["objects"][0]["bounding_box"]
    assert share_of_colour(crop(pixels, box), scenes.CAR_COLOURS[scene.car_colour]) < 0.02


def test_the_pedestrian_point_is_on_the_person_and_the_sky_mask_on_the_sky() -> None:
    name = "street-0002.png"
    pixels = picture(f"images/{name}")
    point = image_label(name)["objects"][3]["point"]
    x, y = round(point["x"]), round(point["y"])
    assert share_of_colour(pixels[y - 3:y + 3, x - 3:x + 3], (40, 150, 120)) > 0.5  # the shirt
    mask = picture("masks/street-0002-sky.png")[..., 0] > 127
    blue_sky = (pixels[..., 2] > 200) & (pixels[..., 2] > pixels[..., 0] + 20)
    assert (mask == blue_sky).mean() > 0.99


def test_a_predicted_sky_mask_is_offset_by_its_name() -> None:
    true = picture("masks/street-0002-sky.png")[..., 0] > 127
    low = picture("masks/street-0002-sky-o12.png")[..., 0] > 127
    assert low.sum() - true.sum() == 12 * 640
    assert media.render_media("masks/street-0002-ground.png") is None


def decoded_frames(name: str) -> list[np.ndarray[Any, Any]]:
    with av.open(io.BytesIO(clip_webm(name))) as container:
        return [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]


def test_a_clip_is_a_webm_the_browser_decodes_and_is_cached() -> None:
    data = clip_webm("clip-0002.webm")
    assert clip_webm("clip-0002.webm") is data
    rendered = media.render_media("videos/clip-0002.webm")
    assert rendered == (data, "video/webm")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp8"
        assert (stream.width, stream.height) == scenes.CLIP_SIZE
        assert stream.average_rate == scenes.CLIP_FPS
    assert len(decoded_frames("clip-0002.webm")) == scenes.CLIP_FRAMES
    assert media.render_media("videos/clip-0002.svg") is None


def test_the_vehicle_is_under_its_key_frame_and_interpolated_boxes() -> None:
    name = "clip-0003.webm"
    frames = decoded_frames(name)
    label = annotations_for(7, "VIDEO", "label-v", name, random.Random(5))
    vehicle = next(o for o in label["frames"]["1"]["objects"].values() if o["name"] == "vehicle")
    fid = vehicle["feature_id"]
    boxes = {int(f): e["objects"][fid]["bounding_box"] for f, e in label["frames"].items()}
    red = scenes.CAR_COLOURS["red"]
    # A car fills about half its box (windows, wheels, roof); the codec blurs colours a bit.
    for frame, box in boxes.items():
        assert share_of_colour(crop(frames[frame - 1], box), red) > 0.15, frame
        beside = {**box, "left": box["left"] + 2 * box["width"]}
        assert share_of_colour(crop(frames[frame - 1], beside), red) < 0.02, frame
    a, b = boxes[1], boxes[11]
    mid = {k: (a[k] + b[k]) / 2 for k in a}  # what includeInterpolatedFrames gives frame 6
    assert share_of_colour(crop(frames[5], mid), red) > 0.15


def test_pdf_words_sit_in_their_token_boxes() -> None:
    name = "invoice-0003.pdf"
    rendered = media.render_media(f"documents/{name}")
    assert rendered is not None
    pdf = pdfium.PdfDocument(rendered[0])
    for number, tokens in enumerate(media.document_pages(name)):
        page = pdf[number]
        text = page.get_textpage()
        height = page.get_size()[1]
        for t in tokens:
            inside = text.get_text_bounded(left=t["left"] - 1, right=t["left"] + t["width"] + 1,
                                           top=height - t["top"] + 1,
                                           bottom=height - t["top"] - t["height"] - 1)
            assert inside.strip() == t["text"], (number, t)
    pdf.close()


def test_a_tile_draws_its_field_where_the_field_polygon_is() -> None:
    name = "tile-0002.png"
    pixels = picture(f"tiles/{name}")
    ring = scenes.geo_features(name)["field"][0][:-1]
    (west, south), (east, north) = scenes.geo_bounds(name)
    lng = sum(p[0] for p in ring) / len(ring)
    lat = sum(p[1] for p in ring) / len(ring)
    x = int((lng - west) / (east - west) * pixels.shape[1])
    y = int((north - lat) / (north - south) * pixels.shape[0])
    assert tuple(pixels[y, x]) == (150, 190, 90)


def labels_of(engine: Engine, project: str, global_key: str) -> list[Any]:
    d, lab, p = store.data_rows, store.labels, store.projects
    with engine.connect() as conn:
        rows = conn.execute(
            select(lab.c.annotations).join(d, d.c.pk == lab.c.data_row_pk)
            .join(p, p.c.id == lab.c.project_id)
            .where(d.c.global_key == global_key, p.c.name == project)
            .order_by(lab.c.created_at)).all()
    return [orjson.loads(r.annotations) for r in rows]


def test_the_qa_defects_are_seeded_in_the_workspace(engine: Engine) -> None:
    (missed,) = labels_of(engine, "Street Scenes Annotation", "street-0003.png")
    scene = scenes.street_scene("street-0003.png")
    assert abs(missed["objects"][0]["bounding_box"]["left"] - scene.car[0]) > scene.car[2]
    (clip,) = labels_of(engine, "Traffic Video Tracking", "clip-0004.webm")
    assert [o["name"] for o in clip["frames"]["1"]["objects"].values()] == ["vehicle", "vehicle"]
    article = labels_of(engine, "News NER", "article-0008.txt")
    names = sorted(sorted(o["name"] for o in a["objects"]) for a in article)
    assert ["location", "location", "person"] in names  # the wrong one
    assert ["location", "organization", "person"] in names  # its consensus twin is right
