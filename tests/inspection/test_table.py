"""The label, annotation and classification tables, checked against a plain reading of the
rows the real server exported."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pyarrow as pa
import pytest

from export_widget.inspect import GRAINS, labels_frame, labels_table
from export_widget.inspect.lines import chunks, snapshot
from export_widget.inspect.table import WITH_VIEWS, Grain, borrow, grain_query
from export_widget.spool import Spool

from . import export_oracle as oracle
from .export_oracle import Export

LABEL_COLUMNS = ["line", "data_row_id", "global_key", "media_type", "source", "project_id",
                 "project_name", "model_run_id", "model_run_name", "split", "workflow_status",
                 "label_id", "label_kind", "created_by", "created_at", "updated_at",
                 "review_verdicts", "reviewed_by"]


def test_label_grain_has_one_row_per_label_of_a_project_export(image_export: Export) -> None:
    frame = labels_frame(image_export.spool, "label")
    expected = list(oracle.labels(image_export.rows))
    assert list(frame.columns[:len(LABEL_COLUMNS)]) == LABEL_COLUMNS
    assert list(frame["label_id"]) == [label["id"] for *_, label in expected]
    assert list(frame["line"]) == [line for line, *_ in expected]
    row = image_export.rows[int(frame["line"][0])]
    project = next(iter(row["projects"].values()))
    first = frame.iloc[0]
    assert first["global_key"] == row["data_row"]["global_key"]
    assert first["media_type"] == "IMAGE" and first["source"] == "project"
    assert first["project_name"] == "Street Scenes Annotation"
    assert first["workflow_status"] == project["project_details"]["workflow_status"]
    details = project["labels"][0]["label_details"]
    assert first["created_by"] == details["created_by"]
    assert first["created_at"] == pd.Timestamp(details["created_at"])


def test_review_verdicts_and_reviewers_come_from_label_details(image_export: Export) -> None:
    frame = labels_frame(image_export.spool, "label").set_index("label_id")
    seen = Counter()
    for *_, label in oracle.labels(image_export.rows):
        reviews = label["label_details"]["reviews"]
        verdicts = ", ".join(r["review_action"] for r in reviews) or None
        assert frame.loc[label["id"], "review_verdicts"] == verdicts or (
            verdicts is None and pd.isna(frame.loc[label["id"], "review_verdicts"]))
        seen.update(r["review_action"] for r in reviews)
    assert seen["Reject"] and seen["Approve"]
    rejected = frame[frame["review_verdicts"] == "Reject"]
    assert set(rejected["reviewed_by"]) == {"reviewer@example.com"}
    assert set(rejected["workflow_status"]) == {"IN_REWORK"}


def test_annotation_grain_summarizes_each_geometry(image_export: Export) -> None:
    frame = labels_frame(image_export.spool, "annotation")
    expected = [o for *_, label in oracle.labels(image_export.rows)
                for _f, o in oracle.objects(label["annotations"])]
    assert list(frame["feature_id"]) == [o["feature_id"] for o in expected]
    by_id = frame.set_index("feature_id")
    for o in expected:
        got = by_id.loc[o["feature_id"]]
        assert got["annotation_kind"] == o["annotation_kind"]
        assert got["feature_name"] == o["name"]
        assert got["feature_schema_id"] == o["feature_schema_id"]
        if "bounding_box" in o:
            box = o["bounding_box"]
            assert (got["x"], got["y"], got["width"], got["height"]) == (
                box["left"], box["top"], box["width"], box["height"])
            assert got["area"] == box["width"] * box["height"]
        if "polygon" in o:
            assert got["point_count"] == len(o["polygon"])
        if "point" in o:
            assert (got["x"], got["y"]) == (o["point"]["x"], o["point"]["y"])
        if "mask" in o:
            assert got["mask_url"] == o["mask"]["url"]


def test_video_annotations_are_per_frame(video_export: Export) -> None:
    frame = labels_frame(video_export.spool, "annotation")
    expected = [(f, o["feature_id"]) for *_, label in oracle.labels(video_export.rows)
                for f, o in oracle.objects(label["annotations"])]
    assert len(frame) == len(expected) > 0
    assert Counter(zip(frame["frame"].astype(int), frame["feature_id"], strict=True)) == \
        Counter(expected)
    assert set(frame["annotation_kind"]) == {"VideoBoundingBox"}
    # Interpolated frames are there: more than the three key frames per object.
    assert frame.groupby("feature_id")["frame"].nunique().min() > 3


def test_classification_grain_has_every_answer_with_its_parent(catalog_export: Export) -> None:
    frame = labels_frame(catalog_export.spool, "classification")
    expected = [a for *_, label in oracle.labels(catalog_export.rows)
                for a in oracle.answers(label["annotations"])]
    parents = [None if pd.isna(p) else p for p in frame["parent_feature_id"]]
    got = list(zip(frame["feature_name"], frame["answer"], parents, strict=True))
    assert Counter(got) == Counter(expected)
    nested = frame[frame["feature_name"] == "intensity"]
    assert len(nested) and (nested["depth"] == 1).all()
    assert set(frame["answer_kind"]) == {"radio", "checklist", "text"}
    assert set(frame.loc[frame["feature_name"] == "intent", "message_id"]) == {"message-0"}


def test_catalog_export_with_all_projects_lists_each_project(catalog_export: Export) -> None:
    frame = labels_frame(catalog_export.spool, "label")
    expected = list(oracle.labels(catalog_export.rows))
    assert len(frame) == len(expected)
    assert Counter(zip(frame["line"], frame["project_id"], strict=True)) == \
        Counter((line, pid) for line, _s, pid, *_ in expected)
    assert frame["project_name"].nunique() == 9  # eight media projects and the QA project
    assert set(frame["media_type"]) == {"IMAGE", "VIDEO", "TEXT", "TMS_GEO", "PDF", "AUDIO",
                                        "CONVERSATIONAL", "HTML"}
    spans = labels_frame(catalog_export.spool, "annotation")
    text = spans[spans["annotation_kind"] == "TextEntity"].iloc[0]
    row = catalog_export.rows[int(text["line"])]
    document_entity = next(o for p in row["projects"].values() for lab in p["labels"]
                           for o in lab["annotations"]["objects"]
                           if o["feature_id"] == text["feature_id"])
    assert (text["span_start"], text["span_end"], text["span_text"]) == (
        document_entity["location"]["start"], document_entity["location"]["end"],
        document_entity["location"]["token"])
    assert spans.loc[spans["annotation_kind"] == "DocumentEntityToken", "page"].eq(1).all()
    assert spans.loc[spans["annotation_kind"] == "GeoPolygon", "point_count"].eq(5).all()


def test_model_run_ground_truth_and_predictions_are_separate_sources(
        run_export: Export) -> None:
    frame = labels_frame(run_export.spool, "label")
    expected = Counter(source for _l, source, *_ in oracle.labels(run_export.rows))
    assert Counter(frame["source"]) == expected
    assert expected["ground_truth"] and expected["prediction"]
    assert set(frame["model_run_name"]) == {"baseline-v1"}
    assert frame["project_id"].isna().all() and frame["workflow_status"].isna().all()
    assert set(frame["split"]) <= {"Training", "Validation", "Test"}
    anns = labels_frame(run_export.spool, "annotation")
    expected_objects = Counter(source for _l, source, _r, _e, label in
                               oracle.labels(run_export.rows)
                               for _o in oracle.objects(label["annotations"]))
    assert Counter(anns["source"]) == expected_objects


@pytest.mark.parametrize("grain", GRAINS)
def test_a_growing_spool_is_read_up_to_its_committed_lines(image_export: Export,
                                                          grain: str) -> None:
    half = len(image_export.rows) // 2
    with Spool() as spool:
        spool.append(image_export.spool.page_bytes(0, half))
        partial = labels_frame(spool, grain)  # type: ignore[arg-type]
        spool.append(image_export.spool.page_bytes(half, len(image_export.rows)))
        whole = labels_frame(spool, grain)  # type: ignore[arg-type]
    assert len(partial) and partial["line"].max() < half
    assert len(whole) > len(partial)
    pd.testing.assert_frame_equal(whole[whole["line"] < half].reset_index(drop=True), partial)


def test_an_empty_spool_gives_an_empty_table_with_the_columns() -> None:
    with Spool() as spool:
        frame = labels_frame(spool, "annotation")
    assert len(frame) == 0 and "feature_name" in frame.columns


def test_labels_frame_reads_a_plain_ndjson_file_too(image_export: Export, tmp_path) -> None:
    path = tmp_path / "rows.ndjson"
    path.write_bytes(image_export.sent)
    pd.testing.assert_frame_equal(labels_frame(path, "annotation"),
                                  labels_frame(image_export.spool, "annotation"))


def test_tables_are_built_chunk_by_chunk(image_export: Export,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    import export_widget.inspect.lines as lines
    import export_widget.inspect.table as table

    whole = labels_table(image_export.spool, "classification")
    monkeypatch.setattr(table, "chunks", functools.partial(lines.chunks, max_lines=5))
    parts = list(table.iter_tables(image_export.spool, "classification"))
    assert len(parts) == -(-image_export.spool.count // 5)  # one table per 5-line chunk
    assert pa.concat_tables(parts).equals(whole)


def test_an_unknown_grain_is_refused_by_name(image_export: Export) -> None:
    with pytest.raises(ValueError, match="grain: must be one of label, annotation, "
                                         "classification, got 'row'"):
        labels_frame(image_export.spool, "row")  # type: ignore[arg-type]


@pytest.mark.parametrize("fixture", ["catalog_export", "video_export"])
def test_labels_count_their_objects_and_classifications(fixture: str,
                                                        request: pytest.FixtureRequest) -> None:
    export: Export = request.getfixturevalue(fixture)
    frame = labels_frame(export.spool, "label")
    expected = list(oracle.labels(export.rows))
    assert list(frame["object_count"]) == [len(oracle.objects(label["annotations"]))
                                           for *_, label in expected]
    assert list(frame["classification_count"]) == [
        len(label["annotations"].get("classifications", [])) for *_, label in expected]
    assert frame["classification_count"].sum() > 0


@pytest.mark.parametrize("grain", ["label", "annotation"])
def test_a_query_without_classifications_reads_the_same_records(catalog_export: Export,
                                                                 grain: Grain) -> None:
    # Such queries type classifications as one-field structs rather than JSON (to count
    # them); what they return must not change.
    chunk = next(chunks(snapshot(catalog_export.spool)))
    with borrow() as tables:
        tables.load(chunk)
        lean = tables.grain(grain)
        full = tables.con.sql(WITH_VIEWS + grain_query(grain)).to_arrow_table()
    assert lean.num_rows and lean.equals(full)
