"""The official SDKs, unmodified, read the "Always" fields: `project_tags` in project exports
and `annotation_group_id` in model-run rows, over every model run of the demo (image, text,
video, geospatial). labelbox 7.x here; 5.2.1 with `-m sdk5` (its `get_stream` and
`JsonConverter` path)."""

from __future__ import annotations

import json
from typing import Any

import labelbox as lb
import pytest

Demo = Any  # tests/sdk/conftest.py's Demo: ground truth read from the store

RUNS = ["baseline-v1", "ner-v1", "tracker-v1", "landuse-v1"]  # image, text, video, geospatial


def sdk_rows(task: Any) -> list[dict[str, Any]]:
    task.wait_till_done(timeout_seconds=120)
    assert task.status == "COMPLETE"
    if lb.__version__.startswith("5."):
        from labelbox import JsonConverter  # the 5.x stream API

        return [json.loads(out.json_str) for out in task.get_stream(converter=JsonConverter())]
    return [out.json for out in task.get_buffered_stream()]


def check_project_tags(lb_client: Any, demo: Demo) -> None:
    project = demo.project("Street Scenes QA")
    rows = sdk_rows(lb_client.get_project(project["id"]).export(params={"label_details": True}))
    assert rows
    for row in rows:
        tags = row["projects"][project["id"]]["project_tags"]
        assert [tag["text"] for tag in tags] == ["demo", "image", "qa"]


def check_annotation_group_ids(lb_client: Any, demo: Demo, run_name: str) -> None:
    run = demo.model_run(run_name)
    rows = sdk_rows(lb_client.get_model_run(run["id"]).export(params={"predictions": True}))
    assert rows
    groups = set()
    for row in rows:
        (model,) = row["experiments"].values()
        entry = model["runs"][run["id"]]
        groups.add(entry["annotation_group_id"])
        assert entry["predictions"], f"{run_name}: a row without predictions"
    assert len(groups) == len(rows)


def test_sdk7_reads_project_tags(lb_client: Any, demo: Demo) -> None:
    assert lb.__version__.startswith("7."), lb.__version__
    check_project_tags(lb_client, demo)


@pytest.mark.parametrize("run_name", RUNS)
def test_sdk7_reads_annotation_group_ids(lb_client: Any, demo: Demo, run_name: str) -> None:
    assert lb.__version__.startswith("7."), lb.__version__
    check_annotation_group_ids(lb_client, demo, run_name)


@pytest.mark.sdk5
def test_sdk5_reads_project_tags(lb_client: Any, demo: Demo) -> None:
    assert lb.__version__ == "5.2.1", lb.__version__
    check_project_tags(lb_client, demo)


@pytest.mark.sdk5
@pytest.mark.parametrize("run_name", RUNS)
def test_sdk5_reads_annotation_group_ids(lb_client: Any, demo: Demo, run_name: str) -> None:
    assert lb.__version__ == "5.2.1", lb.__version__
    check_annotation_group_ids(lb_client, demo, run_name)
