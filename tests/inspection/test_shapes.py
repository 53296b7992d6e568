"""A row -> what to draw, on rows of every media type exported from the real demo server."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from export_widget.inspect import media_kind, shapes_of
from export_widget.inspect.geometry import box_iou, iou_of
from export_widget.inspect.shapes import KIND_WORDS, RowShapes, Shape

Row = dict[str, Any]

MEDIA_OF_PROJECT = {
    "Street Scenes Annotation": "IMAGE", "Traffic Video Tracking": "VIDEO", "News NER": "TEXT",
    "Land Use Mapping": "TMS_GEO", "Invoice Extraction": "PDF", "Call Audio Review": "AUDIO",
    "Support Chat Intents": "CONVERSATIONAL", "Product Page Review": "HTML",
}


def labels_of(row: Row) -> list[Any]:
    return [lab for p in row["projects"].values() for lab in p["labels"]]


def labeled(rows: list[Row]) -> list[Row]:
    return [r for r in rows if labels_of(r)]


def objects_of(row: Row) -> list[Any]:
    return [o for lab in labels_of(row) for o in lab["annotations"].get("objects", [])]


def by_kind(out: RowShapes, kind: str) -> list[Shape]:
    return [s for s in out["shapes"] if s["kind"] == kind]


def test_every_demo_media_type_is_recognised(project_rows: dict[str, list[Row]]) -> None:
    for project, media in MEDIA_OF_PROJECT.items():
        assert {media_kind(r) for r in project_rows[project]} == {media}, project


def test_media_type_falls_back_to_the_mime_type_then_the_annotation_kinds(
        project_rows: dict[str, list[Row]]) -> None:
    row = labeled(project_rows["Street Scenes Annotation"])[0]
    no_asset = {**row, "media_attributes": {"mime_type": "image/jpeg"}}
    no_attrs = {**row, "media_attributes": {}}
    assert media_kind(no_asset) == media_kind(no_attrs) == "IMAGE"
    assert media_kind({"data_row": {"id": "x"}}) == "UNKNOWN"


def test_image_objects_become_shapes_at_the_row_coordinates(
        project_rows: dict[str, list[Row]]) -> None:
    for row in labeled(project_rows["Street Scenes Annotation"]):
        out = shapes_of(row)
        assert (out["width"], out["height"]) == (row["media_attributes"]["width"],
                                                 row["media_attributes"]["height"])
        objects = {o["feature_id"]: o for o in objects_of(row)}
        drawn = {s["feature_id"]: s for s in out["shapes"] if s["kind"] != "relationship"}
        assert drawn.keys() == objects.keys()
        for fid, s in drawn.items():
            o = objects[fid]
            assert s["feature"] == o["name"] and s["schema_id"] == o["feature_schema_id"]
            if s["kind"] == "bounding_box":
                assert s["coordinates"] == o["bounding_box"]
            elif s["kind"] == "polygon":
                assert s["coordinates"] == [[p["x"], p["y"]] for p in o["polygon"]]
            elif s["kind"] == "polyline":
                assert s["coordinates"] == [[p["x"], p["y"]] for p in o["line"]]
            elif s["kind"] == "point":
                assert s["coordinates"] == [o["point"]["x"], o["point"]["y"]]
            else:
                assert s["kind"] == "mask"
                assert s["coordinates"]["url"] == o["mask"]["url"]


def test_image_relationships_point_from_source_centre_to_target(
        project_rows: dict[str, list[Row]]) -> None:
    out = shapes_of(labeled(project_rows["Street Scenes Annotation"])[0])
    (rel,) = by_kind(out, "relationship")
    (car,) = by_kind(out, "bounding_box")
    (ped,) = by_kind(out, "point")
    c = car["coordinates"]
    assert rel["coordinates"]["source"] == car["id"] and rel["coordinates"]["target"] == ped["id"]
    assert rel["coordinates"]["from"] == [c["left"] + c["width"] / 2, c["top"] + c["height"] / 2]
    assert rel["coordinates"]["to"] == ped["coordinates"]
    assert rel["name"].endswith("from car to pedestrian")


def test_classifications_are_listed_with_nested_answers_indented(
        project_rows: dict[str, list[Row]]) -> None:
    rows = labeled(project_rows["Street Scenes Annotation"])
    rainy = next(r for r in rows if any(
        c["feature"] == "weather" and c["answer"] == "rainy"
        for c in shapes_of(r)["classifications"]))
    lines = shapes_of(rainy)["classifications"]
    weather = next(k for k, c in enumerate(lines) if c["feature"] == "weather")
    assert lines[weather + 1]["feature"] == "intensity" and lines[weather + 1]["depth"] == 1
    assert lines[weather + 1]["answer"] in ("light", "heavy")
    first = labels_of(rainy)[0]["annotations"]["classifications"]
    checks = next(c for c in first if c["name"] == "conditions")
    listed = next(c for c in lines if c["feature"] == "conditions")
    assert listed["answer"] == ", ".join(a["name"] for a in checks["checklist_answers"])
    notes = next(c for c in lines if c["feature"] == "notes")
    assert notes["answer"] == next(c for c in first if c["name"] == "notes")["text_answer"][
        "content"]


def test_an_objects_own_classifications_are_its_attributes(
        project_rows: dict[str, list[Row]]) -> None:
    row = labeled(project_rows["Street Scenes Annotation"])[0]
    (car,) = by_kind(shapes_of(row), "bounding_box")
    colour = objects_of(row)[0]["classifications"][0]["radio_answer"]["name"]
    assert car["attributes"] == [f"color: {colour}"]


def test_video_boxes_sit_on_their_key_frames_with_segments(
        project_rows: dict[str, list[Row]]) -> None:
    row = labeled(project_rows["Traffic Video Tracking"])[0]
    out = shapes_of(row)
    ann = labels_of(row)[0]["annotations"]
    assert out["frames"] == sorted(int(f) for f in ann["frames"])
    boxes = by_kind(out, "bounding_box")
    assert boxes and all(b["keyframe"] for b in boxes)
    for b in boxes:
        assert b["coordinates"] == ann["frames"][str(b["frame"])]["objects"][b["feature_id"]][
            "bounding_box"]
        assert f"frame {b['frame']}" in b["name"]
    segments = by_kind(out, "segment")
    assert {(s["feature_id"], tuple(s["coordinates"])) for s in segments} == {
        (fid, tuple(span)) for fid, spans in ann["segments"].items() for span in spans}
    assert {s["feature"] for s in segments} == {"vehicle", "cyclist"}
    frame_lines = [c for c in out["classifications"] if c["scope"] == "frame"]
    assert {c["frame"] for c in frame_lines} <= set(out["frames"])


def test_interpolated_video_frames_are_drawn_and_marked(
        video_rows_interpolated: list[Row]) -> None:
    out = shapes_of(labeled(video_rows_interpolated)[0])
    first, last = out["frames"][0], out["frames"][-1]
    assert out["frames"] == list(range(first, last + 1))
    between = [b for b in by_kind(out, "bounding_box") if not b["keyframe"]]
    assert between and all("(interpolated)" in b["name"] for b in between)


def test_text_entities_point_at_their_token_in_the_fetched_text(
        project_rows: dict[str, list[Row]]) -> None:
    for row in labeled(project_rows["News NER"])[:4]:
        text = httpx.get(row["data_row"]["row_data"]).text
        spans = by_kind(shapes_of(row), "text_span")
        assert {s["feature"] for s in spans} == {"person", "organization", "location"}
        for s in spans:
            c = s["coordinates"]
            assert text[c["start"]:c["end"] + 1] == s["text"]
        assert by_kind(shapes_of(row), "relationship")[0]["coordinates"]["from"] is None


def test_conversation_entities_and_message_classifications(
        project_rows: dict[str, list[Row]]) -> None:
    row = labeled(project_rows["Support Chat Intents"])[0]
    conv = orjson.loads(httpx.get(row["data_row"]["row_data"]).content)
    messages = {m["messageId"]: m["content"] for m in conv["messages"]}
    out = shapes_of(row)
    (span,) = by_kind(out, "message_span")
    c = span["coordinates"]
    assert messages[c["message_id"]][c["start"]:c["end"] + 1].isdigit()
    scoped = {(x["feature"], x.get("message_id")) for x in out["classifications"]}
    assert ("intent", "message-0") in scoped and ("resolved", None) in scoped
    assert {x["scope"] for x in out["classifications"]} == {"message", "global"}


def test_document_entities_and_boxes_carry_their_page(
        project_rows: dict[str, list[Row]]) -> None:
    row = labeled(project_rows["Invoice Extraction"])[0]
    out = shapes_of(row)
    entities = by_kind(out, "document_tokens")
    assert {e["feature"] for e in entities} == {"invoice_number", "customer"}
    groups = {o["name"]: o["location"]["groups"][0] for o in objects_of(row)
              if "location" in o}
    for e in entities:
        assert e["page"] == 1
        assert e["coordinates"]["tokens"] == groups[e["feature"]]["tokens"]
        assert e["text"] == groups[e["feature"]]["text"]
    (box,) = by_kind(out, "document_box")
    assert box["page"] == 1 and box["page_size"] == [612.0, 792.0]


def test_audio_and_html_rows_list_classifications_and_draw_nothing(
        project_rows: dict[str, list[Row]]) -> None:
    for project in ("Call Audio Review", "Product Page Review"):
        out = shapes_of(labeled(project_rows[project])[0])
        assert out["shapes"] == [] and out["notes"] == []
        assert len([c for c in out["classifications"] if c["depth"] == 0]) == 3


def test_geospatial_shapes_are_in_lon_lat_inside_the_row_bounds(
        project_rows: dict[str, list[Row]]) -> None:
    row = labeled(project_rows["Land Use Mapping"])[0]
    out = shapes_of(row)
    assert {s["kind"] for s in out["shapes"]} == {"geo_point", "geo_line", "geo_polygon",
                                                  "geo_box"}
    assert out["bounds"] == row["media_attributes"]["bounds"]
    (west, south), (east, north) = out["bounds"]
    geo = {o["feature_id"]: o["geojson"]["coordinates"] for o in objects_of(row)}
    for s in out["shapes"]:
        assert s["coordinates"] == geo[s["feature_id"]]
        for lng, lat in lonlat_points(s["coordinates"]):
            assert west <= lng <= east and south <= lat <= north


def lonlat_points(coords: Any) -> list[list[float]]:
    if not isinstance(coords[0], list):
        return [coords]
    return [p for part in coords for p in lonlat_points(part)]


def test_layers_name_the_author_and_a_rejected_review(
        project_rows: dict[str, list[Row]]) -> None:
    rows = labeled(project_rows["Street Scenes Annotation"])
    statuses = {r["projects"][next(iter(r["projects"]))]["project_details"]["workflow_status"]
                for r in rows}
    assert "IN_REWORK" in statuses
    rework = next(r for r in rows if next(iter(r["projects"].values()))["project_details"][
        "workflow_status"] == "IN_REWORK")
    (layer,) = shapes_of(rework)["layers"]
    assert layer["kind"] == "label" and layer["author"] == "labeler@example.com"
    assert layer["review"] == "Reject" and layer["name"].endswith("(rejected in review)")
    assert layer["source"] == "Street Scenes Annotation"


def test_a_consensus_row_has_one_layer_per_label(project_rows: dict[str, list[Row]]) -> None:
    row = next(r for r in project_rows["Street Scenes Annotation"] if len(labels_of(r)) > 1)
    out = shapes_of(row)
    assert [la["label_id"] for la in out["layers"]] == [lab["id"] for lab in labels_of(row)]
    assert {s["layer"] for s in out["shapes"]} == {la["id"] for la in out["layers"]}
    assert len({s["id"] for s in out["shapes"]}) == len(out["shapes"])


def test_every_shape_has_an_accessible_name_of_kind_feature_and_author(
        project_rows: dict[str, list[Row]]) -> None:
    for project in MEDIA_OF_PROJECT:
        for row in labeled(project_rows[project])[:3]:
            for s in shapes_of(row)["shapes"]:
                assert s["name"].startswith(f"{KIND_WORDS[s['kind']]}: {s['feature']}, by ")


def test_legend_counts_features_and_gives_each_its_own_colour(
        project_rows: dict[str, list[Row]]) -> None:
    for project in MEDIA_OF_PROJECT:
        out = shapes_of(labeled(project_rows[project])[0])
        colours = [f["color"] for f in out["features"]]
        assert len(set(colours)) == len(colours), project
        for f in out["features"]:
            drawn = [s for s in out["shapes"] if s["feature"] == f["name"]
                     and s["kind"] != "segment"]
            listed = [c for c in out["classifications"] if c["feature"] == f["name"]
                      and c["depth"] == 0]
            assert f["count"] == len(drawn) + len(listed)


def test_a_feature_keeps_its_colour_from_row_to_row(project_rows: dict[str, list[Row]]) -> None:
    colours: dict[str, set[str]] = {}
    for row in labeled(project_rows["Street Scenes Annotation"]):
        for f in shapes_of(row)["features"]:
            colours.setdefault(f["name"], set()).add(f["color"])
    assert all(len(c) == 1 for c in colours.values())


def test_model_run_rows_have_ground_truth_and_prediction_layers(
        run_rows: dict[str, list[Row]]) -> None:
    for run_name, rows in run_rows.items():
        with_truth = [r for r in rows if any(
            run["labels"] for m in r["experiments"].values() for run in m["runs"].values())]
        assert with_truth, run_name
        out = shapes_of(with_truth[0])
        assert [la["kind"] for la in out["layers"]] == ["ground_truth", "prediction"]
        assert all(la["source"].endswith(f"/ {run_name}") for la in out["layers"])


def _expected_iou(pred: Shape, truths: list[Shape]) -> float | None:
    scores = [iou_of(pred["kind"], pred["coordinates"], t["kind"], t["coordinates"])
              for t in truths if t["feature"] == pred["feature"]]
    known = [s for s in scores if s is not None]
    return max(known) if known else None


def test_each_prediction_carries_the_iou_of_its_best_ground_truth(
        run_rows: dict[str, list[Row]]) -> None:
    checked = 0
    for rows in run_rows.values():
        for row in rows:
            out = shapes_of(row)
            kinds = {la["id"]: la["kind"] for la in out["layers"]}
            truths = [s for s in out["shapes"] if kinds[s["layer"]] == "ground_truth"]
            for pred in (s for s in out["shapes"] if kinds[s["layer"]] == "prediction"):
                if pred["kind"] in ("relationship", "segment"):  # no area to overlap
                    assert "iou" not in pred
                    continue
                expected = _expected_iou(pred, truths)
                assert pred["iou"] == (None if expected is None else round(expected, 4))
                if pred["kind"] == "bounding_box" and pred["match"] is not None:
                    gt = next(t for t in truths if t["id"] == pred["match"])
                    assert (gt["kind"], gt["feature"], gt.get("frame")) == \
                        ("bounding_box", pred["feature"], pred.get("frame"))
                    assert pred["iou"] == round(box_iou(pred["coordinates"],
                                                        gt["coordinates"]), 4)
                    assert pred["match"] == gt["id"]
                    assert pred["name"].endswith(f", IoU {pred['iou']:.2f}")
                    checked += 1
                if pred["kind"] in ("point", "polyline", "mask"):
                    assert pred["iou"] is None
    assert checked >= 10


def test_predictions_without_ground_truth_have_no_iou(run_rows: dict[str, list[Row]]) -> None:
    rows = run_rows["baseline-v1"]
    bare = next(r for r in rows if not any(
        run["labels"] for m in r["experiments"].values() for run in m["runs"].values()))
    out = shapes_of(bare)
    assert [la["kind"] for la in out["layers"]] == ["prediction"]
    assert all(s.get("iou") is None and s.get("match") is None for s in out["shapes"]
               if s["kind"] != "relationship")


def test_an_object_with_unknown_geometry_is_noted_not_drawn(
        project_rows: dict[str, list[Row]]) -> None:
    row = labeled(project_rows["Street Scenes Annotation"])[0]
    label = labels_of(row)[0]
    odd = {"feature_id": "f-odd", "name": "cuboid", "annotation_kind": "ImageCuboid",
           "classifications": []}
    strange = {**row, "projects": {"p": {"name": "P", "labels": [
        {**label, "annotations": {**label["annotations"], "objects": [odd]}}]}}}
    out = shapes_of(strange)
    assert all(s["feature"] != "cuboid" for s in out["shapes"])
    assert out["notes"] == ["cuboid: ImageCuboid is not drawn (no geometry this preview knows)"]


@pytest.mark.parametrize("project", list(MEDIA_OF_PROJECT))
def test_unlabeled_rows_keep_their_media_and_draw_nothing(
        project_rows: dict[str, list[Row]], project: str) -> None:
    row = next(r for r in project_rows[project] if not labels_of(r))
    out = shapes_of(row)
    assert out["row_data"] == row["data_row"]["row_data"]
    assert out["data_row_id"] == row["data_row"]["id"]
    assert out["shapes"] == [] and out["layers"] == [] and out["classifications"] == []


def _box_ious(rows: list[Row]) -> list[float]:
    out = []
    for row in rows:
        shapes = shapes_of(row)["shapes"]
        out += [s["iou"] for s in shapes
                if s["kind"] == "bounding_box" and s.get("iou") is not None]
    return out


def test_the_fine_tuned_run_overlaps_its_ground_truth_better_than_the_baseline(
        run_rows: dict[str, list[Row]]) -> None:
    baseline, finetune = _box_ious(run_rows["baseline-v1"]), _box_ious(run_rows["finetune-v2"])
    assert len(baseline) == len(finetune) >= 10
    assert sorted(finetune)[len(finetune) // 2] > 0.85
    assert sum(finetune) / len(finetune) > sum(baseline) / len(baseline)


def test_a_label_whose_box_misses_its_car_scores_its_good_predictions_low(
        run_rows: dict[str, list[Row]]) -> None:
    row = next(r for r in run_rows["finetune-v2"] if r["data_row"]["global_key"] ==
               "street-0003.png")
    (car,) = [s for s in shapes_of(row)["shapes"]
              if s["kind"] == "bounding_box" and "prediction" in s["layer"]]
    assert car["iou"] is not None and car["iou"] < 0.1
