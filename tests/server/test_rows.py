"""Each media type's exported row carries valid annotations of the right shapes."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine

from export_widget.server.demo import media
from export_widget.server.export_query import prepare_export
from export_widget.server.export_spec import ExportSpec
from export_widget.server.rows.video import interpolate_frames
from export_widget.server.workspace import Workspace

BASE = "http://127.0.0.1:9"


def labeled(engine: Engine, project_name: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(row, label) pairs of a demo project."""
    ws = Workspace(engine)
    pid = next(p["id"] for p in ws.projects() if p["name"] == project_name)
    spec = ExportSpec("project", pid, [], {"includeAttachments": True}, "UTC", BASE)
    out = []
    for batch in prepare_export(engine, spec).batches():
        for line in batch.result_lines():  # what the engine writes
            row = orjson.loads(line)
            for label in row["projects"][pid]["labels"]:
                out.append((row, label))
    assert out, f"{project_name} has labeled rows"
    return out


def served(url: str) -> tuple[bytes, str]:
    assert url.startswith(f"{BASE}/media/")
    rendered = media.render_media(url.removeprefix(BASE))
    assert rendered is not None, url
    return rendered


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["annotation_kind"] == kind]


def test_every_object_and_classification_has_ids_and_names(engine: Engine) -> None:
    for project in Workspace(engine).projects():
        for _row, label in labeled(engine, project["name"]):
            blob = orjson.dumps(label["annotations"]).decode()
            assert '"feature_schema_id"' in blob
            for cls in label["annotations"].get("classifications", []):
                assert {"feature_id", "feature_schema_id", "name", "value"} <= set(cls)


def test_image_label_shapes(engine: Engine) -> None:
    for row, label in labeled(engine, "Street Scenes Annotation"):
        ann = label["annotations"]
        assert set(ann) == {"objects", "classifications", "relationships"}
        assert label["label_kind"] == "Default" and label["version"] == "1.0.0"
        (box,) = by_kind(ann["objects"], "ImageBoundingBox")
        assert set(box["bounding_box"]) == {"top", "left", "height", "width"}
        assert box["classifications"][0]["radio_answer"]["name"] in {"red", "blue", "white"}
        (poly,) = by_kind(ann["objects"], "ImagePolygon")
        assert poly["polygon"][0] == poly["polygon"][-1] and len(poly["polygon"]) >= 4
        (line,) = by_kind(ann["objects"], "ImagePolyline")
        assert len(line["line"]) >= 2 and poly["polygon"][0] != line["line"][-1]
        (point,) = by_kind(ann["objects"], "ImagePoint")
        width, height = row["media_attributes"]["width"], row["media_attributes"]["height"]
        assert 0 <= point["point"]["x"] < width and 0 <= point["point"]["y"] < height
        (mask,) = by_kind(ann["objects"], "ImageSegmentationMask")
        body, ctype = served(mask["mask"]["url"])
        assert ctype == "image/png" and body.startswith(b"\x89PNG\r\n\x1a\n")
        kinds = {next(k for k in c if k.endswith(("_answer", "_answers")))
                 for c in ann["classifications"]}
        assert kinds == {"radio_answer", "checklist_answers", "text_answer"}
        (rel,) = ann["relationships"]
        assert rel["relationship"]["source"] == box["feature_id"]
        assert rel["relationship"]["target"] == point["feature_id"]


def test_nested_radio_classification_appears(engine: Engine) -> None:
    nested = [c for _r, lab in labeled(engine, "Street Scenes Annotation")
              for c in lab["annotations"]["classifications"]
              if c["name"] == "weather" and c["radio_answer"]["classifications"]]
    assert nested
    inner = nested[0]["radio_answer"]["classifications"][0]
    assert inner["name"] == "intensity" and inner["radio_answer"]["name"] in {"light", "heavy"}


def test_text_ner_token_equals_the_text_slice(engine: Engine) -> None:
    non_ascii = 0
    for row, label in labeled(engine, "News NER"):
        body, ctype = served(row["data_row"]["row_data"])
        assert ctype.startswith("text/plain")
        text = body.decode("utf-8")
        non_ascii += any(ord(ch) > 127 for ch in text)
        for obj in label["annotations"]["objects"]:
            assert obj["annotation_kind"] == "TextEntity"
            loc = obj["location"]
            assert text[loc["start"]:loc["end"] + 1] == loc["token"]
    assert non_ascii


def test_conversational_spans_and_message_classifications(engine: Engine) -> None:
    for row, label in labeled(engine, "Support Chat Intents"):
        body, _ = served(row["data_row"]["row_data"])
        conv = orjson.loads(body)
        messages = {m["messageId"]: m["content"] for m in conv["messages"]}
        assert row["media_attributes"]["labelable_ids"] == list(messages)
        assert row["media_attributes"]["message_count"] == len(messages)
        (obj,) = label["annotations"]["objects"]
        assert obj["annotation_kind"] == "ConversationalTextEntity"
        loc = obj["conversational_location"]
        content = messages[loc["message_id"]]
        span = content[loc["location"]["start"]:loc["location"]["end"] + 1]
        assert span.isdigit() and len(span) == 4
        scoped = [c for c in label["annotations"]["classifications"] if "message_id" in c]
        keys = {k for c in scoped for k in c if k.startswith("conversational_")}
        assert keys == {"conversational_radio_answer", "conversational_checklist_answers",
                        "conversational_text_answer"}
        assert all(c["message_id"] in messages for c in scoped)


def test_document_token_groups_and_boxes(engine: Engine) -> None:
    for row, label in labeled(engine, "Invoice Extraction"):
        body, ctype = served(row["data_row"]["row_data"])
        assert ctype == "application/pdf" and body.startswith(b"%PDF-") and b"%%EOF" in body
        name = row["data_row"]["row_data"].rsplit("/", 1)[-1]
        tokens = {t["id"]: t["text"] for page in media.document_pages(name) for t in page}
        groups = [g for o in by_kind(label["annotations"]["objects"], "DocumentEntityToken")
                  for g in o["location"]["groups"]]
        assert len(groups) == 2
        for g in groups:
            assert g["page_number"] == 1
            assert g["text"] == " ".join(tokens[t] for t in g["tokens"])
        (box,) = by_kind(label["annotations"]["objects"], "DocumentBoundingBox")
        assert box["page_dimensions"] == {"height": 792.0, "width": 612.0}
        assert box["page_number"] == 1 and box["bounding_box"]["width"] > 0


def test_geospatial_geojson_is_lng_lat_and_closed(engine: Engine) -> None:
    for row, label in labeled(engine, "Land Use Mapping"):
        (lng_lo, lat_lo), (lng_hi, lat_hi) = row["media_attributes"]["bounds"]
        objs = {o["annotation_kind"]: o for o in label["annotations"]["objects"]}
        assert set(objs) == {"GeoPoint", "GeoPolyline", "GeoPolygon", "GeoBoundingBox"}
        lng, lat = objs["GeoPoint"]["geojson"]["coordinates"]
        assert lng_lo <= lng <= lng_hi and lat_lo <= lat <= lat_hi
        assert objs["GeoPolyline"]["geojson"]["type"] == "LineString"
        for kind in ("GeoPolygon", "GeoBoundingBox"):
            ring = objs[kind]["geojson"]["coordinates"][0]
            assert objs[kind]["geojson"]["type"] == "Polygon" and ring[0] == ring[-1]
        assert len(objs["GeoBoundingBox"]["geojson"]["coordinates"][0]) == 5


def test_video_frames_segments_and_key_frames(engine: Engine) -> None:
    for row, label in labeled(engine, "Traffic Video Tracking"):
        assert label["label_kind"] == "Video"
        ann = label["annotations"]
        assert set(ann) == {"frames", "segments", "key_frame_feature_map", "classifications"}
        for fid, frames in ann["key_frame_feature_map"].items():
            assert all(fid in ann["frames"][f]["objects"] for f in frames)
            (segment,) = ann["segments"][fid]
            assert segment == [min(map(int, frames)), max(map(int, frames))]
        assert row["media_attributes"]["frame_count"] >= max(map(int, ann["frames"]))
        assert any(f["classifications"] for f in ann["frames"].values())
        assert ann["classifications"][0]["name"] == "scene"


def test_audio_and_html_classifications(engine: Engine) -> None:
    for row, label in labeled(engine, "Call Audio Review"):
        body, ctype = served(row["data_row"]["row_data"])
        assert ctype == "audio/wav" and body[:4] == b"RIFF" and body[8:12] == b"WAVE"
        assert {c["name"] for c in label["annotations"]["classifications"]} == {
            "speaker", "noise", "transcript"}
    for row, label in labeled(engine, "Product Page Review"):
        body, ctype = served(row["data_row"]["row_data"])
        assert ctype.startswith("text/html") and b"<html" in body
        assert label["annotations"]["objects"] == []
        assert len(label["annotations"]["classifications"]) == 3
        (att,) = row["attachments"]
        assert att["type"] == "HTML"


def test_interpolation_leaves_frames_without_key_map_alone() -> None:
    ann = {"frames": {"3": {"objects": {}, "classifications": []}}, "segments": {},
           "key_frame_feature_map": {}}
    assert interpolate_frames(ann) == {"3": {"objects": {}, "classifications": []}}


def test_interpolation_is_linear_between_two_key_frames() -> None:
    def box(left: float) -> dict[str, Any]:
        return {"feature_id": "f", "bounding_box": {"top": 0.0, "left": left,
                                                    "height": 10.0, "width": 10.0}}

    ann = {"frames": {"1": {"objects": {"f": box(0.0)}, "classifications": []},
                      "5": {"objects": {"f": box(40.0)}, "classifications": []}},
           "segments": {"f": [[1, 5]]}, "key_frame_feature_map": {"f": {"1": True, "5": True}}}
    frames = interpolate_frames(ann)
    assert list(frames) == ["1", "2", "3", "4", "5"]
    assert [frames[k]["objects"]["f"]["bounding_box"]["left"] for k in frames] == [
        0.0, 10.0, 20.0, 30.0, 40.0]
    assert ann["frames"]["1"]["objects"]["f"]["bounding_box"]["left"] == 0.0
