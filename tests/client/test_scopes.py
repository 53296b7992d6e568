"""Every scope exports the rows it should, against the real local server."""

from __future__ import annotations

import pytest

from export_widget.client import (
    AuthenticationError,
    Client,
    DataRow,
    ExportTask,
    ResourceNotFoundError,
    StreamType,
)
from export_widget.server.runner import LocalServer

from .conftest import finish, rows_of


def test_client_reads_key_and_endpoint_from_the_environment(
        server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELBOX_API_KEY", server.api_key)
    monkeypatch.setenv("LABELBOX_ENDPOINT", server.endpoint)
    with Client() as c:
        assert c.endpoint == server.endpoint
        assert c.get_projects()


def test_client_without_a_key_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABELBOX_API_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="API key not provided"):
        Client(endpoint="http://127.0.0.1:9/graphql")


def test_wrong_api_key_raises_authentication_error(server: LocalServer) -> None:
    with Client(api_key="not-the-key", endpoint=server.endpoint) as c, \
            pytest.raises(AuthenticationError):
        c.get_projects()


def test_unknown_ids_raise_resource_not_found(client: Client) -> None:
    for getter in (client.get_project, client.get_dataset, client.get_model_run,
                   client.get_catalog_slice):
        with pytest.raises(ResourceNotFoundError):
            getter("cl000000000000000000nothere")
    with pytest.raises(ResourceNotFoundError):
        ExportTask.get_task(client, "cl000000000000000000nothere")


def test_objects_carry_uid_name_and_server_fields(client: Client) -> None:
    project = client.get_projects()[0]
    again = client.get_project(project.uid)
    assert again == project and again.name == project.name
    assert isinstance(again.data_row_count, int) and again.allowed_media_type
    dataset = client.get_datasets()[0]
    assert client.get_dataset(dataset.uid).row_count == dataset.row_count
    assert client.get_catalog().uid == "catalog"


def test_project_export_returns_every_row_of_the_project(client: Client) -> None:
    project = min(client.get_projects(), key=lambda p: p.data_row_count)
    rows = rows_of(project.export())
    assert len(rows) == project.data_row_count
    assert all(set(row["projects"]) == {project.uid} for row in rows)
    assert len({row["data_row"]["id"] for row in rows}) == len(rows)


def test_dataset_export_returns_only_its_rows(client: Client) -> None:
    dataset = min(client.get_datasets(), key=lambda d: d.row_count)
    task = dataset.export(params={"data_row_details": True})
    assert task.name == f"Export v2: dataset - {dataset.name}"
    rows = rows_of(task)
    assert len(rows) == dataset.row_count
    assert {row["data_row"]["details"]["dataset_id"] for row in rows} == {dataset.uid}


def test_catalog_export_returns_rows_of_every_dataset(client: Client) -> None:
    rows = rows_of(client.get_catalog().export(params={"data_row_details": True}))
    assert len(rows) == sum(d.row_count for d in client.get_datasets())


def test_catalog_slice_export_returns_the_slice_rows(client: Client) -> None:
    slices = client.get_catalog_slices()
    assert slices
    for slice_ in slices:
        assert client.get_catalog_slice(slice_.uid).name == slice_.name
        rows = rows_of(slice_.export(params={"data_row_details": True}))
        assert 0 < len(rows) < sum(d.row_count for d in client.get_datasets())


def test_model_run_export_has_experiments(client: Client) -> None:
    model = client.get_models()[0]
    run = next(iter(model.model_runs()))
    assert client.get_model_run(run.uid).name == run.name
    rows = rows_of(run.export(params={"predictions": True}))
    assert rows
    for row in rows:
        runs = row["experiments"][model.uid]["runs"]
        assert run.uid in runs
        assert "projects" not in row


def test_data_rows_export_by_ids_and_by_global_keys(client: Client) -> None:
    sample = rows_of(min(client.get_projects(), key=lambda p: p.data_row_count).export())[:3]
    ids = [r["data_row"]["id"] for r in sample]
    keys = [r["data_row"]["global_key"] for r in sample]
    by_id = rows_of(DataRow.export(client, data_rows=ids))
    assert sorted(r["data_row"]["id"] for r in by_id) == sorted(ids)
    task = DataRow.export(client, global_keys=keys[:2])
    assert task.name == "Export v2: data rows 2"
    assert sorted(r["data_row"]["global_key"] for r in rows_of(task)) == sorted(keys[:2])


def test_data_rows_export_needs_ids_or_keys(client: Client) -> None:
    with pytest.raises(ValueError, match="data_rows and global_keys cannot both be empty"):
        DataRow.export(client)


def test_export_v2_warns_and_still_exports(client: Client) -> None:
    project = client.get_projects()[0]
    with pytest.warns(DeprecationWarning, match="export_v2 is deprecated"):
        task = project.export_v2(params={"label_details": True})
    assert rows_of(task)


def test_project_batches_and_model_runs_are_listed(client: Client) -> None:
    projects = client.get_projects()
    batches = [b for p in projects for b in p.batches()]
    assert batches and all(b.uid and b.name for b in batches)
    runs = [r for m in client.get_models() for r in m.model_runs()]
    assert runs and all(r.uid and r.name for r in runs)


def test_export_validates_before_any_call(server: LocalServer, client: Client) -> None:
    project = client.get_projects()[0]
    with pytest.raises(ValueError, match=r"^global_keys: global_key filter only supports"):
        project.export(filters={"global_keys": [str(i) for i in range(2001)]})
    with pytest.raises(ValueError, match=r"^predictions: not a parameter of project"):
        project.export(params={"predictions": True})


def test_params_and_filters_that_are_not_dicts_raise_type_error(client: Client) -> None:
    project = client.get_projects()[0]
    with pytest.raises(TypeError, match=r"^params: expects a dict, got list \[1\]$"):
        project.export(params=[1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^filters: expects a dict, got str 'x'$"):
        project.export(filters="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^params: expects a dict"):
        client.get_catalog_slices()[0].export(params=(True,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^params: expects a dict"):
        DataRow.export(client, global_keys=["k"], params="label_details")  # type: ignore[arg-type]


def test_task_fields_and_reattach(client: Client) -> None:
    task = finish(client.get_projects()[0].export(task_name="mine"))
    assert task.name == "mine" and task.type == "export-data-rows"
    assert task.completion_percentage == 100
    assert task.created_at is not None and task.updated_at is not None
    again = ExportTask.get_task(client, task.uid)
    assert again.status == "COMPLETE"
    assert again.get_total_lines(StreamType.RESULT) == task.get_total_lines(StreamType.RESULT)
    assert [o.json_str for o in again.get_stream()] == [o.json_str for o in task.get_stream()]


def test_results_before_completion_raise_not_ready(client: Client) -> None:
    task = finish(client.get_projects()[0].export())
    # The same task as seen right after creation, and as a failed one.
    running = ExportTask(client.api, {"id": task.uid, "status": "IN_PROGRESS"})
    with pytest.raises(ExportTask.ExportTaskException, match="Task is not ready yet"):
        running.get_total_lines(StreamType.RESULT)
    failed = ExportTask(client.api, {"id": task.uid, "status": "FAILED"})
    with pytest.raises(ExportTask.ExportTaskException, match="Task failed"):
        failed.has_result()
    running.refresh()
    assert running.status == "COMPLETE"


def test_stream_on_an_empty_stream_type_raises(client: Client) -> None:
    task = finish(client.get_projects()[0].export())  # every row exists: no error line
    assert not task.has_errors() and task.has_result()
    with pytest.raises(ValueError, match=f"^Task {task.uid} does not have a ERRORS stream$"):
        task.get_stream(stream_type=StreamType.ERRORS)
