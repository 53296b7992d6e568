"""`progress=True` draws a tqdm bar on stderr (outside Jupyter) from the task header; off by
default."""

from __future__ import annotations

import re

import pytest

from export_widget.client import Client, Project, StreamType

from .conftest import finish


@pytest.fixture(scope="module")
def project(client: Client) -> Project:
    return max(client.get_projects(), key=lambda p: p.data_row_count)


def _last_frame(err: str) -> str:
    return re.split(r"[\r\n]", err.strip())[-1]


def test_wait_till_done_shows_percent_rows_and_bytes(project: Project,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    task = project.export(params={"label_details": True})
    task.wait_till_done(timeout_seconds=120, progress=True)
    assert task.status == "COMPLETE"
    lines = task.get_total_lines(StreamType.RESULT) or 0
    last = _last_frame(capsys.readouterr().err)
    assert last.startswith(f"export {task.uid}: 100%")
    assert "100/100% [" in last and f"{lines:,} rows, " in last and "rows/s]" in last


def test_reading_a_stream_shows_rows_of_the_total_with_rate_and_bytes(
        project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    task = finish(project.export())
    capsys.readouterr()
    lines = task.get_total_lines(StreamType.RESULT) or 0
    size = task.get_total_file_size(StreamType.RESULT) or 0
    read = [o.current_line for o in task.get_stream(progress=True)]
    assert read == list(range(lines))
    last = _last_frame(capsys.readouterr().err)
    assert last.startswith(f"read {task.uid}: 100%")
    assert f"{lines}/{lines} [" in last and "row/s" in last
    assert re.search(r"B of [\d.]+[kM]?B\]$", last), last
    assert size > 0


def test_no_bar_unless_asked(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    task = project.export()
    task.wait_till_done(timeout_seconds=120)
    list(task.get_stream())
    assert capsys.readouterr().err == ""
