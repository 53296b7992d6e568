"""Export selection and params against a real SQLite store seeded with the demo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine

from export_widget.server.export_query import prepare_export
from export_widget.server.export_spec import ExportSpec
from export_widget.server.workspace import Workspace

BASE = "http://127.0.0.1:9"
ALL_PROJECT_PARAMS = {
    "includeAttachments": True, "includeEmbeddings": True, "includeMetadata": True,
    "includeDataRowDetails": True, "includeProjectDetails": True, "includeLabelDetails": True,
    "includePerformanceDetails": True, "includeInterpolatedFrames": True,
}


@pytest.fixture(scope="module")
def ws(engine: Engine) -> Workspace:
    return Workspace(engine)


def project_id(ws: Workspace, name: str) -> str:
    return next(p["id"] for p in ws.projects() if p["name"] == name)


def dataset_id(ws: Workspace, name: str) -> str:
    return next(d["id"] for d in ws.datasets() if d["name"] == name)


def run(engine: Engine, kind: str, target: str | None, query: list[Any] | None = None,
        params: dict[str, Any] | None = None, tz: str | None = "UTC",
        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    spec = ExportSpec(kind, target, query or [], params or {}, tz, BASE)
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for batch in prepare_export(engine, spec).batches(batch_size=7):
        rows += map(orjson.loads, batch.result_lines())
        errors += map(orjson.loads, batch.error_lines())
    assert prepare_export(engine, spec).lines == len(rows) + len(errors)
    return rows, errors


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["data_row"]["id"] for r in rows]


def row_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def date_item(kind: str, lo: str | None, hi: str | None, tz: str | None = None) -> dict[str, Any]:
    if lo is not None and hi is not None:
        value: dict[str, Any] = {"operator": "BETWEEN", "value": {"min": lo, "max": hi}}
    elif lo is not None:
        value = {"operator": "GREATER_THAN_OR_EQUAL", "value": lo}
    else:
        value = {"operator": "LESS_THAN_OR_EQUAL", "value": hi}
    if tz is not None:
        value["timezone"] = tz
    return {"type": kind, "value": value}


def wall_ms(text: str, tz: str) -> int:
    fmt = "%Y-%m-%d %H:%M:%S" if " " in text else "%Y-%m-%d"
    return int(datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(tz)).timestamp() * 1000)


@pytest.fixture(scope="module")
def street(engine: Engine, ws: Workspace) -> tuple[str, list[dict[str, Any]]]:
    """The image project and all its rows with details (the reference for filters)."""
    pid = project_id(ws, "Street Scenes Annotation")
    rows, errors = run(engine, "project", pid, params=ALL_PROJECT_PARAMS)
    assert not errors and len(rows) == 24
    return pid, rows


# --- scope ----------------------------------------------------------------------------------


def test_project_export_selects_only_rows_of_that_project(engine: Engine, ws: Workspace) -> None:
    for project in ws.projects():
        rows, errors = run(engine, "project", project["id"])
        assert not errors
        assert len(rows) == project["dataRowCount"] > 0
        for row in rows:
            assert list(row["projects"]) == [project["id"]]
            assert row["projects"][project["id"]]["name"] == project["name"]


def test_rows_come_in_a_stable_order_whatever_the_batch_size(engine: Engine, ws: Workspace) -> None:
    pid = project_id(ws, "News NER")
    spec = ExportSpec("project", pid, [], {}, "UTC", BASE)
    prepared = prepare_export(engine, spec)
    small = [line for b in prepared.batches(batch_size=3) for line in b.result_lines()]
    large = [line for b in prepared.batches(batch_size=500) for line in b.result_lines()]
    assert small == large


def test_catalog_export_without_filters_covers_every_data_row(engine: Engine,
                                                              ws: Workspace) -> None:
    rows, _ = run(engine, "catalog", None)
    assert len(rows) == sum(d["rowCount"] for d in ws.datasets())
    assert all("projects" not in r and "experiments" not in r for r in rows)


def test_dataset_query_item_narrows_a_catalog_export(engine: Engine, ws: Workspace) -> None:
    ds = dataset_id(ws, "Support Chats")
    rows, errors = run(engine, "catalog", None, [{"ids": [ds], "operator": "is",
                                                   "type": "dataset"}],
                       {"includeDataRowDetails": True})
    assert not errors and len(rows) == 12
    assert {r["data_row"]["details"]["dataset_id"] for r in rows} == {ds}


def test_slice_export_evaluates_the_saved_filter(engine: Engine, ws: Workspace) -> None:
    busy = next(s for s in ws.slices() if s["name"] == "Busy streets")
    rows, _ = run(engine, "slice", busy["id"], params={"includeMetadata": True})
    assert rows
    for row in rows:
        tags = [m["value"] for m in row["metadata_fields"] if m["schema_name"] == "tag"]
        assert tags == ["busy"]
    chats = next(s for s in ws.slices() if s["name"] == "All support chats")
    rows, _ = run(engine, "slice", chats["id"])
    assert len(rows) == 12
    assert {r["media_attributes"]["asset_type"] for r in rows} == {"conversational"}


def test_unknown_targets_raise_naming_the_scope(engine: Engine) -> None:
    with pytest.raises(ValueError, match=r"filters\.projectId: no project with id 'nope'"):
        prepare_export(engine, ExportSpec("project", "nope", [], {}, "UTC", BASE))
    with pytest.raises(ValueError, match=r"filters\.sliceId: no catalog slice"):
        prepare_export(engine, ExportSpec("slice", "nope", [], {}, "UTC", BASE))
    with pytest.raises(ValueError, match=r"filters\.modelRunId: no model run"):
        prepare_export(engine, ExportSpec("model_run", "nope", [], {}, "UTC", BASE))
    with pytest.raises(ValueError, match="kind: expected one of"):
        prepare_export(engine, ExportSpec("dataset", "x", [], {}, "UTC", BASE))


# --- date filters ---------------------------------------------------------------------------


def _activity(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {r["data_row"]["id"]: row_ms(r["data_row"]["details"]["last_activity_at"])
            for r in rows}


def test_last_activity_between_selects_a_meaningful_subset(engine: Engine, street: Any) -> None:
    pid, all_rows = street
    lo, hi = "2024-02-01", "2024-05-01"
    rows, _ = run(engine, "project", pid, [date_item("data_row_last_activity_at", lo, hi)])
    expected = {i for i, t in _activity(all_rows).items()
                if wall_ms(lo, "UTC") <= t <= wall_ms(hi, "UTC")}
    assert set(ids(rows)) == expected
    assert 0 < len(expected) < len(all_rows)


def test_open_ended_date_ranges(engine: Engine, street: Any) -> None:
    pid, all_rows = street
    act = _activity(all_rows)
    start = "2024-03-15 12:00:00"
    after, _ = run(engine, "project", pid, [date_item("data_row_last_activity_at", start, None)])
    before, _ = run(engine, "project", pid, [date_item("data_row_last_activity_at", None, start)])
    cut = wall_ms(start, "UTC")
    assert set(ids(after)) == {i for i, t in act.items() if t >= cut}
    assert set(ids(before)) == {i for i, t in act.items() if t <= cut}
    assert after and before
    assert set(ids(after)) | set(ids(before)) == set(act)


def test_three_date_formats_mean_the_same_instant(engine: Engine, street: Any) -> None:
    pid = street[0]
    forms = ["2024-03-01", "2024-03-01 00:00:00", "2024-03-01T00:00:00+0000",
             "2024-03-01T00:00:00Z", "2024-03-01T05:30:00+05:30"]
    results = [set(ids(run(engine, "project", pid,
                           [date_item("data_row_last_activity_at", f, None)])[0]))
               for f in forms]
    assert all(r == results[0] for r in results)
    assert results[0]


def test_iso_offset_is_honoured_not_dropped(engine: Engine, street: Any) -> None:
    pid, all_rows = street
    act = _activity(all_rows)
    # 2024-03-20T00:00:00+0530 is 2024-03-19 18:30 UTC.
    rows, _ = run(engine, "project", pid,
                  [date_item("data_row_last_activity_at", "2024-03-20T00:00:00+0530", None)])
    cut = int(datetime(2024, 3, 19, 18, 30, tzinfo=UTC).timestamp() * 1000)
    assert set(ids(rows)) == {i for i, t in act.items() if t >= cut}


def test_naive_dates_are_read_in_the_export_timezone(engine: Engine, street: Any) -> None:
    pid, all_rows = street
    act = _activity(all_rows)
    # Pick a boundary between two activity times that are 14+ hours apart or less, so that
    # Tokyo vs Los Angeles midnight selects different sets.
    chosen = None
    for day in range(1, 29):
        text = f"2024-04-{day:02d}"
        tokyo = {i for i, t in act.items() if t >= wall_ms(text, "Asia/Tokyo")}
        la = {i for i, t in act.items() if t >= wall_ms(text, "America/Los_Angeles")}
        if tokyo != la:
            chosen = (text, tokyo, la)
            break
    assert chosen is not None, "demo data should have activity near some April midnight"
    text, tokyo, la = chosen
    item = date_item("data_row_last_activity_at", text, None)
    assert set(ids(run(engine, "project", pid, [item], tz="Asia/Tokyo")[0])) == tokyo
    assert set(ids(run(engine, "project", pid, [item], tz="America/Los_Angeles")[0])) == la
    # The item's own timezone wins over the export's.
    own = date_item("data_row_last_activity_at", text, None, tz="Asia/Tokyo")
    assert set(ids(run(engine, "project", pid, [own], tz="America/Los_Angeles")[0])) == tokyo


def test_labeled_at_selects_rows_by_label_creation_in_the_project(engine: Engine,
                                                                   street: Any) -> None:
    pid, all_rows = street
    lo, hi = "2024-01-15", "2024-04-15"
    rows, _ = run(engine, "project", pid, [date_item("labeled_at", lo, hi)])
    expected = set()
    for r in all_rows:
        for label in r["projects"][pid]["labels"]:
            t = row_ms(label["label_details"]["created_at"])
            if wall_ms(lo, "UTC") <= t <= wall_ms(hi, "UTC"):
                expected.add(r["data_row"]["id"])
    assert set(ids(rows)) == expected
    assert 0 < len(expected) < len(all_rows)


def test_bad_date_raises_naming_the_item(engine: Engine, street: Any) -> None:
    with pytest.raises(ValueError, match=r"query\[0\] \(labeled_at\): Incorrect format for: "
                                         r"2024-13-01"):
        run(engine, "project", street[0], [date_item("labeled_at", "2024-13-01", None)])


# --- id, batch and workflow filters -----------------------------------------------------


def test_data_row_id_and_global_key_filters(engine: Engine, street: Any) -> None:
    pid, all_rows = street
    picked = all_rows[3]["data_row"]
    rows, errors = run(engine, "project", pid, [{"ids": [picked["id"]], "operator": "is",
                                                 "type": "data_row_id"}])
    assert ids(rows) == [picked["id"]] and not errors
    rows, errors = run(engine, "project", pid, [{"ids": [picked["global_key"]],
                                                 "operator": "is", "type": "global_key"}])
    assert ids(rows) == [picked["id"]] and not errors


def test_ids_that_match_nothing_become_error_lines(engine: Engine, ws: Workspace,
                                                   street: Any) -> None:
    pid, all_rows = street
    news_row = run(engine, "project", project_id(ws, "News NER"))[0][0]["data_row"]
    query = [{"ids": [all_rows[0]["data_row"]["id"], "cmissing000000000000000000",
                      news_row["id"]], "operator": "is", "type": "data_row_id"}]
    rows, errors = run(engine, "project", pid, query)
    assert ids(rows) == [all_rows[0]["data_row"]["id"]]
    assert errors == [
        {"data_row_id": "cmissing000000000000000000",
         "error": f"Data row not found in project {pid}"},
        {"data_row_id": news_row["id"], "error": f"Data row not found in project {pid}"},
    ]
    rows, errors = run(engine, "project", pid, [{"ids": ["no-such-key.png"], "operator": "is",
                                                 "type": "global_key"}])
    assert rows == []
    assert errors == [{"global_key": "no-such-key.png",
                       "error": f"Global key not found in project {pid}"}]
    rows, errors = run(engine, "catalog", None, [{"ids": ["nobatch"], "operator": "is",
                                                  "type": "batch"}])
    assert rows == [] and errors == [{"batch_id": "nobatch", "error": "Batch not found"}]


def test_batch_filter_selects_the_batch_rows(engine: Engine, ws: Workspace,
                                             street: Any) -> None:
    pid, all_rows = street
    batches = ws.batches(pid)["nodes"]
    assert len(batches) >= 2
    for batch in batches:
        rows, errors = run(engine, "project", pid, [{"ids": [batch["id"]], "operator": "is",
                                                     "type": "batch"}])
        expected = [r["data_row"]["id"] for r in all_rows
                    if r["projects"][pid]["project_details"]["batch_id"] == batch["id"]]
        assert ids(rows) == expected and len(expected) == batch["size"] and not errors
    other = ws.batches(project_id(ws, "News NER"))["nodes"][0]["id"]
    rows, errors = run(engine, "project", pid, [{"ids": [other], "operator": "is",
                                                 "type": "batch"}])
    assert rows == [] and errors == [{"batch_id": other,
                                      "error": f"Batch not found in project {pid}"}]


@pytest.mark.parametrize("item,status", [
    ({"type": "task_queue_not_exist"}, "TO_LABEL"),
    ({"type": "task_queue_status", "status": "InReview"}, "IN_REVIEW"),
    ({"type": "task_queue_status", "status": "InRework"}, "IN_REWORK"),
    ({"type": "task_queue_status", "status": "Done"}, "DONE"),
])
def test_workflow_status_filters(engine: Engine, street: Any, item: dict[str, Any],
                                 status: str) -> None:
    pid, all_rows = street
    rows, _ = run(engine, "project", pid, [item], {"includeProjectDetails": True})
    expected = [r["data_row"]["id"] for r in all_rows
                if r["projects"][pid]["project_details"]["workflow_status"] == status]
    assert ids(rows) == expected and expected
    if status == "TO_LABEL":
        assert all(r["projects"][pid]["labels"] == [] for r in rows)


def test_two_filters_are_anded(engine: Engine, ws: Workspace, street: Any) -> None:
    pid, all_rows = street
    batch = ws.batches(pid)["nodes"][1]["id"]
    rows, _ = run(engine, "project", pid, [
        {"ids": [batch], "operator": "is", "type": "batch"},
        {"type": "task_queue_status", "status": "Done"}])
    expected = [r["data_row"]["id"] for r in all_rows
                if r["projects"][pid]["project_details"]["batch_id"] == batch
                and r["projects"][pid]["project_details"]["workflow_status"] == "DONE"]
    assert ids(rows) == expected and expected


def test_unknown_query_item_raises_naming_it(engine: Engine, street: Any) -> None:
    with pytest.raises(ValueError, match=r"searchQuery.query\[1\] \(label_color\): unknown "
                                         r"filter item type 'label_color'"):
        run(engine, "project", street[0], [{"type": "task_queue_not_exist"},
                                           {"type": "label_color"}])
    with pytest.raises(ValueError, match=r"task_queue_status.*status: expected one of"):
        run(engine, "project", street[0], [{"type": "task_queue_status", "status": "Nope"}])


# --- params -----------------------------------------------------------------------------


def _keys(row: dict[str, Any], pid: str) -> set[str]:
    keys = {f"row.{k}" for k in row} | {f"data_row.{k}" for k in row["data_row"]}
    entry = row["projects"][pid]
    keys |= {f"project.{k}" for k in entry}
    for label in entry["labels"]:
        keys |= {f"label.{k}" for k in label}
    return keys


@pytest.mark.parametrize("param,added", [
    ("includeAttachments", {"row.attachments"}),
    ("includeEmbeddings", {"row.embeddings"}),
    ("includeMetadata", {"row.metadata_fields"}),
    ("includeDataRowDetails", {"data_row.details"}),
    ("includeProjectDetails", {"project.project_details"}),
    ("includeLabelDetails", {"label.label_details"}),
    ("includePerformanceDetails", {"label.performance_details"}),
])
def test_each_param_adds_exactly_its_keys(engine: Engine, street: Any, param: str,
                                          added: set[str]) -> None:
    pid = street[0]
    base, _ = run(engine, "project", pid)
    more, _ = run(engine, "project", pid, params={param: True})
    base_keys = set().union(*(_keys(r, pid) for r in base))
    more_keys = set().union(*(_keys(r, pid) for r in more))
    assert more_keys - base_keys == added
    assert base_keys <= more_keys
    assert base_keys >= {"row.data_row", "row.media_attributes", "row.projects",
                         "data_row.id", "data_row.row_data", "data_row.global_key",
                         "project.name", "project.labels", "label.annotations"}


def test_row_contents_with_every_param(engine: Engine, street: Any) -> None:
    pid, rows = street
    done = next(r for r in rows
                if r["projects"][pid]["project_details"]["workflow_status"] == "DONE")
    dr = done["data_row"]
    assert dr["row_data"].startswith(f"{BASE}/media/images/")
    assert dr["details"]["dataset_name"] == "Street Scenes"
    assert dr["details"]["created_by"] == "owner@example.com"
    assert done["media_attributes"] == {"height": 480, "width": 640, "mime_type": "image/png",
                                        "asset_type": "image"}
    kinds = {a["type"] for a in done["attachments"]}
    assert kinds == {"IMAGE_OVERLAY", "TEXT"}
    overlay = next(a for a in done["attachments"] if a["type"] == "IMAGE_OVERLAY")
    assert overlay["value"].startswith(f"{BASE}/media/overlays/")
    meta = {m["schema_name"]: m["value"] for m in done["metadata_fields"]}
    assert set(meta) == {"tag", "captureDateTime", "weather"}
    assert meta["weather"]["schema_name"] in {"sunny", "cloudy", "rainy"}
    emb = {e["name"]: e for e in done["embeddings"]}
    clip = emb["Image Embedding V2 (CLIP ViT-B/32)"]
    assert clip["id"] == "c200000000000000000000000" and clip["dimensions"] == 512
    assert len(clip["values"][0]["value"]) == 512 and clip["is_custom"] is False
    entry = done["projects"][pid]
    details = entry["project_details"]
    assert details["workflow_status"] == "DONE" and details["task_name"] == "Done"
    assert [h["action"] for h in details["workflow_history"]] == ["Submit", "Approve"]
    assert details["selected_label_id"] == entry["labels"][0]["id"]
    label = entry["labels"][0]
    assert label["label_details"]["reviews"][0]["review_action"] == "Approve"
    assert label["label_details"]["created_by"] == "labeler@example.com"
    perf = label["performance_details"]
    assert perf["performance_details_v2"]["seconds_total"] == (
        perf["performance_details_v2"]["seconds_to_create"]
        + perf["performance_details_v2"]["seconds_to_review"]
        + perf["performance_details_v2"]["seconds_to_rework"])


def test_embeddings_are_stable_between_exports(engine: Engine, street: Any) -> None:
    pid, rows = street
    again, _ = run(engine, "project", pid, params={"includeEmbeddings": True})
    assert [r["embeddings"] for r in again] == [r["embeddings"] for r in rows]
    vectors = {tuple(r["embeddings"][0]["values"][0]["value"]) for r in rows}
    assert len(vectors) > 1


def test_catalog_projects_only_with_project_ids_or_all_projects(engine: Engine,
                                                                ws: Workspace) -> None:
    ds = dataset_id(ws, "Street Scenes")
    query = [{"ids": [ds], "operator": "is", "type": "dataset"}]
    main = project_id(ws, "Street Scenes Annotation")
    qa = project_id(ws, "Street Scenes QA")
    plain, _ = run(engine, "catalog", None, query)
    assert all("projects" not in r for r in plain)
    one, _ = run(engine, "catalog", None, query, {"projectIds": [qa]})
    assert sum(1 for r in one if r["projects"]) == 12
    assert all(set(r["projects"]) <= {qa} for r in one)
    every, _ = run(engine, "catalog", None, query, {"allProjects": True})
    assert all(set(r["projects"]) in ({main}, {main, qa}) for r in every)
    assert sum(1 for r in every if len(r["projects"]) == 2) == 12


def test_catalog_experiments_with_all_model_runs(engine: Engine, ws: Workspace) -> None:
    ds = dataset_id(ws, "Street Scenes")
    query = [{"ids": [ds], "operator": "is", "type": "dataset"}]
    rows, _ = run(engine, "catalog", None, query, {"allModelRuns": True})
    detector = next(m for m in ws.models() if m["name"] == "Street Detector")
    runs = {r["id"] for r in ws.model_runs(detector["id"])}
    for row in rows:
        assert set(row["experiments"]) == {detector["id"]}
        exp = row["experiments"][detector["id"]]
        assert exp["name"] == "Street Detector" and set(exp["runs"]) == runs
        assert all("predictions" not in r for r in exp["runs"].values())
    with_preds, _ = run(engine, "catalog", None, query,
                        {"modelRunIds": [sorted(runs)[0]], "includePredictions": True})
    for row in with_preds:
        (run_entry,) = row["experiments"][detector["id"]]["runs"].values()
        assert len(run_entry["predictions"]) == 1


def test_model_run_export_has_experiments_and_no_projects(engine: Engine,
                                                          ws: Workspace) -> None:
    detector = next(m for m in ws.models() if m["name"] == "Street Detector")
    run_info = ws.model_runs(detector["id"])[0]
    rows, errors = run(engine, "model_run", run_info["id"])
    assert len(rows) == 24 and not errors
    for row in rows:
        assert "projects" not in row
        entry = row["experiments"][detector["id"]]["runs"][run_info["id"]]
        assert entry["name"] == run_info["name"] and entry["run_data_row_id"]
        assert set(entry) == {"name", "annotation_group_id", "run_data_row_id", "labels"}
    labeled = [r for r in rows
               if r["experiments"][detector["id"]]["runs"][run_info["id"]]["labels"]]
    assert 0 < len(labeled) < len(rows)
    full, _ = run(engine, "model_run", run_info["id"],
                  params={"includePredictions": True, "includeModelRunDetails": True})
    splits = set()
    for row in full:
        entry = row["experiments"][detector["id"]]["runs"][run_info["id"]]
        assert len(entry["predictions"]) == 1
        assert entry["predictions"][0]["annotations"]["objects"]
        splits.add(entry["split"])
    assert splits == {"Training", "Validation", "Test"}


def test_bad_params_raise_naming_the_param(engine: Engine, street: Any) -> None:
    with pytest.raises(ValueError, match=r"params\.includeAttachments: expected true or false"):
        run(engine, "project", street[0], params={"includeAttachments": "yes"})
    with pytest.raises(ValueError, match=r"params\.projectIds: at most 30 items, got 31"):
        run(engine, "catalog", None, params={"projectIds": [f"p{i}" for i in range(31)]})
    with pytest.raises(ValueError, match=r"params\.mediaTypeOverride: unknown media type"):
        run(engine, "catalog", None, params={"mediaTypeOverride": "MOVIE"})


def test_interpolated_frames_fill_between_key_frames(engine: Engine, ws: Workspace) -> None:
    pid = project_id(ws, "Traffic Video Tracking")
    plain, _ = run(engine, "project", pid)
    full, _ = run(engine, "project", pid, params={"includeInterpolatedFrames": True})
    checked = 0
    for a, b in zip(plain, full, strict=True):
        for la, lb in zip(a["projects"][pid]["labels"], b["projects"][pid]["labels"],
                          strict=True):
            key_frames = la["annotations"]["frames"]
            frames = lb["annotations"]["frames"]
            assert set(key_frames) < set(frames)
            assert list(frames) == sorted(frames, key=int)
            fid = next(iter(la["annotations"]["key_frame_feature_map"]))
            keys = sorted(int(k) for k in la["annotations"]["key_frame_feature_map"][fid])
            start, end = keys[0], keys[1]
            box_a = key_frames[str(start)]["objects"][fid]["bounding_box"]
            box_b = key_frames[str(end)]["objects"][fid]["bounding_box"]
            mid = (start + end) // 2
            t = (mid - start) / (end - start)
            got = frames[str(mid)]["objects"][fid]["bounding_box"]
            assert got["left"] == pytest.approx(box_a["left"] + t * (box_b["left"]
                                                                     - box_a["left"]))
            assert all(str(f) in frames for f in range(keys[0], keys[-1] + 1))
            checked += 1
    assert checked


def test_filtered_rows_are_identical_to_the_same_rows_unfiltered(engine: Engine,
                                                                 street: Any) -> None:
    """Sparse and dense batches (pk list vs pk range reads) build the same JSON."""
    pid, all_rows = street
    by_id = {r["data_row"]["id"]: r for r in all_rows}
    act = sorted(_activity(all_rows).values())
    dense_cut = datetime.fromtimestamp(act[-3] / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    queries = [
        [{"type": "task_queue_status", "status": "InReview"}],  # every 4th row: sparse
        [date_item("data_row_last_activity_at", None, dense_cut)],  # nearly all: dense
    ]
    for query in queries:
        spec = ExportSpec("project", pid, query, ALL_PROJECT_PARAMS, "UTC", BASE)
        rows = [orjson.loads(line) for b in prepare_export(engine, spec).batches(batch_size=5)
                for line in b.result_lines()]
        assert 0 < len(rows) < len(all_rows)
        for row in rows:
            assert row == by_id[row["data_row"]["id"]]


def test_catalog_id_errors_name_the_dataset_scope(engine: Engine, ws: Workspace) -> None:
    chats = dataset_id(ws, "Support Chats")
    news_row = run(engine, "catalog", None, [{"ids": [dataset_id(ws, "News Articles")],
                                              "operator": "is", "type": "dataset"}])[0][0]
    query = [{"ids": [news_row["data_row"]["id"]], "operator": "is", "type": "data_row_id"},
             {"ids": [chats, "cnodataset0000000000000000"], "operator": "is",
              "type": "dataset"}]
    rows, errors = run(engine, "catalog", None, query)
    assert rows == []
    assert errors == [
        {"dataset_id": "cnodataset0000000000000000", "error": "Dataset not found"},
        {"data_row_id": news_row["data_row"]["id"], "error": "Data row not found in the datasets"},
    ]
    rows, errors = run(engine, "catalog", None, [{"ids": ["street-0001.png", "ghost.png"],
                                                  "operator": "is", "type": "global_key"}])
    assert [r["data_row"]["global_key"] for r in rows] == ["street-0001.png"]
    assert errors == [{"global_key": "ghost.png", "error": "Global key not found"}]


def test_catalog_labeled_at_looks_at_labels_in_any_project(engine: Engine) -> None:
    every, _ = run(engine, "catalog", None, params={"allProjects": True,
                                                    "includeLabelDetails": True})
    lo, hi = wall_ms("2024-05-01", "UTC"), wall_ms("2024-06-01", "UTC")
    expected = {r["data_row"]["id"] for r in every
                for p in r["projects"].values() for lab in p["labels"]
                if lo <= row_ms(lab["label_details"]["created_at"]) <= hi}
    rows, _ = run(engine, "catalog", None, [date_item("labeled_at", "2024-05-01", "2024-06-01")])
    assert set(ids(rows)) == expected and expected


def test_media_type_override_narrows_a_mixed_export_to_that_type(engine: Engine) -> None:
    everything, _ = run(engine, "catalog", None)
    texts, _ = run(engine, "catalog", None, params={"mediaTypeOverride": "TEXT"})
    assert 0 < len(texts) < len(everything)
    assert {r["media_attributes"].get("mime_type") for r in texts} <= {"text/plain"}
    expected = [r["data_row"]["id"] for r in everything
                if r["data_row"]["row_data"].endswith(".txt")]
    assert ids(texts) == expected
