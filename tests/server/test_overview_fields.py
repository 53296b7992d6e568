"""Fields the export overview lists as "Always": `project_tags` in project exports and
`annotation_group_id` in model-run rows; and model runs over every medium a model run exports
(image, text, video, geospatial), each row in its medium's annotation format."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from export_widget.server import store
from export_widget.server.export_query import prepare_export
from export_widget.server.export_spec import ExportSpec
from export_widget.server.workspace import Workspace

BASE = "http://127.0.0.1:9"


def export(engine: Engine, spec: ExportSpec) -> list[dict[str, Any]]:
    return [orjson.loads(line) for batch in prepare_export(engine, spec).batches()
            for line in batch.result_lines()]


def project_id(engine: Engine, name: str) -> str:
    return next(p["id"] for p in Workspace(engine).projects() if p["name"] == name)


def runs(engine: Engine) -> dict[str, tuple[str, str]]:
    """model run id -> (model name, run name)."""
    ws = Workspace(engine)
    return {r["id"]: (m["name"], r["name"]) for m in ws.models() for r in ws.model_runs(m["id"])}


def test_every_project_export_row_carries_its_project_tags(engine: Engine) -> None:
    for name, expected in [("Street Scenes Annotation", ["demo", "image"]),
                           ("Street Scenes QA", ["demo", "image", "qa"]),
                           ("Traffic Video Tracking", ["demo", "video"])]:
        pid = project_id(engine, name)
        rows = export(engine, ExportSpec("project", pid, [], {}, "UTC", BASE))
        assert rows
        for row in rows:
            tags = row["projects"][pid]["project_tags"]
            assert [t["text"] for t in tags] == expected, name
            assert all(set(t) == {"id", "text", "color"} for t in tags)
            assert all(t["color"].startswith("#") for t in tags)


def test_a_tag_shared_by_projects_has_one_id(engine: Engine) -> None:
    with engine.connect() as conn:
        ids = {r.tag_id for r in conn.execute(select(store.project_tags).where(
            store.project_tags.c.text == "demo"))}
    assert len(ids) == 1


def test_catalog_exports_leave_project_tags_out(engine: Engine) -> None:
    pid = project_id(engine, "Street Scenes Annotation")
    rows = export(engine, ExportSpec("catalog", None, [], {"projectIds": [pid]}, "UTC", BASE))
    with_project = [r for r in rows if pid in r["projects"]]
    assert with_project
    assert all("project_tags" not in r["projects"][pid] for r in with_project)


def test_model_run_rows_carry_an_annotation_group_id_stable_across_exports(
        engine: Engine) -> None:
    seen: dict[str, str] = {}
    for run_id in runs(engine):
        first = export(engine, ExportSpec("model_run", run_id, [], {}, "UTC", BASE))
        again = export(engine, ExportSpec("model_run", run_id, [], {}, "UTC", BASE))
        assert first and len(first) == len(again)
        for a, b in zip(first, again, strict=True):
            run_a = next(iter(a["experiments"].values()))["runs"][run_id]
            run_b = next(iter(b["experiments"].values()))["runs"][run_id]
            group = run_a["annotation_group_id"]
            assert group == run_b["annotation_group_id"]
            assert len(group) == 25 and group.startswith("c") and group.isalnum()
            assert list(run_a)[:3] == ["name", "annotation_group_id", "run_data_row_id"]
            # one group per data row of a run: no two run data rows share one
            assert seen.setdefault(group, run_a["run_data_row_id"]) == run_a["run_data_row_id"]


# What identifies each medium's annotation format in a prediction.
FORMATS: dict[str, Any] = {
    "Street Detector": lambda a: any("bounding_box" in o for o in a["objects"]),
    "Entity Tagger": lambda a: any(o["annotation_kind"] == "TextEntity"
                                   and set(o["location"]) == {"start", "end", "token"}
                                   for o in a["objects"]),
    "Traffic Tracker": lambda a: a["frames"] and "key_frame_feature_map" in a
    and "segments" in a,
    "Land Use Segmenter": lambda a: any("geojson" in o for o in a["objects"]),
}


@pytest.mark.parametrize("model", sorted(FORMATS))
def test_model_runs_export_every_medium_in_its_format(engine: Engine, model: str) -> None:
    run_ids = [rid for rid, (m, _r) in runs(engine).items() if m == model]
    assert run_ids, f"the demo has no run of {model}"
    params = {"includePredictions": True, "includeModelRunDetails": True}
    rows = export(engine, ExportSpec("model_run", run_ids[0], [], params, "UTC", BASE))
    assert rows
    for row in rows:
        run = next(iter(row["experiments"].values()))["runs"][run_ids[0]]
        assert run["split"] in ("Training", "Validation", "Test")
        assert run["predictions"], row["data_row"]["id"]
        assert all(FORMATS[model](p["annotations"]) for p in run["predictions"])
        assert all(FORMATS[model](lab["annotations"]) for lab in run["labels"])
