"""labelbox 7.17.0, unmodified, against the local server: every export scope end to end."""

from __future__ import annotations

from typing import Any

import labelbox as lb
import pytest

try:
    from lbox.exceptions import AuthenticationError, ResourceNotFoundError
except ImportError:  # labelbox 5.x keeps them in labelbox.exceptions
    from labelbox.exceptions import (  # type: ignore[no-redef]
        AuthenticationError,
        ResourceNotFoundError,
    )

from export_widget.server.runner import LocalServer

Demo = Any  # tests/sdk/conftest.py's Demo: ground truth read from the store

ALL_PROJECT_PARAMS = {
    "attachments": True, "embeddings": True, "metadata_fields": True,
    "data_row_details": True, "project_details": True, "label_details": True,
    "performance_details": True, "interpolated_frames": True,
}


def _done(task: Any) -> Any:
    task.wait_till_done(timeout_seconds=120)
    assert task.status == "COMPLETE"
    return task


def _rows(task: Any, stream: Any = None) -> list[dict[str, Any]]:
    stream = stream or lb.StreamType.RESULT
    return [out.json for out in task.get_buffered_stream(stream_type=stream)]


def _ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["data_row"]["id"] for row in rows}


def test_project_export_with_every_param_streams_every_project_row(
    lb_client: Any, demo: Demo
) -> None:
    project = demo.project("Street Scenes Annotation")
    task = _done(lb_client.get_project(project["id"]).export(params=ALL_PROJECT_PARAMS))
    assert task.has_result() and not task.has_errors()
    rows = _rows(task)
    assert task.get_total_lines(lb.StreamType.RESULT) == len(rows) == project["dataRowCount"]
    assert task.get_total_file_size(lb.StreamType.RESULT) > 0
    assert _ids(rows) == demo.project_row_ids(project["id"])
    for row in rows:
        entry = row["projects"][project["id"]]
        assert {"labels", "project_details"} <= entry.keys()
        assert "details" in row["data_row"] and "attachments" in row


def test_params_change_what_each_row_holds(lb_client: Any, demo: Demo) -> None:
    project = lb_client.get_project(demo.project("Street Scenes Annotation")["id"])
    bare = _rows(_done(project.export()))
    full = _rows(_done(project.export(params={"project_details": True,
                                              "metadata_fields": True})))
    assert _ids(bare) == _ids(full)
    assert all("project_details" not in r["projects"][project.uid] for r in bare)
    assert all("project_details" in r["projects"][project.uid] for r in full)
    assert all("metadata_fields" not in r for r in bare)
    assert all("metadata_fields" in r for r in full)


def test_workflow_status_filter_keeps_only_rows_in_that_step(lb_client: Any, demo: Demo) -> None:
    project = lb_client.get_project(demo.project("Street Scenes Annotation")["id"])
    everything = _rows(_done(project.export()))
    done = _rows(_done(project.export(filters={"workflow_status": "Done"},
                                      params={"project_details": True})))
    assert 0 < len(done) < len(everything)
    assert {r["projects"][project.uid]["project_details"]["workflow_status"] for r in done} == {
        "DONE"}


def test_data_row_ids_filter_on_a_project_export(lb_client: Any, demo: Demo) -> None:
    project = demo.project("Street Scenes Annotation")
    wanted = sorted(demo.project_row_ids(project["id"]))[:3]
    rows = _rows(_done(lb_client.get_project(project["id"]).export(
        filters={"data_row_ids": wanted})))
    assert _ids(rows) == set(wanted)


def test_dataset_export_streams_the_dataset_rows(lb_client: Any, demo: Demo) -> None:
    dataset = demo.dataset("Street Scenes")
    task = _done(lb_client.get_dataset(dataset["id"]).export(
        params={"data_row_details": True}))
    rows = _rows(task)
    assert task.get_total_lines(lb.StreamType.RESULT) == dataset["rowCount"] == len(rows)
    assert {r["data_row"]["details"]["dataset_id"] for r in rows} == {dataset["id"]}


def test_catalog_export_streams_every_data_row(lb_client: Any, demo: Demo) -> None:
    task = _done(lb_client.get_catalog().export())
    assert task.get_total_lines(lb.StreamType.RESULT) == demo.total_rows()
    assert len(_ids(_rows(task))) == demo.total_rows()


def test_catalog_slice_export_applies_the_saved_query(lb_client: Any, demo: Demo) -> None:
    chats = demo.dataset("Support Chats")
    catalog_slice = lb_client.get_catalog_slice(demo.slice("All support chats")["id"])
    rows = _rows(_done(catalog_slice.export(params={"data_row_details": True})))
    assert _ids(rows) == {i for i, _ in demo.dataset_rows(chats["id"])}


def test_model_run_export_nests_rows_under_the_model_and_run(
    lb_client: Any, demo: Demo
) -> None:
    run = demo.model_run("baseline-v1")
    rows = _rows(_done(lb_client.get_model_run(run["id"]).export(
        params={"predictions": True})))
    assert rows
    for row in rows:
        assert run["id"] in row["experiments"][run["modelId"]]["runs"]


def test_data_row_export_by_ids_and_by_global_keys(lb_client: Any, demo: Demo) -> None:
    picked = demo.dataset_rows(demo.dataset("News Articles")["id"])[:4]
    by_ids = _rows(_done(lb.DataRow.export(lb_client, data_rows=[i for i, _ in picked])))
    assert _ids(by_ids) == {i for i, _ in picked}
    keyed = [(i, k) for i, k in picked if k]
    by_keys = _rows(_done(lb.DataRow.export(lb_client, global_keys=[k for _, k in keyed])))
    assert _ids(by_keys) == {i for i, _ in keyed}


def test_an_id_that_matches_nothing_lands_in_the_errors_stream(lb_client: Any) -> None:
    missing = "cmissing0000000000000000a"
    task = _done(lb_client.get_catalog().export(filters={"data_row_ids": [missing]}))
    assert not task.has_result() and task.has_errors()
    errors = _rows(task, lb.StreamType.ERRORS)
    assert len(errors) == task.get_total_lines(lb.StreamType.ERRORS) == 1
    assert missing in str(errors[0])
    with pytest.raises(ValueError, match="does not have a RESULT stream"):
        task.get_buffered_stream()


def test_a_bad_api_key_raises_authentication_error(server: LocalServer, demo: Demo) -> None:
    bad = lb.Client(api_key="not-the-key", endpoint=server.endpoint)
    with pytest.raises(AuthenticationError):
        bad.get_project(demo.project("News NER")["id"])


def test_a_missing_project_raises_resource_not_found(lb_client: Any) -> None:
    with pytest.raises(ResourceNotFoundError):
        lb_client.get_project("cmissing0000000000000000a")


def test_project_batches_are_listed_through_the_experimental_endpoint(
    lb_client: Any, demo: Demo
) -> None:
    project = demo.project("News NER")
    expected = demo.workspace.batches(project["id"])["nodes"]
    batches = list(lb_client.get_project(project["id"]).batches())
    assert [b.uid for b in batches] == [b["id"] for b in expected]
    assert all(b.name for b in batches)


def test_get_projects_and_get_datasets_list_the_workspace(lb_client: Any, demo: Demo) -> None:
    assert {p.uid for p in lb_client.get_projects()} == {
        p["id"] for p in demo.workspace.projects()}
    assert {d.uid for d in lb_client.get_datasets()} == {
        d["id"] for d in demo.workspace.datasets()}
    assert {s.uid for s in lb_client.get_catalog_slices()} == {
        s["id"] for s in demo.workspace.slices()}


def test_an_eleventh_running_export_of_a_project_is_refused(
    server: LocalServer, lb_client: Any, demo: Demo
) -> None:
    from export_widget.server.export_spec import ExportSpec
    from export_widget.server.tasks import TaskStatus

    project = demo.project("Invoice Extraction")
    owner = lb_client.get_user().uid
    running = [server.engine.tasks.create(
        ExportSpec("project", project["id"], task_name="occupying", created_by=owner),
        project_limit=10, organization_limit=20) for _ in range(10)]
    try:
        with pytest.raises(Exception, match=r"project \w+ has 10 running, the limit is 10") as exc:
            lb_client.get_project(project["id"]).export()
        assert type(exc.value).__name__ == "OperationNotAllowedException"
    finally:
        for task in running:
            server.engine.tasks.finish(task.id, TaskStatus.FAILED, "test cleanup")
    _done(lb_client.get_project(project["id"]).export())


def test_models_model_runs_data_rows_user_and_organization_resolve(
    lb_client: Any, demo: Demo
) -> None:
    for model in lb_client.get_models():
        assert {r.uid for r in model.model_runs()} == {
            r["id"] for r in demo.workspace.model_runs(model.uid)}
    row_id, _ = demo.dataset_rows(demo.dataset("Invoices")["id"])[0]
    data_row = lb_client.get_data_row(row_id)
    assert data_row.uid == row_id and data_row.row_data
    assert lb_client.get_user().email == demo.workspace.user()["email"]
    assert lb_client.get_organization().uid == demo.workspace.organization()["id"]


def test_listings_honour_the_sdks_where_comparisons(lb_client: Any, demo: Demo) -> None:
    assert [p.name for p in lb_client.get_projects(where=lb.Project.name == "News NER")] == [
        "News NER"]
    invoices = demo.dataset("Invoices")
    found = lb_client.get_datasets(where=(lb.Dataset.name == "Invoices")
                                   & (lb.Dataset.description != "no such description"))
    assert [d.uid for d in found] == [invoices["id"]]
    everything_but = {d.uid for d in lb_client.get_datasets(
        where=lb.Dataset.name != "Invoices")}
    assert everything_but == {d["id"] for d in demo.workspace.datasets()} - {invoices["id"]}


def test_last_activity_at_filter_uses_the_users_timezone_and_bounds_rows(
    lb_client: Any, demo: Demo
) -> None:
    dataset = lb_client.get_dataset(demo.dataset("News Articles")["id"])
    wide = _done(dataset.export(filters={"last_activity_at": ["2000-01-01", "2100-01-01"]}))
    assert wide.get_total_lines(lb.StreamType.RESULT) == demo.dataset("News Articles")[
        "rowCount"]
    future = _done(dataset.export(filters={"last_activity_at": ["2099-01-01 00:00:00", None]}))
    assert not future.has_result() and not future.has_errors()
