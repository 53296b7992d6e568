"""Rows of every demo project and model run, exported once from the real local server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from export_widget.client import Client
from export_widget.server.runner import LocalServer

Row = dict[str, Any]

PROJECT_PARAMS = {"attachments": True, "metadata_fields": True, "data_row_details": True,
                  "project_details": True, "label_details": True, "performance_details": True}


@pytest.fixture(scope="session")
def client(server: LocalServer) -> Iterator[Client]:
    with Client(api_key=server.api_key, endpoint=server.endpoint) as c:
        yield c


def _rows(task: Any) -> list[Row]:
    task.wait_till_done(timeout_seconds=120)
    assert task.status == "COMPLETE", task.status
    return [out.json for out in task.get_stream()] if task.has_result() else []


@pytest.fixture(scope="session")
def project_rows(client: Client) -> dict[str, list[Row]]:
    """Project name -> its exported rows (every label and project param on)."""
    return {p.name: _rows(p.export(params=PROJECT_PARAMS)) for p in client.get_projects()
            if not p.name.startswith("Large")}


@pytest.fixture(scope="session")
def video_rows_interpolated(client: Client) -> list[Row]:
    project = next(p for p in client.get_projects() if p.allowed_media_type == "VIDEO")
    return _rows(project.export(params={**PROJECT_PARAMS, "interpolated_frames": True}))


@pytest.fixture(scope="session")
def run_rows(client: Client) -> dict[str, list[Row]]:
    """Model run name -> its exported rows, predictions included."""
    return {run.name: _rows(run.export(params={"predictions": True, "model_run_details": True}))
            for model in client.get_models() for run in model.model_runs()}
