"""Exports of the real demo server, spooled as the widget spools them, for the inspect tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from export_widget.client import Client, ExportTask, StreamType
from export_widget.client.stream import LineConverter
from export_widget.server.runner import LocalServer
from export_widget.spool import Spool

from .export_oracle import Export

LABELS = {"label_details": True, "project_details": True, "performance_details": True}


@pytest.fixture(scope="module")
def client(server: LocalServer) -> Iterator[Client]:
    with Client(api_key=server.api_key, endpoint=server.endpoint) as c:
        yield c


def sent_bytes(client: Client, task: ExportTask) -> bytes:
    """The RESULT stream exactly as the server serves it, chunk file by chunk file."""
    total = task.get_total_file_size(StreamType.RESULT) or 0
    out = bytearray()
    with httpx.Client() as http:
        while len(out) < total:
            info = client.api.file_from_offset(task.uid, StreamType.RESULT, len(out))
            assert info is not None
            body = http.get(info.url).content
            out += body[len(out) - info.start:]
    return bytes(out)


def spooled(client: Client, task: ExportTask) -> Export:
    task.wait_till_done(timeout_seconds=120)
    assert task.status == "COMPLETE", task.status
    spool = Spool()
    for line in task.get_stream(LineConverter()):
        spool.append([line.data])
    rows = [orjson.loads(raw) for raw in spool.iter_bytes()]
    return Export(spool, sent_bytes(client, task), rows)


def project_named(client: Client, name: str) -> Any:
    return next(p for p in client.get_projects() if p.name == name)


@pytest.fixture(scope="module")
def image_export(client: Client) -> Iterator[Export]:
    export = spooled(client, project_named(client, "Street Scenes Annotation").export(
        params=LABELS))
    yield export
    export.spool.close()


@pytest.fixture(scope="module")
def video_export(client: Client) -> Iterator[Export]:
    export = spooled(client, project_named(client, "Traffic Video Tracking").export(
        params={**LABELS, "interpolated_frames": True}))
    yield export
    export.spool.close()


@pytest.fixture(scope="module")
def catalog_export(client: Client) -> Iterator[Export]:
    export = spooled(client, client.get_catalog().export(
        params={**LABELS, "data_row_details": True, "all_projects": True}))
    yield export
    export.spool.close()


@pytest.fixture(scope="module")
def run_export(client: Client) -> Iterator[Export]:
    model = next(m for m in client.get_models() if m.name == "Street Detector")
    run = next(r for r in model.model_runs() if r.name == "baseline-v1")
    export = spooled(client, run.export(params={"predictions": True,
                                                "model_run_details": True}))
    yield export
    export.spool.close()


# -- rows of every demo project and model run, for the preview's shapes and media -----------

Row = dict[str, Any]

PROJECT_PARAMS = {"attachments": True, "metadata_fields": True, "data_row_details": True,
                  "project_details": True, "label_details": True, "performance_details": True}


def _rows(task: Any) -> list[Row]:
    task.wait_till_done(timeout_seconds=120)
    assert task.status == "COMPLETE", task.status
    return [out.json for out in task.get_stream()] if task.has_result() else []


@pytest.fixture(scope="module")
def project_rows(client: Client) -> dict[str, list[Row]]:
    """Project name -> its exported rows (every label and project param on)."""
    return {p.name: _rows(p.export(params=PROJECT_PARAMS)) for p in client.get_projects()
            if not p.name.startswith("Large")}


@pytest.fixture(scope="module")
def video_rows_interpolated(client: Client) -> list[Row]:
    project = next(p for p in client.get_projects() if p.allowed_media_type == "VIDEO")
    return _rows(project.export(params={**PROJECT_PARAMS, "interpolated_frames": True}))


@pytest.fixture(scope="module")
def run_rows(client: Client) -> dict[str, list[Row]]:
    """Model run name -> its exported rows, predictions included."""
    return {run.name: _rows(run.export(params={"predictions": True, "model_run_details": True}))
            for model in client.get_models() for run in model.model_runs()}
