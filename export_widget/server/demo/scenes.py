"""What each demo picture shows, derived from its file name only.

The media renderer draws these scenes and the demo's labels annotate them, so a label that
is right sits on its object and a seeded defect (`QA_DEFECTS`) is visibly wrong. Geometry
is in the media's pixels (images 640x480, clips 480x270) or lon/lat (tiles).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from export_widget.server.demo.names import name_index

IMAGE_SIZE = (640, 480)
CLIP_SIZE = (480, 270)
CLIP_FRAMES = 30
CLIP_FPS = 10
CAR_COLOURS = {"red": (206, 44, 44), "blue": (36, 88, 200), "white": (236, 236, 236)}

# Defects seeded on purpose for QA practice: (project key, file name) -> what is wrong.
QA_DEFECTS: dict[tuple[str, str], str] = {
    ("image", "street-0003.png"): "box_misses",  # the car box is beside the car; rejected
    ("video", "clip-0004.webm"): "wrong_class",  # the cyclist is tracked as a vehicle
    ("text", "article-0008.txt"): "wrong_class",  # the organization is tagged a location
}


@dataclass(frozen=True)
class StreetScene:
    horizon: float  # sky above this row
    car: tuple[float, float, float, float]  # left, top, width, height
    car_colour: str
    road: list[tuple[float, float]]  # closed polygon, first point repeated
    lane: list[tuple[float, float]]
    pedestrian: tuple[float, float]  # the middle of the person


def street_scene(name: str) -> StreetScene:
    """The street picture of a demo image (`street-0001.png`, `large-0000042.png`)."""
    i = name_index(name)
    rng = random.Random(f"scene|{name.split('-')[0]}|{i}")
    horizon = float(rng.randint(200, 250))
    vanish = float(rng.randint(280, 360))
    road = [(0.0, 480.0), (vanish - 70, horizon + 10), (vanish + 70, horizon + 10),
            (640.0, 480.0)]
    lane = [(320.0 + (vanish - 320.0) * k / 4, 480.0 - (470.0 - horizon - 10) * k / 4)
            for k in range(5)]
    if name.startswith("large-"):
        # The large project's labels are generated from the row number alone (seed.py);
        # the picture follows the same formula.
        car = (50.0 + i % 400, 100.0 + i % 200, 60.0 + i % 90, 40.0 + i % 60)
        colour = ("red", "blue", "white")[i % 3]
    else:
        w, h = float(rng.randint(90, 190)), float(rng.randint(55, 100))
        car = (float(rng.randint(20, 620 - int(w))),
               float(rng.randint(int(horizon) + 20, 440 - int(h))), w, h)
        colour = rng.choice(list(CAR_COLOURS))
    car_right = car[0] + car[2]
    px = float(rng.choice([rng.randint(20, max(21, int(car[0]) - 30)),
                           rng.randint(min(600, int(car_right) + 30), 620)]))
    py = float(rng.randint(int(horizon) + 60, 430))
    return StreetScene(horizon=horizon, car=car, car_colour=colour,
                       road=[*road, road[0]], lane=lane, pedestrian=(px, py))


@dataclass(frozen=True)
class Track:
    """An object moving in a straight line at constant speed through a clip."""

    feature: str  # "vehicle" or "cyclist"
    start: tuple[float, float]  # left, top at frame 1
    size: tuple[float, float]  # width, height
    velocity: tuple[float, float]  # pixels per frame

    def box(self, frame: int) -> tuple[float, float, float, float]:
        t = frame - 1
        return (self.start[0] + self.velocity[0] * t, self.start[1] + self.velocity[1] * t,
                *self.size)


def clip_tracks(name: str) -> list[Track]:
    """The vehicle and the cyclist of a demo clip (`clip-0001.webm`)."""
    rng = random.Random(f"clip|{name_index(name)}")
    return [
        Track("vehicle", (float(rng.randint(10, 60)), float(rng.randint(150, 170))),
              (72.0, 36.0), (10.0, 0.0)),
        Track("cyclist", (float(rng.randint(320, 380)), float(rng.randint(205, 215))),
              (26.0, 40.0), (-6.0, 0.0)),
    ]


def geo_center(name: str) -> tuple[float, float]:
    """(lng, lat) of a demo tile: spread around a few real places."""
    i = name_index(name)
    places = [(-122.42, 37.77), (2.35, 48.86), (139.69, 35.69), (-46.63, -23.55)]
    lng, lat = places[i % len(places)]
    return round(lng + (i % 7) * 0.01, 6), round(lat + (i % 5) * 0.01, 6)


GEO_HALF_SPAN = 0.01  # a tile covers its centre +- this many degrees


def geo_bounds(name: str) -> list[list[float]]:
    lng, lat = geo_center(name)
    return [[round(lng - GEO_HALF_SPAN, 6), round(lat - GEO_HALF_SPAN, 6)],
            [round(lng + GEO_HALF_SPAN, 6), round(lat + GEO_HALF_SPAN, 6)]]


def geo_features(name: str) -> dict[str, Any]:
    """GeoJSON coordinates ([lng, lat]) of the well, river, field and building of a tile."""
    lng, lat = geo_center(name)
    d = 0.002
    ring = [[lng + 0.003, lat + d], [lng + 0.003 + d, lat], [lng + 0.003, lat - d],
            [lng + 0.003 - d, lat]]
    s = d / 2
    bx, by = lng - 0.005, lat - 0.005
    box = [[bx - s, by - s], [bx + s, by - s], [bx + s, by + s], [bx - s, by + s]]
    out: dict[str, Any] = {
        "well": [lng - 0.005, lat + 0.005],
        "river": [[lng - 0.009, lat - 0.002], [lng - 0.003, lat + 0.001],
                  [lng + 0.002, lat + 0.006], [lng + 0.009, lat + 0.008]],
        "field": [ring + ring[:1]],
        "building": [box + box[:1]],
    }
    return {k: _round(v) for k, v in out.items()}


def _round(value: Any) -> Any:
    return [_round(v) for v in value] if isinstance(value, list) else round(float(value), 6)
