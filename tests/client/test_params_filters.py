"""Each param and filter changes the exported rows the way the docs say, on the real server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from export_widget.client import Client, Project

from .conftest import Row, rows_of


@pytest.fixture(scope="module")
def project(client: Client) -> Project:
    """The image project: labels, batches and every workflow state."""
    return next(p for p in client.get_projects() if p.allowed_media_type == "IMAGE"
                and p.data_row_count >= 12)


@pytest.fixture(scope="module")
def baseline(project: Project) -> list[Row]:
    return rows_of(project.export(params={"project_details": True, "data_row_details": True}))


def _labels(row: Row) -> list[Row]:
    return [lab for entry in row["projects"].values() for lab in entry["labels"]]


PRESENT: dict[str, Callable[[Row], bool]] = {
    "attachments": lambda r: "attachments" in r,
    "embeddings": lambda r: "embeddings" in r,
    "metadata_fields": lambda r: "metadata_fields" in r,
    "data_row_details": lambda r: "details" in r["data_row"],
    "project_details": lambda r: all("project_details" in e for e in r["projects"].values()),
    "label_details": lambda r: bool(_labels(r)) and all("label_details" in lab
                                                        for lab in _labels(r)),
    "performance_details": lambda r: bool(_labels(r)) and all("performance_details" in lab
                                                              for lab in _labels(r)),
}


@pytest.mark.parametrize("param", sorted(PRESENT))
def test_each_include_param_adds_its_section(project: Project, param: str) -> None:
    on = rows_of(project.export(params={param: True}))
    off = rows_of(project.export(params={param: False}))
    assert len(on) == len(off) == project.data_row_count
    assert any(PRESENT[param](r) for r in on)
    assert not any(PRESENT[param](r) for r in off)


def test_embeddings_param_lists_vectors(project: Project) -> None:
    rows = rows_of(project.export(params={"embeddings": True}))
    assert any(e["values"] for r in rows for e in r["embeddings"])


def test_global_keys_filter_selects_exactly_those_rows(project: Project,
                                                       baseline: list[Row]) -> None:
    keys = [r["data_row"]["global_key"] for r in baseline[:5]]
    rows = rows_of(project.export(filters={"global_keys": keys}))
    assert sorted(r["data_row"]["global_key"] for r in rows) == sorted(keys)


def test_data_row_ids_filter_selects_exactly_those_rows(project: Project,
                                                        baseline: list[Row]) -> None:
    ids = [r["data_row"]["id"] for r in baseline[-4:]]
    rows = rows_of(project.export(filters={"data_row_ids": ids}))
    assert sorted(r["data_row"]["id"] for r in rows) == sorted(ids)


def test_batch_ids_filter_keeps_rows_of_the_batch(project: Project,
                                                  baseline: list[Row]) -> None:
    batches = list(project.batches())
    assert len(batches) >= 2
    chosen = batches[0].uid
    expected = sorted(r["data_row"]["id"] for r in baseline
                      if r["projects"][project.uid]["project_details"]["batch_id"] == chosen)
    rows = rows_of(project.export(filters={"batch_ids": [chosen]}))
    assert sorted(r["data_row"]["id"] for r in rows) == expected
    assert 0 < len(expected) < len(baseline)


@pytest.mark.parametrize(("status", "state"), [("ToLabel", "TO_LABEL"),
                                               ("InReview", "IN_REVIEW"),
                                               ("InRework", "IN_REWORK"), ("Done", "DONE")])
def test_workflow_status_filter_keeps_rows_in_that_state(project: Project, baseline: list[Row],
                                                         status: str, state: str) -> None:
    expected = sorted(r["data_row"]["id"] for r in baseline
                      if r["projects"][project.uid]["project_details"]["workflow_status"] == state)
    rows = rows_of(project.export(filters={"workflow_status": status}))
    assert sorted(r["data_row"]["id"] for r in rows) == expected
    assert expected, f"the demo project has rows in {state}"


def _activity(row: Row) -> datetime:
    return datetime.fromisoformat(row["data_row"]["details"]["last_activity_at"])


def test_last_activity_at_range_keeps_rows_inside_it(project: Project,
                                                     baseline: list[Row]) -> None:
    moments = sorted(_activity(r) for r in baseline)
    lo, hi = moments[len(moments) // 4], moments[3 * len(moments) // 4]
    fmt = "%Y-%m-%dT%H:%M:%S%z"
    rows = rows_of(project.export(
        params={"data_row_details": True},
        filters={"last_activity_at": [lo.strftime(fmt), hi.strftime(fmt)]}))
    got = sorted(r["data_row"]["id"] for r in rows)
    # The bounds are sent to the second, so compare against the same truncated bounds.
    lo_s, hi_s = lo.replace(microsecond=0), hi.replace(microsecond=0)
    expected = sorted(r["data_row"]["id"] for r in baseline if lo_s <= _activity(r) <= hi_s)
    assert got == expected, [(_activity(r).isoformat(), lo_s, hi_s) for r in baseline]
    assert 0 < len(got) < len(baseline)


def test_iso_offset_is_honoured_in_date_filters(project: Project, baseline: list[Row]) -> None:
    # The same instant written in UTC and in +05:30 must select the same rows.
    moments = sorted(_activity(r) for r in baseline)
    mid = moments[len(moments) // 2].astimezone(UTC).replace(microsecond=0)
    utc = mid.strftime("%Y-%m-%dT%H:%M:%S+0000")
    from datetime import timedelta, timezone

    ist = mid.astimezone(timezone(timedelta(hours=5, minutes=30))).strftime("%Y-%m-%dT%H:%M:%S%z")
    a = rows_of(project.export(filters={"last_activity_at": [None, utc]}))
    b = rows_of(project.export(filters={"last_activity_at": [None, ist]}))
    assert sorted(r["data_row"]["id"] for r in a) == sorted(r["data_row"]["id"] for r in b)
    assert 0 < len(a) < len(baseline)


def test_label_created_at_filter_keeps_rows_with_labels_in_range(project: Project) -> None:
    rows = rows_of(project.export(params={"label_details": True},
                                  filters={"label_created_at": ["2024-03-01", "2024-04-30"]}))
    assert rows
    for row in rows:
        created = [lab["label_details"]["created_at"][:10] for lab in _labels(row)]
        assert any("2024-02-29" <= c <= "2024-05-01" for c in created)  # user tz may shift a day
    everything = rows_of(project.export())
    assert len(rows) < len(everything)


def test_catalog_project_ids_param_adds_project_sections(client: Client, project: Project
                                                         ) -> None:
    dataset_rows = rows_of(client.get_catalog().export(
        params={"project_ids": [project.uid]}, filters={"data_row_ids": None}))
    with_project = [r for r in dataset_rows if r.get("projects")]
    assert with_project and all(set(r["projects"]) == {project.uid} for r in with_project)
    plain = rows_of(client.get_catalog().export())
    assert not any("projects" in r for r in plain)


def test_catalog_all_projects_and_all_model_runs(client: Client) -> None:
    rows = rows_of(client.get_catalog().export(params={"all_projects": True,
                                                       "all_model_runs": True}))
    assert len({pid for r in rows for pid in r.get("projects", {})}) >= 2
    assert any(r.get("experiments") for r in rows)


def test_model_run_details_adds_the_split(client: Client) -> None:
    run = next(r for m in client.get_models() for r in m.model_runs())
    with_split = rows_of(run.export(params={"model_run_details": True}))
    without = rows_of(run.export())

    def runs(rows: list[Row]) -> list[Any]:
        return [x for r in rows for m in r["experiments"].values() for x in m["runs"].values()]

    assert all("split" in x for x in runs(with_split))
    assert not any("split" in x for x in runs(without))


def test_model_run_predictions_param(client: Client) -> None:
    run = next(r for m in client.get_models() for r in m.model_runs())
    rows = rows_of(run.export(params={"predictions": True}))
    runs = [x for r in rows for m in r["experiments"].values() for x in m["runs"].values()]
    assert all("predictions" in x for x in runs) and any(x["predictions"] for x in runs)


def test_dataset_filters_narrow_the_dataset(client: Client) -> None:
    dataset = max(client.get_datasets(), key=lambda d: d.row_count)
    rows = rows_of(dataset.export())
    keys = [r["data_row"]["global_key"] for r in rows[:3]]
    narrowed = rows_of(dataset.export(filters={"global_keys": keys}))
    assert sorted(r["data_row"]["global_key"] for r in narrowed) == sorted(keys)
