"""Compare two exports: rows only in A or B, and each kind of change in the rows both hold."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from export_widget.client import Client
from export_widget.history import History
from export_widget.inspect import compare, compare_exports
from export_widget.server import store as tables
from export_widget.server.runner import LocalServer, start_local_server

# -- small rows built by hand ---------------------------------------------------------------


def label(lid, objects=(), classifications=(), reviews=()):
    return {"id": lid, "annotations": {"objects": list(objects),
                                       "classifications": list(classifications),
                                       "relationships": []},
            "label_details": {"reviews": list(reviews), "updated_at": "2024-01-01"}}


def car(fid, left=10.0):
    return {"feature_id": fid, "feature_schema_id": "s-car", "name": "car",
            "annotation_kind": "ImageBoundingBox", "classifications": [],
            "bounding_box": {"top": 5.0, "left": left, "height": 10.0, "width": 20.0}}


def weather(fid, answer):
    return {"feature_id": fid, "feature_schema_id": "s-w", "name": "weather",
            "radio_answer": {"feature_id": f"{fid}-a", "name": answer, "classifications": []}}


def data_row(rid, status="IN_REVIEW", labels=(), tag="quiet", host="h1"):
    return {"data_row": {"id": rid, "global_key": f"{rid}.png",
                         "row_data": f"http://{host}/media/{rid}.png"},
            "metadata_fields": [{"schema_id": f"{host}-tag", "schema_name": "tag",
                                 "value": tag}],
            "projects": {"p1": {"name": "Street", "labels": list(labels),
                                "project_details": {"workflow_status": status,
                                                    "updated_at": "2024-01-01"}}}}


BEFORE = [
    data_row("r1", labels=[label("l1", [car("f1"), car("f2")], [weather("c1", "sunny")],
                                 [{"id": "v1", "review_action": "Approve"}])]),
    data_row("r2", status="TO_LABEL"),
    data_row("r3", labels=[label("l3", [car("f3")])]),
]


def edited() -> list[dict]:
    after = copy.deepcopy(BEFORE)
    r1 = after[0]["projects"]["p1"]
    lab = r1["labels"][0]
    lab["annotations"]["objects"][0]["bounding_box"]["left"] = 30.0   # f1 moved
    del lab["annotations"]["objects"][1]                              # f2 removed
    lab["annotations"]["objects"].append(car("f9"))                   # f9 added
    lab["annotations"]["classifications"][0]["radio_answer"]["name"] = "rainy"
    lab["label_details"]["reviews"] = [{"id": "v2", "review_action": "Reject"}]
    lab["label_details"]["updated_at"] = "2024-02-02"                 # not a change
    r1["project_details"]["workflow_status"] = "IN_REWORK"
    after[0]["metadata_fields"][0]["value"] = "busy"
    after[1]["projects"]["p1"]["labels"].append(label("l2", [car("f5")]))
    del after[2]                                                      # r3 gone
    after.append(data_row("r4"))                                      # r4 new
    return after


def test_every_kind_of_change_is_reported_once():
    result = compare_exports(BEFORE, edited())
    counts = {k: v for k, v in result.counts.items() if v}
    assert counts == {"only_in_a": 1, "only_in_b": 1, "workflow_status": 1, "label_added": 1,
                      "annotation_added": 1, "annotation_removed": 1, "annotation_moved": 1,
                      "annotation_changed": 1, "review_added": 1, "review_removed": 1,
                      "metadata": 1}
    assert (result.changed_rows, result.unchanged_rows, result.key) == (2, 0, "id")
    changes = result.changes.set_index("kind")
    assert changes.loc["only_in_a", "data_row_id"] == "r3"
    assert changes.loc["only_in_b", "data_row_id"] == "r4"
    assert (changes.loc["workflow_status", "before"],
            changes.loc["workflow_status", "after"]) == ("IN_REVIEW", "IN_REWORK")
    assert changes.loc["annotation_moved", "feature_id"] == "f1"
    assert '"left":10.0' in changes.loc["annotation_moved", "before"]
    assert '"left":30.0' in changes.loc["annotation_moved", "after"]
    assert changes.loc["annotation_removed", "feature_id"] == "f2"
    assert changes.loc["annotation_added", "feature_id"] == "f9"
    assert (changes.loc["annotation_changed", "before"],
            changes.loc["annotation_changed", "after"]) == ("weather: sunny", "weather: rainy")
    assert (changes.loc["metadata", "feature"], changes.loc["metadata", "after"]) == ("tag",
                                                                                     "busy")
    assert changes.loc["label_added", "label_id"] == "l2"
    assert changes.loc["label_added", "where"] == "Street"
    rows = result.rows.set_index("data_row_id")
    assert rows.loc["r1", "status"] == "changed" and rows.loc["r1", "changes"] == 8
    assert rows.loc["r3", "status"] == "only_in_a"


def test_identical_exports_compare_equal_even_with_new_urls_and_times():
    again = copy.deepcopy(BEFORE)
    for row in again:
        row["data_row"]["row_data"] = row["data_row"]["row_data"].replace("h1", "h9")
        row["projects"]["p1"]["project_details"]["updated_at"] = "2030-01-01"
    result = compare_exports(BEFORE, again)
    assert result.changes.empty and result.unchanged_rows == 3


def test_rows_match_by_global_key_when_ids_differ_across_servers():
    other = copy.deepcopy(edited())
    for row in other:  # the same data loaded on another server: every id is new
        row["data_row"]["id"] = "x-" + row["data_row"]["id"]
        for lab in row["projects"]["p1"]["labels"]:
            lab["id"] = "x-" + lab["id"]
            for obj in lab["annotations"]["objects"]:
                obj["feature_id"] = "x-" + obj["feature_id"]
    result = compare_exports(BEFORE, other)
    assert result.key == "global_key"
    counts = {k: v for k, v in result.counts.items() if v}
    # Without feature ids, cars pair up in order: f2 and f9 sit in the same place (no change).
    assert counts == {"only_in_a": 1, "only_in_b": 1, "workflow_status": 1, "label_added": 1,
                      "annotation_moved": 1, "annotation_changed": 1, "review_added": 1,
                      "review_removed": 1, "metadata": 1}


def test_compare_returns_a_frame_and_refuses_a_bad_key():
    frame = compare(BEFORE, edited())
    assert list(frame.columns)[:4] == ["key", "data_row_id", "global_key", "kind"]
    with pytest.raises(ValueError, match="key: one of 'auto', 'id', 'global_key'"):
        compare(BEFORE, BEFORE, key="name")
    with pytest.raises(TypeError, match="rows: expected a history entry"):
        compare(42, BEFORE)


# -- the demo project, changed through the store between two exports ----------------------


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    directory: Path = tmp_path_factory.mktemp("compare-server")
    with start_local_server(db_url=f"sqlite:///{directory / 'store.sqlite'}", demo=True,
                            data_dir=directory) as srv:
        yield srv


PARAMS = {"project_details": True, "label_details": True, "metadata_fields": True}


def export_into(history: History, client: Client, project_id: str):
    task = client.get_project(project_id).export(params=PARAMS)
    task.wait_till_done()
    entry = history.create(task_id=task.uid, scope="project", target_id=project_id,
                           params=PARAMS)
    entry.rows.append(orjson.dumps(out.json) for out in task.get_buffered_stream())
    entry.finish("done")
    entry.release()
    return history.get(entry.id)


def test_demo_project_before_and_after_store_changes(own_server, tmp_path):
    engine = own_server.parts.store
    pr, dr, lb = tables.project_rows, tables.data_rows, tables.labels
    with engine.connect() as conn:
        pid = conn.execute(sa.select(tables.projects.c.id).where(
            tables.projects.c.name == "Street Scenes Annotation")).scalar_one()
        members = conn.execute(sa.select(pr.c.data_row_pk, pr.c.workflow_status, dr.c.id)
                               .join(dr, dr.c.pk == pr.c.data_row_pk)
                               .where(pr.c.project_id == pid).order_by(pr.c.data_row_pk)).all()
    to_label = next(m for m in members if m.workflow_status == "TO_LABEL")
    in_review = next(m for m in members if m.workflow_status == "IN_REVIEW")
    removed = next(m for m in members if m.workflow_status == "DONE")
    history = History(tmp_path)
    with Client(api_key=own_server.api_key, endpoint=own_server.endpoint) as client:
        before = export_into(history, client, pid)
        with engine.begin() as conn:
            conn.execute(lb.insert().values(
                id="cnewlabel0000000000000001", project_id=pid, data_row_pk=to_label.data_row_pk,
                label_kind="Default", created_by="u", created_at=1, updated_at=1,
                annotations=orjson.dumps({"objects": [car("cnewfeature00000000000001")],
                                          "classifications": [], "relationships": []}).decode()))
            conn.execute(pr.update().where(pr.c.project_id == pid,
                                           pr.c.data_row_pk == in_review.data_row_pk)
                         .values(workflow_status="DONE"))
            conn.execute(pr.delete().where(pr.c.project_id == pid,
                                           pr.c.data_row_pk == removed.data_row_pk))
        after = export_into(history, client, pid)
    result = compare_exports(before, after)
    assert {k: v for k, v in result.counts.items() if v} == {
        "only_in_a": 1, "workflow_status": 1, "label_added": 1}
    changes = result.changes.set_index("kind")
    assert changes.loc["only_in_a", "data_row_id"] == removed.id
    assert changes.loc["label_added", "data_row_id"] == to_label.id
    assert changes.loc["label_added", "label_id"] == "cnewlabel0000000000000001"
    assert changes.loc["workflow_status", "data_row_id"] == in_review.id
    assert (changes.loc["workflow_status", "before"],
            changes.loc["workflow_status", "after"]) == ("IN_REVIEW", "DONE")
    assert result.rows_a == len(members) and result.rows_b == len(members) - 1
    assert result.unchanged_rows == len(members) - 3
