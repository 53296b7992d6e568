"""Demo pictures drawn with Pillow: street images, sky masks, clip frames, map tiles.

Each is drawn from its scene (`scenes.py`), so what a picture shows is where the demo's
labels say it is.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from typing import Any

from PIL import Image, ImageDraw

from export_widget.server.demo import scenes

_SKY_TOP, _SKY_LOW = (120, 170, 230), (200, 225, 245)
_GRASS, _ROAD, _LANE = (110, 150, 90), (92, 92, 98), (245, 245, 235)
_SKIN, _SHIRT, _TROUSERS = (224, 180, 140), (40, 150, 120), (50, 50, 70)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _sky(draw: ImageDraw.ImageDraw, width: int, horizon: float) -> None:
    for y in range(int(horizon)):
        t = y / max(1.0, horizon)
        colour = tuple(int(a + (b - a) * t) for a, b in zip(_SKY_TOP, _SKY_LOW, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)


def _car(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float],
         colour: tuple[int, int, int]) -> None:
    left, top, w, h = box
    right, bottom = left + w, top + h
    wheel = h * 0.22
    body_top = top + h * 0.38
    draw.rounded_rectangle([left, body_top, right, bottom - wheel * 0.6], radius=h * 0.12,
                           fill=colour, outline=(30, 30, 30), width=2)
    draw.polygon([(left + w * 0.18, body_top), (left + w * 0.30, top), (left + w * 0.72, top),
                  (left + w * 0.86, body_top)], fill=colour, outline=(30, 30, 30))
    draw.polygon([(left + w * 0.24, body_top - 2), (left + w * 0.33, top + h * 0.08),
                  (left + w * 0.69, top + h * 0.08), (left + w * 0.79, body_top - 2)],
                 fill=(170, 205, 230))
    for cx in (left + w * 0.22, left + w * 0.78):
        draw.ellipse([cx - wheel, bottom - 2 * wheel, cx + wheel, bottom], fill=(25, 25, 25))


def _person(draw: ImageDraw.ImageDraw, centre: tuple[float, float], height: float) -> None:
    x, y = centre
    top = y - height / 2
    head = height * 0.12
    draw.ellipse([x - head, top, x + head, top + 2 * head], fill=_SKIN)
    draw.rectangle([x - head * 1.1, top + 2 * head, x + head * 1.1, top + height * 0.6],
                   fill=_SHIRT)
    draw.line([(x - head * 0.6, top + height * 0.6), (x - head, y + height / 2)], fill=_TROUSERS,
              width=max(2, int(head * 0.7)))
    draw.line([(x + head * 0.6, top + height * 0.6), (x + head, y + height / 2)], fill=_TROUSERS,
              width=max(2, int(head * 0.7)))


def street_image(name: str) -> Image.Image:
    scene = scenes.street_scene(name)
    width, height = scenes.IMAGE_SIZE
    image = Image.new("RGB", (width, height), _GRASS)
    draw = ImageDraw.Draw(image)
    _sky(draw, width, scene.horizon)
    draw.polygon(scene.road[:-1], fill=_ROAD)
    lane = scene.lane
    for a, b in itertools.pairwise(lane):
        # Dashes: the first 60% of each segment.
        draw.line([a, (a[0] + (b[0] - a[0]) * 0.6, a[1] + (b[1] - a[1]) * 0.6)], fill=_LANE,
                  width=5)
    _car(draw, scene.car, scenes.CAR_COLOURS[scene.car_colour])
    _person(draw, scene.pedestrian, 64.0)
    return image


def street_png(name: str) -> bytes:
    return _png(street_image(name))


_MASK = re.compile(r"^(?P<stem>.+)-sky(?:-o(?P<offset>-?\d+))?\.png$")


def sky_mask_png(name: str) -> bytes | None:
    """White where the sky is. `street-0001-sky-o12.png` is a prediction's mask whose
    horizon sits 12 pixels low."""
    match = _MASK.match(name)
    if match is None:
        return None
    scene = scenes.street_scene(f"{match['stem']}.png")
    horizon = scene.horizon + int(match["offset"] or 0)
    width, height = scenes.IMAGE_SIZE
    image = Image.new("L", (width, height), 0)
    ImageDraw.Draw(image).rectangle([0, 0, width, max(0.0, horizon) - 1], fill=255)
    return _png(image)


def clip_frame(tracks: list[scenes.Track], frame: int) -> Image.Image:
    """Frame `frame` (1-based) of a clip: a road, a vehicle and a cyclist on their tracks."""
    width, height = scenes.CLIP_SIZE
    image = Image.new("RGB", (width, height), _GRASS)
    draw = ImageDraw.Draw(image)
    _sky(draw, width, 120)
    draw.rectangle([0, 140, width, 262], fill=_ROAD)
    for x in range(0, width, 60):
        draw.line([(x, 200), (x + 34, 200)], fill=_LANE, width=3)
    for track in tracks:
        box = track.box(frame)
        if track.feature == "vehicle":
            _car(draw, box, scenes.CAR_COLOURS["red"])
        else:
            left, top, w, h = box
            r = w * 0.38
            for cx in (left + r, left + w - r):
                draw.ellipse([cx - r, top + h - 2 * r, cx + r, top + h], outline=(20, 20, 20),
                             width=3)
            _person(draw, (left + w / 2, top + h * 0.35), h * 0.7)
    return image


def tile_png(name: str) -> bytes:
    """A map tile of a demo geospatial row: its bounds drawn with the features its labels
    mark (field, river, building, well), at the aspect the preview draws lon/lat in."""
    (west, south), (east, north) = scenes.geo_bounds(name)
    k = math.cos(math.radians((south + north) / 2))
    width = 512
    height = round(width * (north - south) / ((east - west) * k))

    def px(p: Any) -> tuple[float, float]:
        lng, lat = p
        return ((lng - west) / (east - west) * width, (north - lat) / (north - south) * height)

    feats = scenes.geo_features(name)
    image = Image.new("RGB", (width, height), (214, 222, 196))
    draw = ImageDraw.Draw(image)
    draw.polygon([px(p) for p in feats["field"][0]], fill=(150, 190, 90))
    draw.line([px(p) for p in feats["river"]], fill=(70, 130, 210), width=9)
    draw.polygon([px(p) for p in feats["building"][0]], fill=(150, 110, 90))
    wx, wy = px(feats["well"])
    draw.ellipse([wx - 7, wy - 7, wx + 7, wy + 7], fill=(40, 60, 160), outline=(255, 255, 255),
                 width=2)
    return _png(image)
