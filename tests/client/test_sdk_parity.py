"""Our client sends the same GraphQL operations, texts and inputs as the official SDK 7.17.

Both are pointed at a recording proxy in front of the real local server.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from export_widget.client import Client
from export_widget.server.runner import LocalServer

from .recording_proxy import Call, RecordingProxy

PARAMS = {"attachments": True, "label_details": True, "project_details": True}
FILTERS = {"last_activity_at": ["2024-01-01", "2024-12-31 23:59:59"], "workflow_status": "Done"}


@pytest.fixture(scope="module")
def proxy(server: LocalServer) -> Iterator[RecordingProxy]:
    p = RecordingProxy(server.base_url)
    yield p
    p.close()


def _collapse(names: list[str]) -> list[str]:
    # Polls repeat as often as the task takes: compare the sequence without repeats.
    out: list[str] = []
    for name in names:
        if not out or out[-1] != name:
            out.append(name)
    return out


def _first_project_id(client: Client) -> str:
    return min(client.get_projects(), key=lambda p: p.name or "").uid


def _sdk_export(proxy: RecordingProxy, api_key: str, project_id: str) -> tuple[list[Call], int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import labelbox as lb

        sdk = lb.Client(api_key=api_key, endpoint=proxy.endpoint,
                        rest_endpoint=proxy.base_url + "/api/v1")
        proxy.take()
        task = sdk.get_project(project_id).export(params=PARAMS, filters=FILTERS)
        task.wait_till_done()
        assert task.has_result()
        task.has_errors()
        rows = sum(1 for _ in task.get_buffered_stream())
    return proxy.take(), rows


def _our_export(proxy: RecordingProxy, api_key: str, project_id: str) -> tuple[list[Call], int]:
    with Client(api_key=api_key, endpoint=proxy.endpoint) as ours:
        proxy.take()
        task = ours.get_project(project_id).export(params=PARAMS, filters=FILTERS)
        task.wait_till_done()
        assert task.has_result()
        task.has_errors()
        rows = sum(1 for _ in task.get_buffered_stream())
    return proxy.take(), rows


@pytest.fixture(scope="module")
def recorded(proxy: RecordingProxy, server: LocalServer, client: Client
             ) -> tuple[list[Call], int, list[Call], int]:
    pid = _first_project_id(client)
    sdk_calls, sdk_rows = _sdk_export(proxy, server.api_key, pid)
    our_calls, our_rows = _our_export(proxy, server.api_key, pid)
    return sdk_calls, sdk_rows, our_calls, our_rows


def test_project_export_sends_the_sdk_operation_sequence(
        recorded: tuple[list[Call], int, list[Call], int]) -> None:
    sdk_calls, sdk_rows, our_calls, our_rows = recorded
    assert _collapse([c.name for c in our_calls]) == _collapse([c.name for c in sdk_calls])
    assert "exportDataRowsInProjectPyApi" in [c.name for c in sdk_calls]
    assert "GetExportFileFromOffsetPyApi" in [c.name for c in sdk_calls]
    assert our_rows == sdk_rows > 0


def test_operation_texts_match_the_sdk(recorded: tuple[list[Call], int, list[Call], int]
                                       ) -> None:
    sdk_calls, _, our_calls, _ = recorded
    sdk_texts = {c.name: " ".join(c.query.split()) for c in sdk_calls}
    our_texts = {c.name: " ".join(c.query.split()) for c in our_calls}
    assert our_texts == sdk_texts


def test_export_input_matches_the_sdk(recorded: tuple[list[Call], int, list[Call], int]) -> None:
    sdk_calls, _, our_calls, _ = recorded

    def export_input(calls: list[Call]) -> Any:
        return next(c.variables for c in calls if c.name == "exportDataRowsInProjectPyApi")

    assert export_input(our_calls) == export_input(sdk_calls)
    ours = export_input(our_calls)["input"]
    assert ours["params"]["includeAttachments"] is True
    assert ours["filters"]["searchQuery"]["query"][-1] == {"type": "task_queue_status",
                                                           "status": "Done"}


def test_offsets_are_sent_as_strings_like_the_sdk(
        recorded: tuple[list[Call], int, list[Call], int]) -> None:
    _, _, our_calls, _ = recorded
    offsets = [c.variables["offset"] for c in our_calls if c.name == "GetExportFileFromOffsetPyApi"]
    assert offsets and all(isinstance(o, str) for o in offsets) and offsets[0] == "0"


def test_two_date_filters_ask_the_timezone_once(proxy: RecordingProxy, server: LocalServer,
                                                client: Client) -> None:
    pid = _first_project_id(client)
    with Client(api_key=server.api_key, endpoint=proxy.endpoint) as ours:
        project = ours.get_project(pid)
        proxy.take()
        project.export(filters={"last_activity_at": ["2024-01-01", None],
                                "label_created_at": [None, "2024-12-31"]}).wait_till_done()
    assert proxy.names().count("CurrentUserPyApi") == 1
    proxy.take()


def test_listings_use_the_sdk_operations(proxy: RecordingProxy, server: LocalServer) -> None:
    with Client(api_key=server.api_key, endpoint=proxy.endpoint) as ours:
        proxy.take()
        projects = ours.get_projects()
        list(projects[0].batches())
        ours.get_datasets()
        ours.get_catalog_slices()
        for model in ours.get_models():
            list(model.model_runs())
    calls = proxy.take()
    assert _collapse([c.name for c in calls])[:5] == [
        "GetProjectsPyApi", "GetProjectBatchesPyApi", "GetDatasetsPyApi",
        "GetCatalogSavedQueriesPyApi", "GetModelsPyApi"]
    assert next(c for c in calls if c.name == "GetProjectBatchesPyApi").path == "/_gql"


def test_sdk_media_type_enum_is_sent_as_its_value(proxy: RecordingProxy, server: LocalServer,
                                                  client: Client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from labelbox import MediaType
    run = next(r for m in client.get_models() for r in m.model_runs())
    with Client(api_key=server.api_key, endpoint=proxy.endpoint) as ours:
        proxy.take()
        task = ours.get_model_run(run.uid).export(params={"media_type_override": MediaType.Image})
        task.wait_till_done()
    sent = next(c.variables for c in proxy.take()
                if c.name == "exportDataRowsInModelRunPyApi")
    assert sent["input"]["params"]["mediaTypeOverride"] == "IMAGE"  # the SDK sent the enum
    assert task.status == "COMPLETE"
