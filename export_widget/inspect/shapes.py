"""A row -> what to draw: media kind, layers, shapes, classifications and a legend.

`shapes_of(row)` reads one exported row of any scope (project, dataset/catalog with
projects or model runs, model run) and says what a preview draws on its media:

- layers: each project label, and each model run's ground truth and predictions;
- shapes: one per drawable annotation, with its kind, feature, layer, coordinates in the
  media's own frame (pixels, characters, page points, lon/lat, frames), an accessible name
  ("bounding box: car, by labeler@example.com"), and for predictions the IoU with the best
  ground truth of the same feature;
- classifications flattened to lines (nested answers indented by depth);
- a legend of features with a colour each, and notes on what could not be drawn.

Shape kinds and their coordinates:

| kind | coordinates |
|---|---|
| bounding_box, document_box | `{left, top, width, height}` (document boxes: `page`, `page_size`) |
| polygon, polyline | `[[x, y], ...]` |
| point | `[x, y]` |
| mask | `{url, color}` (`color` `[r, g, b]` for a composite mask, else None) |
| relationship | `{source, target, direction, from, to}`: shape ids, and centres when drawable |
| text_span | `{start, end}`: characters, end inclusive, as the row stores them |
| message_span | `{message_id, start, end}` |
| document_tokens | `{page, tokens, text, boxes}`: `boxes` come from the PDF (kernel side) |
| geo_point / geo_line | `[lng, lat]` / `[[lng, lat], ...]` |
| geo_polygon, geo_box | `[[[lng, lat], ...], ...]` (rings) |
| segment | `[first_frame, last_frame]` (video) |

Pure: no widget, no HTTP. Mask pixels and PDF token boxes need the media, so the kernel's
media module fills those in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict
from zlib import crc32

from export_widget.inspect.geometry import iou_of

Json = dict[str, Any]
MediaKind = Literal["IMAGE", "VIDEO", "TEXT", "CONVERSATIONAL", "PDF", "AUDIO", "TMS_GEO",
                    "HTML", "UNKNOWN"]
ShapeKind = Literal["bounding_box", "polygon", "polyline", "point", "mask", "relationship",
                    "text_span", "message_span", "document_tokens", "document_box",
                    "geo_point", "geo_line", "geo_polygon", "geo_box", "segment"]
LayerKind = Literal["label", "ground_truth", "prediction"]
Scope = Literal["global", "frame", "message"]


class Layer(TypedDict):
    id: str
    kind: LayerKind
    label_id: str
    source_id: str  # project id, or model run id
    source: str  # project name, or "model / run"
    author: str | None  # label_details.created_by, when exported
    review: str | None  # the latest review action ("Approve", "Reject"), when exported
    name: str


class Shape(TypedDict):
    id: str  # unique within the row
    kind: ShapeKind
    feature: str
    feature_id: str
    schema_id: str | None
    layer: str
    coordinates: Any  # see the module's table
    name: str  # accessible name
    attributes: list[str]  # the object's own classifications, "color: red"
    frame: NotRequired[int]
    keyframe: NotRequired[bool]
    page: NotRequired[int]
    page_size: NotRequired[list[float]]  # [width, height] in page points
    message_id: NotRequired[str]
    text: NotRequired[str]
    iou: NotRequired[float | None]  # predictions: best IoU with ground truth of the feature
    match: NotRequired[str | None]  # the id of that ground-truth shape


class Classification(TypedDict):
    feature: str
    answer: str
    layer: str
    depth: int  # 0 for a top-level question, 1 for an answer's nested question, ...
    scope: Scope
    frame: NotRequired[int]
    message_id: NotRequired[str]


class Feature(TypedDict):
    name: str
    color: str  # "#rrggbb"
    count: int


class RowShapes(TypedDict):
    media_type: MediaKind
    data_row_id: str
    global_key: str | None
    row_data: str
    media_attributes: Json
    width: float | None  # media frame size where the media has one (image, video)
    height: float | None
    layers: list[Layer]
    shapes: list[Shape]
    classifications: list[Classification]
    features: list[Feature]
    frames: list[int]  # video: frames with something to draw, ascending
    bounds: list[list[float]] | None  # geospatial: [[west, south], [east, north]]
    notes: list[str]


# Twelve hues far apart (Tableau 10 without its grey, then three dark ones), so two features
# of one row never look alike.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#bcbd22", "#393b79", "#637939", "#7b4173")

KIND_WORDS: dict[str, str] = {
    "bounding_box": "bounding box", "polygon": "polygon", "polyline": "polyline",
    "point": "point", "mask": "segmentation mask", "relationship": "relationship",
    "text_span": "entity", "message_span": "entity", "document_tokens": "entity",
    "document_box": "bounding box", "geo_point": "point", "geo_line": "line",
    "geo_polygon": "polygon", "geo_box": "bounding box", "segment": "segment",
}

_REVIEWED = {"Approve": "approved", "Reject": "rejected"}
_ASSET_TYPES: dict[str, MediaKind] = {
    "image": "IMAGE", "video": "VIDEO", "text": "TEXT", "conversational": "CONVERSATIONAL",
    "pdf": "PDF", "document": "PDF", "audio": "AUDIO", "tms_geo": "TMS_GEO",
    "geospatial": "TMS_GEO", "html": "HTML",
}
_MIME_TYPES: dict[str, MediaKind] = {
    "application/pdf": "PDF", "text/html": "HTML", "text/plain": "TEXT",
    "application/vnd.labelbox.conversational": "CONVERSATIONAL",
}
_KIND_PREFIXES: dict[str, MediaKind] = {
    "Image": "IMAGE", "Video": "VIDEO", "TextEntity": "TEXT", "Conversational": "CONVERSATIONAL",
    "Document": "PDF", "Geo": "TMS_GEO",
}


def media_kind(row: Mapping[str, Any]) -> MediaKind:
    """The row's media type: from `media_attributes` (asset type, then MIME type), else from
    the kinds of its annotations."""
    attrs = row.get("media_attributes") or {}
    asset = str(attrs.get("asset_type") or "").lower()
    if asset in _ASSET_TYPES:
        return _ASSET_TYPES[asset]
    mime = str(attrs.get("mime_type") or "").split(";")[0].strip().lower()
    if mime in _MIME_TYPES:
        return _MIME_TYPES[mime]
    for prefix, kind in (("image/", "IMAGE"), ("video/", "VIDEO"), ("audio/", "AUDIO")):
        if mime.startswith(prefix):
            return kind  # type: ignore[return-value]
    for _layer, ann in _label_sources(row):
        if "frames" in ann:
            return "VIDEO"
        for obj in ann.get("objects") or []:
            kind_name = str(obj.get("annotation_kind", ""))
            for prefix, media in _KIND_PREFIXES.items():
                if kind_name.startswith(prefix):
                    return media
    return "UNKNOWN"


def shapes_of(row: Mapping[str, Any]) -> RowShapes:
    """What a preview draws for one exported row (see the module docstring)."""
    media = media_kind(row)
    attrs: Json = dict(row.get("media_attributes") or {})
    data_row = row.get("data_row") or {}
    out = _Collector(media)
    for layer, ann in _label_sources(row):
        out.layers.append(layer)
        out.read_label(layer, ann)
    _score_predictions(out.shapes, {layer["id"]: layer for layer in out.layers})
    frames = sorted({s["frame"] for s in out.shapes if "frame" in s}
                    | {c["frame"] for c in out.classifications if "frame" in c})
    return RowShapes(
        media_type=media,
        data_row_id=str(data_row.get("id", "")),
        global_key=data_row.get("global_key"),
        row_data=str(data_row.get("row_data", "")),
        media_attributes=attrs,
        width=_number(attrs.get("width")),
        height=_number(attrs.get("height")),
        layers=out.layers,
        shapes=out.shapes,
        classifications=out.classifications,
        features=_legend(out.shapes, out.classifications),
        frames=frames,
        bounds=_bounds(attrs, out.shapes) if media == "TMS_GEO" else None,
        notes=out.notes,
    )


# --- layers ------------------------------------------------------------------------------


def _label_sources(row: Mapping[str, Any]) -> Iterator[tuple[Layer, Json]]:
    """Every label of the row as (layer, annotations): project labels first, then each
    model run's ground truth and predictions."""
    for project_id, project in (row.get("projects") or {}).items():
        source = str(project.get("name") or project_id)
        for label in project.get("labels") or []:
            yield _layer("label", label, str(project_id), source), label.get("annotations") or {}
    for model_id, model in (row.get("experiments") or {}).items():
        model_name = str(model.get("name") or model_id)
        for run_id, run in (model.get("runs") or {}).items():
            source = f"{model_name} / {run.get('name') or run_id}"
            for label in run.get("labels") or []:
                yield (_layer("ground_truth", label, str(run_id), source),
                       label.get("annotations") or {})
            for pred in run.get("predictions") or []:
                yield _layer("prediction", pred, str(run_id), source), pred.get("annotations") or {}


def _layer(kind: LayerKind, label: Json, source_id: str, source: str) -> Layer:
    details = label.get("label_details") or {}
    reviews = details.get("reviews") or []
    author = details.get("created_by")
    review = reviews[-1].get("review_action") if reviews else None
    label_id = str(label.get("id", ""))
    if kind == "prediction":
        name = f"predictions of {source}"
    elif kind == "ground_truth":
        name = f"ground truth in {source}"
    else:
        name = f"label by {author} in {source}" if author else f"label in {source}"
    if review:
        name += f" ({_REVIEWED.get(review, review.lower())} in review)"
    return Layer(id=f"{kind}:{source_id}:{label_id}", kind=kind, label_id=label_id,
                 source_id=source_id, source=source, author=author, review=review, name=name)


# --- reading one label -------------------------------------------------------------------


@dataclass
class _Where:
    """Where a shape sits inside its media beyond its coordinates."""

    frame: int | None = None
    keyframe: bool | None = None


class _Collector:
    def __init__(self, media: MediaKind) -> None:
        self.media = media
        self.layers: list[Layer] = []
        self.shapes: list[Shape] = []
        self.classifications: list[Classification] = []
        self.notes: list[str] = []

    def read_label(self, layer: Layer, ann: Json) -> None:
        if "frames" in ann:
            self._read_video(layer, ann)
        else:
            start = len(self.shapes)
            for obj in ann.get("objects") or []:
                self._read_object(layer, obj, _Where())
            self._read_relationships(layer, ann.get("relationships") or [], start)
        self._read_segments(layer, ann)
        for c in ann.get("classifications") or []:
            self._read_classification(layer, c, 0, {})

    # objects

    def _read_object(self, layer: Layer, obj: Json, where: _Where) -> None:
        read = _geometry(obj)
        if read is None:
            self.notes.append(
                f"{obj.get('name', '?')}: {obj.get('annotation_kind', 'unknown kind')} "
                f"is not drawn (no geometry this preview knows)")
            return
        kind, coordinates, extra = read
        feature = str(obj.get("name") or obj.get("value") or "?")
        feature_id = str(obj.get("feature_id", ""))
        shape = Shape(id=f"{layer['id']}/{feature_id}", kind=kind, feature=feature,
                      feature_id=feature_id, schema_id=obj.get("feature_schema_id"),
                      layer=layer["id"], coordinates=coordinates, name="",
                      attributes=[line for c in obj.get("classifications") or []
                                  for line in _answer_lines(c)])
        shape.update(extra)  # type: ignore[typeddict-item]
        if where.frame is not None:
            shape["id"] += f"@{where.frame}"
            shape["frame"] = where.frame
            shape["keyframe"] = bool(where.keyframe)
        shape["name"] = _accessible_name(shape, layer)
        self.shapes.append(shape)

    def _read_relationships(self, layer: Layer, rels: list[Json], start: int) -> None:
        own = {s["feature_id"]: s for s in self.shapes[start:]}
        for rel in rels:
            spec = rel.get("relationship") or {}
            src, dst = own.get(str(spec.get("source"))), own.get(str(spec.get("target")))
            feature_id = str(rel.get("feature_id", ""))
            coords = {
                "source": src["id"] if src else None, "target": dst["id"] if dst else None,
                "direction": spec.get("type", "unidirectional"),
                "from": _centre(src) if src else None, "to": _centre(dst) if dst else None,
            }
            shape = Shape(id=f"{layer['id']}/{feature_id}", kind="relationship",
                          feature=str(rel.get("name") or "?"), feature_id=feature_id,
                          schema_id=rel.get("feature_schema_id"), layer=layer["id"],
                          coordinates=coords, name="", attributes=[])
            shape["name"] = _accessible_name(shape, layer)
            if src and dst:
                shape["name"] += f", from {src['feature']} to {dst['feature']}"
            self.shapes.append(shape)

    # video

    def _read_video(self, layer: Layer, ann: Json) -> None:
        key_map: dict[str, dict[str, bool]] = ann.get("key_frame_feature_map") or {}
        for frame_key, entry in (ann.get("frames") or {}).items():
            frame = int(frame_key)
            objects = entry.get("objects") or {}
            for feature_id, obj in (objects.items() if isinstance(objects, dict)
                                    else ((o.get("feature_id"), o) for o in objects)):
                keys = key_map.get(str(feature_id))
                keyframe = True if keys is None else bool(keys.get(frame_key))
                self._read_object(layer, obj, _Where(frame, keyframe))
            for c in entry.get("classifications") or []:
                self._read_classification(layer, c, 0, {"scope": "frame", "frame": frame})

    def _read_segments(self, layer: Layer, ann: Json) -> None:
        segments = ann.get("segments") or {}
        if not isinstance(segments, dict):
            return
        names = {s["feature_id"]: s["feature"] for s in self.shapes if s["layer"] == layer["id"]}
        for feature_id, spans in segments.items():
            for first, last in spans or []:
                feature = names.get(str(feature_id), str(feature_id))
                shape = Shape(id=f"{layer['id']}/{feature_id}#{first}-{last}", kind="segment",
                              feature=feature, feature_id=str(feature_id), schema_id=None,
                              layer=layer["id"], coordinates=[int(first), int(last)],
                              name="", attributes=[])
                shape["name"] = _accessible_name(shape, layer) + f", frames {first} to {last}"
                self.shapes.append(shape)

    # classifications

    def _read_classification(self, layer: Layer, c: Json, depth: int, where: Json) -> None:
        here = dict(where)
        if "message_id" in c:
            here.update(scope="message", message_id=str(c["message_id"]))
        answer, nested = _answer(c)
        line = Classification(feature=str(c.get("name") or c.get("value") or "?"),
                              answer=answer, layer=layer["id"], depth=depth,
                              scope=here.get("scope", "global"))
        for key in ("frame", "message_id"):
            if key in here:
                line[key] = here[key]
        self.classifications.append(line)
        for n in nested:
            self._read_classification(layer, n, depth + 1, here)


# --- one object's geometry ---------------------------------------------------------------


def _geometry(obj: Json) -> tuple[ShapeKind, Any, Json] | None:
    """(kind, coordinates, extra shape fields) of an object, by the geometry key it carries
    (the annotation kind only disambiguates), or None when it carries none we know."""
    kind_name = str(obj.get("annotation_kind", ""))
    if "bounding_box" in obj:
        box = {k: float(obj["bounding_box"][k]) for k in ("left", "top", "width", "height")}
        if "page_number" in obj or kind_name.startswith("Document"):
            dims = obj.get("page_dimensions") or {}
            extra: Json = {"page": int(obj.get("page_number", 1))}
            if dims:
                extra["page_size"] = [float(dims["width"]), float(dims["height"])]
            return "document_box", box, extra
        return "bounding_box", box, {}
    if "polygon" in obj:
        return "polygon", [[float(p["x"]), float(p["y"])] for p in obj["polygon"]], {}
    if "line" in obj:
        return "polyline", [[float(p["x"]), float(p["y"])] for p in obj["line"]], {}
    if "point" in obj:
        return "point", [float(obj["point"]["x"]), float(obj["point"]["y"])], {}
    if "mask" in obj or "composite_mask" in obj:
        mask = obj.get("composite_mask") or obj["mask"]
        color = mask.get("color_rgb")
        return "mask", {"url": str(mask.get("url", "")),
                        "color": [int(v) for v in color] if color else None}, {}
    if "conversational_location" in obj:
        loc = obj["conversational_location"]
        message_id = str(loc.get("message_id", ""))
        span = loc.get("location") or {}
        return "message_span", {"message_id": message_id, "start": int(span["start"]),
                                "end": int(span["end"])}, {"message_id": message_id}
    if "location" in obj:
        loc = obj["location"]
        if "groups" in loc:
            return _document_tokens(loc["groups"])
        extra = {"text": str(loc["token"])} if "token" in loc else {}
        return "text_span", {"start": int(loc["start"]), "end": int(loc["end"])}, extra
    if "geojson" in obj:
        return _geo(obj["geojson"], kind_name)
    return None


def _document_tokens(groups: list[Json]) -> tuple[ShapeKind, Any, Json] | None:
    # An entity spans one group per page it touches; the preview draws the first page's
    # group, and keeps every token id for the comparison.
    if not groups:
        return None
    first = groups[0]
    tokens = [str(t) for g in groups for t in g.get("tokens") or []]
    text = " ".join(str(g.get("text", "")) for g in groups)
    page = int(first.get("page_number", 1))
    return "document_tokens", {"page": page, "tokens": tokens, "text": text, "boxes": []}, \
        {"page": page, "text": text}


def _geo(geojson: Json, kind_name: str) -> tuple[ShapeKind, Any, Json] | None:
    gtype = geojson.get("type")
    coords: Any = geojson.get("coordinates") or []
    if gtype == "Point":
        return "geo_point", [float(coords[0]), float(coords[1])], {}
    if gtype == "LineString":
        return "geo_line", [[float(x), float(y)] for x, y, *_ in coords], {}
    if gtype == "Polygon":
        rings = [[[float(x), float(y)] for x, y, *_ in ring] for ring in coords]
        return ("geo_box" if "BoundingBox" in kind_name else "geo_polygon"), rings, {}
    return None


def _centre(shape: Shape) -> list[float] | None:
    """Where a relationship arrow attaches: a box's centre, a point, a polygon's mean
    vertex, a line's middle vertex."""
    c, kind = shape["coordinates"], shape["kind"]
    if kind == "bounding_box":
        return [c["left"] + c["width"] / 2, c["top"] + c["height"] / 2]
    if kind == "point":
        return list(c)
    if kind == "polygon" and c:
        pts = c[:-1] if len(c) > 1 and c[0] == c[-1] else c
        return [sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)]
    if kind == "polyline" and c:
        return list(c[len(c) // 2])
    return None


# --- classifications ---------------------------------------------------------------------


def _answer(c: Json) -> tuple[str, list[Json]]:
    """The answer text of a classification and the nested classifications under it."""
    for key in ("radio_answer", "conversational_radio_answer"):
        if key in c:
            ans = c[key] or {}
            return str(ans.get("name") or ans.get("value") or ""), ans.get("classifications") or []
    for key in ("checklist_answers", "conversational_checklist_answers"):
        if key in c:
            answers = c[key] or []
            nested = [n for a in answers for n in a.get("classifications") or []]
            return ", ".join(str(a.get("name") or a.get("value") or "") for a in answers), nested
    for key in ("text_answer", "conversational_text_answer"):
        if key in c:
            return str((c[key] or {}).get("content", "")), []
    return "", []


def _answer_lines(c: Json, prefix: str = "") -> list[str]:
    answer, nested = _answer(c)
    line = f"{prefix}{c.get('name') or c.get('value')}: {answer}"
    return [line, *(x for n in nested for x in _answer_lines(n, prefix + "  "))]


# --- names, IoU, legend ------------------------------------------------------------------


def _accessible_name(shape: Shape, layer: Layer) -> str:
    word = KIND_WORDS[shape["kind"]]
    if layer["kind"] == "prediction":
        who = f"prediction of {layer['source']}"
    elif layer["kind"] == "ground_truth":
        who = f"ground truth in {layer['source']}"
    else:
        who = f"by {layer['author'] or layer['source']}"
    name = f"{word}: {shape['feature']}, {who}"
    if "text" in shape and shape["kind"] != "document_tokens":
        name += f", “{shape['text']}”"
    if "frame" in shape:
        name += f", frame {shape['frame']}" + ("" if shape.get("keyframe") else " (interpolated)")
    if "page" in shape:
        name += f", page {shape['page']}"
    if "message_id" in shape:
        name += f", message {shape['message_id']}"
    return name


def _place(shape: Shape) -> tuple[Any, ...]:
    return (shape.get("frame"), shape.get("page"), shape.get("message_id"))


def _score_predictions(shapes: list[Shape], layers: dict[str, Layer]) -> None:
    """Give each prediction the IoU of its best-matching ground truth of the same feature
    in the same run (and frame, page or message); None when no such shape has an area."""
    truth: dict[tuple[Any, ...], list[Shape]] = {}
    for s in shapes:
        if layers[s["layer"]]["kind"] == "ground_truth":
            key = (layers[s["layer"]]["source_id"], s["feature"], *_place(s))
            truth.setdefault(key, []).append(s)
    for s in shapes:
        layer = layers[s["layer"]]
        if layer["kind"] != "prediction" or s["kind"] in ("relationship", "segment"):
            continue
        best: float | None = None
        match: str | None = None
        for gt in truth.get((layer["source_id"], s["feature"], *_place(s)), []):
            iou = iou_of(s["kind"], s["coordinates"], gt["kind"], gt["coordinates"])
            if iou is not None and (best is None or iou > best):
                best, match = iou, gt["id"]
        s["iou"] = None if best is None else round(best, 4)
        s["match"] = match
        if best is not None:
            s["name"] += f", IoU {best:.2f}"


def _legend(shapes: list[Shape], classifications: list[Classification]) -> list[Feature]:
    counts: dict[str, int] = {}
    for s in shapes:
        if s["kind"] != "segment":
            counts[s["feature"]] = counts.get(s["feature"], 0) + 1
    for c in classifications:
        if c["depth"] == 0:
            counts[c["feature"]] = counts.get(c["feature"], 0) + 1
    taken: set[int] = set()
    out: list[Feature] = []
    for name in counts:
        out.append(Feature(name=name, color=PALETTE[_colour_slot(name, taken)],
                           count=counts[name]))
    return out


def _colour_slot(name: str, taken: set[int]) -> int:
    # A feature keeps its colour from row to row (a hash of its name); two features of one
    # row never share one (the next free slot), as long as the palette lasts.
    slot = crc32(name.encode()) % len(PALETTE)
    for k in range(len(PALETTE)):
        candidate = (slot + k) % len(PALETTE)
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    return slot


def _bounds(attrs: Json, shapes: list[Shape]) -> list[list[float]] | None:
    given = attrs.get("bounds")
    if isinstance(given, list) and len(given) == 2:
        return [[float(given[0][0]), float(given[0][1])], [float(given[1][0]), float(given[1][1])]]
    pts = [p for s in shapes for p in _lonlat_points(s)]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return [[min(xs), min(ys)], [max(xs), max(ys)]]


def _lonlat_points(shape: Shape) -> list[list[float]]:
    c = shape["coordinates"]
    if shape["kind"] == "geo_point":
        return [c]
    if shape["kind"] == "geo_line":
        return list(c)
    if shape["kind"] in ("geo_polygon", "geo_box"):
        return [p for ring in c for p in ring]
    return []


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None
