"""The export_v2 surface of SDK 3.x-5.x (`result`, `errors`, `result_url`, `errors_url`), which
old notebooks still read: same values and errors as labelbox 5.2.1, plus a deprecation."""

from __future__ import annotations

import warnings

import pytest

from export_widget.client import Client, Dataset, ExportTask

from .conftest import finish

MISSING = "cl000000000000000000missing"
ONLY_V2 = (r"^This property is only available for export_v2 tasks due to compatibility "
           r"reasons, please use streamable errors instead$")
DEPRECATED = r"ExportTask\.\w+ belongs to the deprecated export_v2"


def _v2(call: object) -> ExportTask:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        task = call() if callable(call) else call
    assert isinstance(task, ExportTask)
    return finish(task)


@pytest.fixture(scope="module")
def dataset(client: Client) -> Dataset:
    return min(client.get_datasets(), key=lambda d: d.row_count)


@pytest.fixture(scope="module")
def rows_task(dataset: Dataset) -> ExportTask:
    return _v2(dataset.export_v2)


@pytest.fixture(scope="module")
def errors_task(client: Client) -> ExportTask:
    return _v2(lambda: client.get_catalog().export_v2(filters={"data_row_ids": [MISSING]}))


@pytest.fixture(scope="module")
def organization_id(client: Client) -> str:
    return str(client.execute("query { organization { id } }")["organization"]["id"])


def test_result_is_every_row_parsed(rows_task: ExportTask, dataset: Dataset) -> None:
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        result = rows_task.result
    assert isinstance(result, list) and len(result) == dataset.row_count
    assert result == [o.json for o in rows_task.get_stream()]


def test_result_of_an_export_without_rows_is_an_empty_list(errors_task: ExportTask) -> None:
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        assert errors_task.result == []


def test_errors_are_the_error_rows_or_none(rows_task: ExportTask,
                                           errors_task: ExportTask) -> None:
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        assert rows_task.errors is None
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        errors = errors_task.errors
    assert errors is not None and [e["data_row_id"] for e in errors] == [MISSING]


def test_result_url_is_the_sdk_rest_address(client: Client, rows_task: ExportTask,
                                            organization_id: str) -> None:
    rest = client.endpoint.removesuffix("/graphql") + "/api/v1"
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        assert rows_task.result_url == f"{rest}/export-results/{rows_task.uid}/{organization_id}"


def test_errors_url_is_set_only_when_there_are_errors(client: Client, rows_task: ExportTask,
                                                      errors_task: ExportTask,
                                                      organization_id: str) -> None:
    rest = client.endpoint.removesuffix("/graphql") + "/api/v1"
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        assert rows_task.errors_url is None
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        assert errors_task.errors_url == (
            f"{rest}/export-errors/{errors_task.uid}/{organization_id}")


def test_a_running_v2_task_has_no_result_yet(client: Client, rows_task: ExportTask) -> None:
    running = ExportTask(client.api, {"id": rows_task.uid, "status": "IN_PROGRESS"},
                         is_export_v2=True)
    with pytest.warns(DeprecationWarning), \
            pytest.raises(ExportTask.ExportTaskException, match=r"^Task is not ready yet$"):
        _ = running.result
    failed = ExportTask(client.api, {"id": rows_task.uid, "status": "FAILED"},
                        is_export_v2=True)
    with pytest.warns(DeprecationWarning), \
            pytest.raises(ExportTask.ExportTaskException, match=r"^Task failed$"):
        _ = failed.errors


def test_export_tasks_keep_the_legacy_surface_closed(dataset: Dataset) -> None:
    task = finish(dataset.export())
    with pytest.warns(DeprecationWarning, match=DEPRECATED):
        assert task.result is None  # the raw `result` field, as the SDK returned it
    for name in ("errors", "result_url", "errors_url"):
        with pytest.warns(DeprecationWarning, match=DEPRECATED), \
                pytest.raises(ExportTask.ExportTaskException, match=ONLY_V2):
            getattr(task, name)
