"""labelbox 5.2.1, unmodified: get_stream, with_offset / with_line, converters, export_v2.

Run in the 5.2.1 environment: `.venv-sdk5/bin/python -m pytest -m sdk5 tests/sdk`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import labelbox as lb
import orjson
import pytest

# The SDK 7.x tests cover the team server; these stay on the embedded one.
pytestmark = [pytest.mark.sdk5, pytest.mark.parametrize("server", ["sqlite"], indirect=True)]

try:  # only labelbox <= 5.2.1 has the old stream API; the main env never runs these tests
    from labelbox import FileConverter, JsonConverter
except ImportError:
    FileConverter = JsonConverter = None


@pytest.fixture(scope="module")
def text_export(lb_client: Any, demo: Any) -> Any:
    """A finished project export of the text project (multibyte text, many lines)."""
    project = lb_client.get_project(demo.project("News NER")["id"])
    task = project.export(params={"data_row_details": True})
    task.wait_till_done(timeout_seconds=120)
    assert task.status == "COMPLETE"
    return task


@pytest.fixture(scope="module")
def raw_lines(text_export: Any, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The RESULT stream's exact bytes, fetched by FileConverter, split into lines."""
    path: Path = tmp_path_factory.mktemp("sdk5") / "result.ndjson"
    outputs = list(text_export.get_stream(converter=FileConverter(file_path=str(path))))
    assert outputs and outputs[-1].total_lines == text_export.get_total_lines(lb.StreamType.RESULT)
    data = path.read_bytes()
    assert len(data) == text_export.get_total_file_size(lb.StreamType.RESULT)
    return data.splitlines(keepends=True)


def _offsets(lines: list[bytes]) -> list[int]:
    out, position = [], 0
    for line in lines:
        out.append(position)
        position += len(line)
    return out


def _jsons(stream: Any) -> list[dict[str, Any]]:
    return [orjson.loads(out.json_str) for out in stream]


def test_get_stream_with_json_converter_yields_every_row(
    text_export: Any, raw_lines: list[bytes]
) -> None:
    rows = _jsons(text_export.get_stream(converter=JsonConverter()))
    assert rows == [orjson.loads(line) for line in raw_lines]
    assert len(rows) == text_export.get_total_lines(lb.StreamType.RESULT)


def test_file_converter_writes_exactly_the_stream(raw_lines: list[bytes]) -> None:
    assert all(line.endswith(b"\n") and line.strip() for line in raw_lines)


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_with_offset_starts_at_that_line(
    text_export: Any, raw_lines: list[bytes], which: str
) -> None:
    index = {"first": 0, "middle": len(raw_lines) // 2, "last": len(raw_lines) - 1}[which]
    offset = _offsets(raw_lines)[index]
    rows = _jsons(text_export.get_stream(converter=JsonConverter()).with_offset(offset))
    assert rows == [orjson.loads(line) for line in raw_lines[index:]]


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_with_line_starts_at_that_line(
    text_export: Any, raw_lines: list[bytes], which: str
) -> None:
    index = {"first": 0, "middle": len(raw_lines) // 2, "last": len(raw_lines) - 1}[which]
    outputs = list(text_export.get_stream(converter=JsonConverter()).with_line(index))
    assert [orjson.loads(o.json_str) for o in outputs] == [
        orjson.loads(line) for line in raw_lines[index:]]
    assert outputs[0].current_line == index


def test_with_offset_past_the_end_raises(text_export: Any) -> None:
    size = text_export.get_total_file_size(lb.StreamType.RESULT)
    with pytest.raises(ValueError, match=f"offset is out of range, max offset is {size - 1}"):
        list(text_export.get_stream().with_offset(size))


def test_with_line_past_the_end_raises(text_export: Any) -> None:
    lines = text_export.get_total_lines(lb.StreamType.RESULT)
    with pytest.raises(ValueError, match=f"line is out of range, max line is {lines - 1}"):
        list(text_export.get_stream().with_line(lines))


def test_export_v2_result_and_errors(lb_client: Any, demo: Any) -> None:
    dataset = demo.dataset("News Articles")
    task = lb_client.get_dataset(dataset["id"]).export_v2()
    task.wait_till_done()
    assert task.status == "COMPLETE"
    assert len(task.result) == dataset["rowCount"]
    assert task.errors is None
    missing = "cmissing0000000000000000b"
    failed = lb_client.get_catalog().export_v2(filters={"data_row_ids": [missing]})
    failed.wait_till_done()
    assert failed.result == []
    assert failed.errors and missing in str(failed.errors[0])


def test_get_stream_of_the_errors_stream(lb_client: Any) -> None:
    missing = "cmissing0000000000000000c"
    task = lb_client.get_catalog().export(filters={"data_row_ids": [missing]})
    task.wait_till_done()
    errors = _jsons(task.get_stream(converter=JsonConverter(),
                                    stream_type=lb.StreamType.ERRORS))
    assert len(errors) == 1 and missing in str(errors[0])
