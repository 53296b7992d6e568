"""The widget's "sdk" code flavour is real labelbox code: run as written, unmodified, by the
official SDK (7.x here; 5.2.1 with `-m sdk5`), it exports the rows our client exports."""

from __future__ import annotations

from typing import Any

import labelbox as lb
import pytest

from export_widget.call_render import render_code
from export_widget.client import Client
from export_widget.export_request import ExportRequest
from export_widget.server.runner import LocalServer

Demo = Any  # tests/sdk/conftest.py's Demo: ground truth read from the store


def configs(demo: Demo) -> dict[str, dict[str, Any]]:
    street = demo.project("Street Scenes Annotation")["id"]
    keys = [key for _, key in demo.dataset_rows(demo.dataset("Street Scenes")["id"])[:3]]
    return {
        "project": {"scope": "project", "target_id": street,
                    "params": {"label_details": True, "media_type_override": "IMAGE"},
                    "filters": {"workflow_status": "Done",
                                "last_activity_at": ["2020-01-01", None]}},
        "dataset": {"scope": "dataset", "target_id": demo.dataset("News Articles")["id"],
                    "params": {"metadata_fields": True}, "task_name": "code panel"},
        "catalog": {"scope": "catalog", "params": {"data_row_details": True},
                    "filters": {"global_keys": keys}},
        "slice": {"scope": "slice", "target_id": demo.slice("All support chats")["id"],
                  "params": {"attachments": True}},
        "model_run": {"scope": "model_run", "target_id": demo.model_run("baseline-v1")["id"],
                      "params": {"predictions": True}},
        "data_rows": {"scope": "data_rows", "params": {}, "filters": {"global_keys": keys}},
    }


def run_sdk_code(config: dict[str, Any], server: LocalServer,
                 monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("LABELBOX_API_KEY", server.api_key)
    request = ExportRequest.from_config(config)
    namespace: dict[str, Any] = {}
    # The code is ours (rendered from the form); running it is the point of the test.
    exec(render_code(request, "sdk", server.endpoint), namespace)
    task = namespace["export_task"]
    assert task.status == "COMPLETE"
    return [row.json["data_row"]["id"] for row in task.get_buffered_stream()]


def client_rows(config: dict[str, Any], server: LocalServer) -> list[str]:
    with Client(api_key=server.api_key, endpoint=server.endpoint) as client:
        task = ExportRequest.from_config(config).run(client)
        task.wait_till_done()
        return [row.json["data_row"]["id"] for row in task.get_stream()]


SCOPES = ["project", "dataset", "catalog", "slice", "model_run", "data_rows"]


@pytest.mark.parametrize("scope", SCOPES)
def test_sdk_flavour_runs_under_labelbox_7(scope: str, demo: Demo, server: LocalServer,
                                           monkeypatch: pytest.MonkeyPatch):
    if not lb.__version__.startswith("7."):
        pytest.fail(f"the main environment should have labelbox 7.x, has {lb.__version__}")
    config = configs(demo)[scope]
    rows = run_sdk_code(config, server, monkeypatch)
    assert rows, f"{scope}: the SDK exported no rows"
    assert sorted(rows) == sorted(client_rows(config, server))


@pytest.mark.sdk5
@pytest.mark.parametrize("scope", SCOPES)
def test_sdk_flavour_runs_under_labelbox_5(scope: str, demo: Demo, server: LocalServer,
                                           monkeypatch: pytest.MonkeyPatch):
    assert lb.__version__ == "5.2.1", f"run with .venv-sdk5 and -m sdk5, not {lb.__version__}"
    config = configs(demo)[scope]
    rows = run_sdk_code(config, server, monkeypatch)
    assert rows, f"{scope}: the SDK exported no rows"
    assert sorted(rows) == sorted(client_rows(config, server))
