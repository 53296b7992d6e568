"""Ontologies and valid sample annotations for every media type of the demo workspace.

Annotation dicts are built in the export shape (docs/protocol.md, "Row shape") and stored as
JSON on the label, so the row builder only parses them. Mask URLs are stored as `/media/...`
paths; the row builder prefixes the server's base URL.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from export_widget.jsontypes import Json
from export_widget.server.demo import media, scenes
from export_widget.server.demo.ids import cuid

# An ontology node: (name, kind, children). Tools: bbox polygon line point mask ner
# conv_ner doc_ner doc_bbox geo_point geo_line geo_polygon geo_bbox relationship;
# classifications: radio checklist text (children of radio/checklist are options;
# children of an option are nested classifications).
Node = tuple[str, str, list[Any]]

_WEATHER: Node = (
    "weather",
    "radio",
    [
        ("sunny", "option", []),
        ("cloudy", "option", []),
        ("rainy", "option", [("intensity", "radio", [("light", "option", []),
                                                      ("heavy", "option", [])])]),
    ],
)

ONTOLOGIES: dict[str, list[Node]] = {
    "IMAGE": [
        ("car", "bbox", [("color", "radio", [("red", "option", []), ("blue", "option", []),
                                             ("white", "option", [])])]),
        ("road", "polygon", []),
        ("lane", "line", []),
        ("pedestrian", "point", []),
        ("sky", "mask", []),
        ("near", "relationship", []),
        _WEATHER,
        ("conditions", "checklist", [("night", "option", []), ("fog", "option", []),
                                     ("glare", "option", [])]),
        ("notes", "text", []),
    ],
    "VIDEO": [
        ("vehicle", "bbox", []),
        ("cyclist", "bbox", []),
        ("motion", "radio", [("moving", "option", []), ("stopped", "option", [])]),
        ("scene", "radio", [("urban", "option", []), ("highway", "option", [])]),
    ],
    "TEXT": [
        ("person", "ner", []),
        ("organization", "ner", []),
        ("location", "ner", []),
        ("works_with", "relationship", []),
        ("sentiment", "radio", [("positive", "option", []), ("neutral", "option", []),
                                ("negative", "option", [])]),
        ("topics", "checklist", [("politics", "option", []), ("economy", "option", []),
                                 ("science", "option", [])]),
        ("summary", "text", []),
    ],
    "CONVERSATIONAL": [
        ("order_number", "conv_ner", []),
        ("intent", "radio", [("complaint", "option", []), ("question", "option", []),
                             ("thanks", "option", [])]),
        ("tone", "checklist", [("polite", "option", []), ("urgent", "option", [])]),
        ("reply_note", "text", []),
        ("resolved", "radio", [("yes", "option", []), ("no", "option", [])]),
    ],
    "PDF": [
        ("invoice_number", "doc_ner", []),
        ("customer", "doc_ner", []),
        ("total_box", "doc_bbox", []),
        ("document_type", "radio", [("invoice", "option", []), ("receipt", "option", [])]),
    ],
    "AUDIO": [
        ("speaker", "radio", [("male", "option", []), ("female", "option", []),
                              ("unknown", "option", [])]),
        ("noise", "checklist", [("traffic", "option", []), ("wind", "option", []),
                                ("music", "option", [])]),
        ("transcript", "text", []),
    ],
    "HTML": [
        ("page_type", "radio", [("product", "option", []), ("article", "option", [])]),
        ("issues", "checklist", [("broken_link", "option", []), ("spam", "option", [])]),
        ("comment", "text", []),
    ],
    "TMS_GEO": [
        ("well", "geo_point", []),
        ("river", "geo_line", []),
        ("field", "geo_polygon", []),
        ("building", "geo_bbox", []),
        ("land_use", "radio", [("farm", "option", []), ("forest", "option", []),
                               ("urban", "option", [])]),
    ],
}


def schema_ids(seed: int, media_type: str) -> dict[str, str]:
    """Feature schema id per path (`weather`, `weather/rainy`, `weather/rainy/intensity`)."""
    out: dict[str, str] = {}

    def walk(nodes: list[Any], prefix: str) -> None:
        for name, _kind, children in nodes:
            path = f"{prefix}{name}"
            out[path] = cuid(seed, "schema", f"{media_type}|{path}")
            walk(children, f"{path}/")

    walk(ONTOLOGIES[media_type], "")
    return out


def schema_rows(seed: int, media_type: str, ontology_id: str) -> list[Json]:
    """Rows for the feature_schemas table."""
    rows: list[Json] = []

    def walk(nodes: list[Any], prefix: str, parent: str | None) -> None:
        for name, kind, children in nodes:
            path = f"{prefix}{name}"
            sid = cuid(seed, "schema", f"{media_type}|{path}")
            rows.append({"id": sid, "ontology_id": ontology_id, "name": name, "kind": kind,
                         "parent_id": parent})
            walk(children, f"{path}/", sid)

    walk(ONTOLOGIES[media_type], "", None)
    return rows


class Builder:
    """Builds one label's annotations with deterministic feature ids."""

    def __init__(self, seed: int, media_type: str, label_id: str, rng: random.Random) -> None:
        self.seed = seed
        self.schemas = schema_ids(seed, media_type)
        self.label_id = label_id
        self.rng = rng
        self._n = 0
        self.noise = LABEL_NOISE
        self.prediction = False
        self.defect: str | None = None

    def jitter(self, value: float) -> float:
        """`value` moved by up to `noise` pixels: how far a labeler's or a model's hand
        strays from the object."""
        return round(value + self.rng.uniform(-self.noise, self.noise), 1)

    def fid(self) -> str:
        self._n += 1
        return cuid(self.seed, "feature", f"{self.label_id}|{self._n}")

    def head(self, path: str) -> Json:
        name = path.rsplit("/", 1)[-1]
        return {"feature_id": self.fid(), "feature_schema_id": self.schemas[path],
                "name": name, "value": name}

    def obj(self, path: str, kind: str, classifications: list[Json] | None = None) -> Json:
        out = self.head(path)
        out["annotation_kind"] = kind
        out["classifications"] = classifications or []
        return out

    def radio(self, path: str, answer: str, nested: list[Json] | None = None,
              key: str = "radio_answer") -> Json:
        out = self.head(path)
        ans = self.head(f"{path}/{answer}")
        ans["classifications"] = nested or []
        out[key] = ans
        return out

    def checklist(self, path: str, answers: list[str],
                  key: str = "checklist_answers") -> Json:
        out = self.head(path)
        items = []
        for a in answers:
            item = self.head(f"{path}/{a}")
            item["classifications"] = []
            items.append(item)
        out[key] = items
        return out

    def text(self, path: str, content: str, key: str = "text_answer") -> Json:
        out = self.head(path)
        out[key] = {"content": content}
        return out

    def relationship(self, path: str, source: str, target: str) -> Json:
        out = self.head(path)
        out["relationship"] = {"source": source, "target": target, "type": "unidirectional"}
        return out

    def weather(self) -> Json:
        answer = self.rng.choice(["sunny", "cloudy", "rainy"])
        nested = []
        if answer == "rainy":
            nested = [self.radio("weather/rainy/intensity", self.rng.choice(["light", "heavy"]))]
        return self.radio("weather", answer, nested)


def _image(b: Builder, name: str) -> Json:
    rng = b.rng
    scene = scenes.street_scene(name)
    left, top, w, h = scene.car
    if b.defect == "box_misses":
        left = left + w + 30 if left + 2 * w + 30 <= 640 else left - w - 30
    car = b.obj("car", "ImageBoundingBox", [b.radio("car/color", scene.car_colour)])
    car["bounding_box"] = {"top": b.jitter(top), "left": b.jitter(left),
                           "height": b.jitter(h), "width": b.jitter(w)}
    road = b.obj("road", "ImagePolygon")
    corners = [scene.road[0], *((b.jitter(x), b.jitter(y)) for x, y in scene.road[1:3]),
               scene.road[3]]
    road["polygon"] = [{"x": x, "y": y} for x, y in [*corners, corners[0]]]
    lane = b.obj("lane", "ImagePolyline")
    lane["line"] = [{"x": b.jitter(x), "y": round(y, 1)} for x, y in scene.lane]
    ped = b.obj("pedestrian", "ImagePoint")
    ped["point"] = {"x": b.jitter(scene.pedestrian[0]), "y": b.jitter(scene.pedestrian[1])}
    sky = b.obj("sky", "ImageSegmentationMask")
    stem = name.rsplit(".", 1)[0]
    offset = round(b.jitter(0.0)) if b.prediction else 0
    sky["mask"] = {"url": f"/media/masks/{stem}-sky{f'-o{offset}' if offset else ''}.png"}
    checks = rng.sample(["night", "fog", "glare"], rng.randint(1, 2))
    return {
        "objects": [car, road, lane, ped, sky],
        "classifications": [b.weather(), b.checklist("conditions", checks),
                            b.text("notes", f"Busy street, {rng.randint(2, 30)} cars")],
        "relationships": [b.relationship("near", car["feature_id"], ped["feature_id"])],
    }


def _text(b: Builder, name: str) -> Json:
    body = media.text_document(name)
    ents = media.text_entities(name)
    objects = []
    for path, key in (("person", "person"), ("organization", "org"), ("location", "city")):
        token = ents[key]
        start = body.index(token)
        if b.defect == "wrong_class" and path == "organization":
            path = "location"
        o = b.obj(path, "TextEntity")
        o["location"] = {"start": start, "end": start + len(token) - 1, "token": token}
        objects.append(o)
    rng = b.rng
    return {
        "objects": objects,
        "classifications": [
            b.radio("sentiment", rng.choice(["positive", "neutral", "negative"])),
            b.checklist("topics", rng.sample(["politics", "economy", "science"], 2)),
            b.text("summary", f"{ents['person']} in {ents['city']} ✍️"),
        ],
        "relationships": [b.relationship("works_with", objects[0]["feature_id"],
                                         objects[1]["feature_id"])],
    }


def _conversational(b: Builder, name: str) -> Json:
    conv = media.conversation(name)
    first = conv["messages"][0]
    digits = first["content"].index("#") + 1
    o = b.obj("order_number", "ConversationalTextEntity")
    o["conversational_location"] = {"message_id": first["messageId"],
                                     "location": {"start": digits, "end": digits + 3}}
    rng = b.rng
    intent = b.radio("intent", rng.choice(["complaint", "question"]),
                     key="conversational_radio_answer")
    intent["message_id"] = first["messageId"]
    tone = b.checklist("tone", ["polite"], key="conversational_checklist_answers")
    tone["message_id"] = conv["messages"][1]["messageId"]
    note = b.text("reply_note", "Agent apologised 🙂", key="conversational_text_answer")
    note["message_id"] = conv["messages"][1]["messageId"]
    return {
        "objects": [o],
        "classifications": [intent, tone, note, b.radio("resolved", rng.choice(["yes", "no"]))],
        "relationships": [],
    }


def _document(b: Builder, name: str) -> Json:
    pages = media.document_pages(name)
    first = pages[0]
    number = b.obj("invoice_number", "DocumentEntityToken")
    number["location"] = {"groups": [{"id": b.fid(), "page_number": 1,
                                      "tokens": [t["id"] for t in first[:2]],
                                      "text": " ".join(t["text"] for t in first[:2])}]}
    billed = [t for t in first if t["top"] == first[2]["top"]][2:]
    customer = b.obj("customer", "DocumentEntityToken")
    customer["location"] = {"groups": [{"id": b.fid(), "page_number": 1,
                                        "tokens": [t["id"] for t in billed],
                                        "text": " ".join(t["text"] for t in billed)}]}
    total = [t for t in first if t["top"] == 120.0]
    box = b.obj("total_box", "DocumentBoundingBox")
    box["page_number"] = 1
    box["bounding_box"] = {
        "top": total[0]["top"] - 2, "left": total[0]["left"] - 2, "height": 18.0,
        "width": total[-1]["left"] + total[-1]["width"] - total[0]["left"] + 4,
    }
    box["page_dimensions"] = {"height": float(media.PDF_PAGE_HEIGHT),
                              "width": float(media.PDF_PAGE_WIDTH)}
    return {
        "objects": [number, customer, box],
        "classifications": [b.radio("document_type", "invoice")],
        "relationships": [],
    }


def _audio(b: Builder, name: str) -> Json:
    rng = b.rng
    return {
        "classifications": [
            b.radio("speaker", rng.choice(["male", "female", "unknown"])),
            b.checklist("noise", rng.sample(["traffic", "wind", "music"], 1)),
            b.text("transcript", "Bonjour, ceci est un test — 你好"),
        ],
        "segments": {},
        "timestamp": {},
    }


def _html(b: Builder, name: str) -> Json:
    rng = b.rng
    return {
        "objects": [],
        "classifications": [
            b.radio("page_type", rng.choice(["product", "article"])),
            b.checklist("issues", ["broken_link"]),
            b.text("comment", f"Layout ok on {name}"),
        ],
        "relationships": [],
    }


def _geo(b: Builder, name: str) -> Json:
    features = scenes.geo_features(name)
    kinds = {"well": ("GeoPoint", "Point"), "river": ("GeoPolyline", "LineString"),
             "field": ("GeoPolygon", "Polygon"), "building": ("GeoBoundingBox", "Polygon")}
    objects = []
    for path, (kind, geo_type) in kinds.items():
        o = b.obj(path, kind)
        o["geojson"] = {"type": geo_type, "coordinates": features[path]}
        objects.append(o)
    return {"objects": objects,
            "classifications": [b.radio("land_use", b.rng.choice(["farm", "forest", "urban"]))],
            "relationships": []}


VIDEO_KEY_FRAMES = (1, 11, 21)


def _video(b: Builder, name: str) -> Json:
    """Key frames only, on the clip's moving objects; the row builder interpolates between
    them on request (the objects move linearly, so interpolated boxes stay on them)."""
    rng = b.rng
    frames: dict[str, Json] = {}
    segments: dict[str, list[list[int]]] = {}
    key_map: dict[str, dict[str, bool]] = {}
    for track in scenes.clip_tracks(name):
        path = track.feature
        if b.defect == "wrong_class" and path == "cyclist":
            path = "vehicle"
        feature_id = b.fid()
        schema = b.schemas[path]
        for frame in VIDEO_KEY_FRAMES:
            left, top, w, h = track.box(frame)
            entry = frames.setdefault(str(frame), {"objects": {}, "classifications": []})
            entry["objects"][feature_id] = {
                "feature_id": feature_id, "feature_schema_id": schema, "name": path,
                "value": path, "annotation_kind": "VideoBoundingBox", "classifications": [],
                "bounding_box": {"top": b.jitter(top), "left": b.jitter(left),
                                 "height": b.jitter(h), "width": b.jitter(w)},
            }
            key_map.setdefault(feature_id, {})[str(frame)] = True
        segments[feature_id] = [[VIDEO_KEY_FRAMES[0], VIDEO_KEY_FRAMES[-1]]]
    frames["1"]["classifications"].append(b.radio("motion", "moving"))
    frames["21"]["classifications"].append(b.radio("motion", "stopped"))
    return {
        "frames": frames,
        "segments": segments,
        "key_frame_feature_map": key_map,
        "classifications": [b.radio("scene", rng.choice(["urban", "highway"]))],
    }


ANNOTATORS: dict[str, Callable[[Builder, str], Json]] = {
    "IMAGE": _image,
    "VIDEO": _video,
    "TEXT": _text,
    "CONVERSATIONAL": _conversational,
    "PDF": _document,
    "AUDIO": _audio,
    "HTML": _html,
    "TMS_GEO": _geo,
}

LABEL_KIND = {"VIDEO": "Video"}


LABEL_NOISE = 1.5  # pixels a careful labeler's boxes stray from the object
# A model run's predictions stray further: the baseline more than the fine-tuned model.
PREDICTION_NOISE = {"baseline-v1": 14.0, "finetune-v2": 5.0}


def annotations_for(seed: int, media_type: str, label_id: str, file_name: str,
                    rng: random.Random, *, prediction_noise: float | None = None,
                    defect: str | None = None) -> Json:
    """Valid annotations (export shape) for one label on one demo file.

    `prediction_noise` makes them a model's predictions, that far off; `defect` (see
    `scenes.QA_DEFECTS`) makes them wrong on purpose.
    """
    b = Builder(seed, media_type, label_id, rng)
    if prediction_noise is not None:
        b.noise, b.prediction = prediction_noise, True
    b.defect = defect
    return ANNOTATORS[media_type](b, file_name)
