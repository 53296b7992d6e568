"""Client-test fixtures: a `Client` on the shared real server, and small export helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from export_widget.client import Client, ExportTask
from export_widget.server.runner import LocalServer

Row = dict[str, Any]


@pytest.fixture(scope="session")
def client(server: LocalServer) -> Iterator[Client]:
    with Client(api_key=server.api_key, endpoint=server.endpoint) as c:
        yield c


def finish(task: ExportTask) -> ExportTask:
    task.wait_till_done(timeout_seconds=120)
    assert task.status == "COMPLETE", task.status
    return task


def rows_of(task: ExportTask) -> list[Row]:
    finish(task)
    if not task.has_result():
        return []
    return [out.json for out in task.get_stream()]
