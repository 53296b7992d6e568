"""A bigger export: live reading while the task runs, multi-chunk streams, timeouts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from export_widget.client import Client, ExportTask, ExportTimeoutError, Project, StreamType
from export_widget.client.stream import Header
from export_widget.server.runner import LocalServer, start_local_server

from .conftest import finish
from .recording_proxy import RecordingProxy

ROWS = 20_000
PARAMS = {"attachments": True, "metadata_fields": True, "embeddings": True,
          "data_row_details": True, "project_details": True, "label_details": True,
          "performance_details": True}

pytestmark = pytest.mark.slow
_NO_LINES = Header(0, 0)


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data_dir: Path = tmp_path_factory.mktemp("big")
    with start_local_server(db_url=f"sqlite:///{data_dir / 'store.sqlite'}", demo=True,
                            rows=ROWS, data_dir=data_dir) as srv:
        yield srv


@pytest.fixture(scope="module")
def big_client(big_server: LocalServer) -> Iterator[Client]:
    with Client(api_key=big_server.api_key, endpoint=big_server.endpoint) as c:
        yield c


@pytest.fixture(scope="module")
def large(big_client: Client) -> Project:
    return max(big_client.get_projects(), key=lambda p: p.data_row_count)


@pytest.fixture(scope="module")
def done(large: Project) -> ExportTask:
    return finish(large.export(params={"data_row_details": True}))


def test_live_read_yields_rows_before_the_task_completes(big_client: Client,
                                                         large: Project) -> None:
    task = large.export(params=PARAMS)
    statuses_at_rows: list[str] = []
    lines: list[int] = []
    probe = ExportTask.get_task(big_client, task.uid)
    for out in task.get_stream(live=True, poll_interval=0.1):
        if len(lines) % 2_000 == 0:
            probe.refresh()
            statuses_at_rows.append(probe.status)
        lines.append(out.current_line)
    assert statuses_at_rows[0] == "IN_PROGRESS"  # the first row came while it still ran
    probe.refresh()
    assert probe.status == "COMPLETE"
    assert lines == list(range(probe.get_total_lines(StreamType.RESULT) or 0))
    assert len(lines) >= ROWS


def test_wait_till_done_timeout_raises_instead_of_returning(large: Project) -> None:
    task = large.export(params=PARAMS)
    with pytest.raises(ExportTimeoutError, match=r"still IN_PROGRESS after 0\.05 s") as caught:
        task.wait_till_done(timeout_seconds=0.05)
    assert isinstance(caught.value, TimeoutError)
    finish(task)  # and the task itself carries on to completion


def test_large_stream_spans_several_chunks_in_order(big_client: Client, done: ExportTask
                                                    ) -> None:
    chunks = set()
    total = done.get_total_file_size(StreamType.RESULT) or 0
    offset = 0
    while offset < total:
        info = big_client.api.file_from_offset(done.uid, StreamType.RESULT, offset)
        assert info is not None
        chunks.add(info.start)
        offset = info.end + 1
    assert len(chunks) > 1
    previous = -1
    count = 0
    for out in done.get_stream():
        assert out.current_line == previous + 1
        previous = out.current_line
        count += 1
    assert count == done.get_total_lines(StreamType.RESULT)


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
def test_with_line_across_chunks(done: ExportTask, fraction: float) -> None:
    total = done.get_total_lines(StreamType.RESULT) or 0
    line = min(total - 1, int(total * fraction))
    outputs = iter(done.get_stream().with_line(line))
    first = next(outputs)
    assert first.current_line == line
    assert sum(1 for _ in outputs) == total - line - 1


def test_live_read_waits_for_completion_when_the_server_has_no_running_header(
        big_server: LocalServer, big_client: Client, large: Project) -> None:
    """Labelbox's own server answers no header for a running task: fall back to waiting."""
    proxy = RecordingProxy(big_server.base_url)
    proxy.hide_running_headers = True
    try:
        with Client(api_key=big_server.api_key, endpoint=proxy.endpoint) as via_proxy:
            task = via_proxy.get_project(large.uid).export(params=PARAMS)
            probe = ExportTask.get_task(big_client, task.uid)
            first_status = None
            count = 0
            for _ in task.get_stream(live=True, poll_interval=0.1):
                if first_status is None:
                    probe.refresh()
                    first_status = probe.status
                count += 1
        assert proxy.hidden_headers > 0  # the reader did meet a running task with no header
        assert first_status == "COMPLETE"
        assert count == probe.get_total_lines(StreamType.RESULT)
    finally:
        proxy.close()


def test_live_read_of_a_failed_task_yields_what_was_committed_then_raises(
        tmp_path: Path) -> None:
    """The server stops mid-export (the task ends FAILED, its committed lines kept)."""
    db_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with start_local_server(db_url=db_url, demo=True, rows=ROWS, data_dir=tmp_path) as first:
        key = first.api_key
        with Client(api_key=key, endpoint=first.endpoint) as c:
            project = max(c.get_projects(), key=lambda p: p.data_row_count)
            task = project.export(params=PARAMS)
            while (c.api.header(task.uid, StreamType.RESULT) or _NO_LINES).total_lines == 0:
                time.sleep(0.05)
    with start_local_server(db_url=db_url, demo=True, rows=ROWS, data_dir=tmp_path,
                            api_key=key) as second, \
            Client(api_key=key, endpoint=second.endpoint) as c:
        failed = ExportTask.get_task(c, task.uid)
        assert failed.status == "FAILED"
        with pytest.raises(ExportTask.ExportTaskException, match=r"^Task failed$"):
            failed.get_stream()
        committed = c.api.header(failed.uid, StreamType.RESULT)
        assert committed is not None and 0 < committed.total_lines < ROWS
        lines: list[int] = []
        with pytest.raises(ExportTask.ExportTaskException, match=r"^Task failed$"):
            for out in failed.get_stream(live=True):
                lines.append(out.current_line)
        assert lines == list(range(committed.total_lines))


def test_cancel_stops_the_server_task_and_keeps_its_committed_lines(
        big_client: Client, large: Project) -> None:
    task = large.export(params=PARAMS)
    first = next(iter(task.get_stream(live=True, poll_interval=0.05)))
    assert first.current_line == 0
    assert task.cancel() == "CANCELED"
    task.refresh()
    assert task.status == "CANCELED"
    header = big_client.api.header(task.uid, StreamType.RESULT)  # what the server kept
    assert header is not None and 0 < header.total_lines < ROWS
