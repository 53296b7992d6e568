"""Streams: byte offsets, lines, converters, early exit, on rows with multibyte text."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from export_widget.client import (
    BufferedStream,
    Client,
    ExportTask,
    FileConverter,
    JsonConverter,
    JsonConverterOutput,
    LineConverter,
    StreamType,
)
from export_widget.server.runner import LocalServer

from .conftest import finish


@pytest.fixture(scope="module")
def task(client: Client) -> ExportTask:
    """A catalog export whose attachments carry multibyte text (é, —, 通信社, emoji)."""
    return finish(client.get_catalog().export(params={"attachments": True,
                                                      "label_details": True,
                                                      "all_projects": True}))


@pytest.fixture(scope="module")
def raw(client: Client, task: ExportTask) -> bytes:
    """The RESULT file as bytes, fetched chunk by chunk without the line reader."""
    out = bytearray()
    total = task.get_total_file_size(StreamType.RESULT) or 0
    while len(out) < total:
        info = client.api.file_from_offset(task.uid, StreamType.RESULT, len(out))
        assert info is not None and info.start == len(out)
        out += b"".join(client.api.download(info))
    return bytes(out)


def test_file_holds_multibyte_text(raw: bytes) -> None:
    assert len(raw.decode("utf-8")) < len(raw)  # some characters take more than one byte


def test_size_and_lines_match_the_file(task: ExportTask, raw: bytes) -> None:
    assert task.get_total_file_size(StreamType.RESULT) == len(raw)
    assert task.get_total_lines(StreamType.RESULT) == raw.count(b"\n")


def test_json_converter_yields_every_line_with_byte_offsets(task: ExportTask, raw: bytes
                                                            ) -> None:
    outputs = list(task.get_stream(JsonConverter(), StreamType.RESULT))
    lines = raw.split(b"\n")[:-1]
    assert [o.json_str.encode() for o in outputs] == lines
    for n, out in enumerate(outputs):
        assert out.current_line == n
        encoded = out.json_str.encode()
        assert raw[out.current_offset:out.current_offset + len(encoded)] == encoded
        assert out.json["data_row"]["id"]


def test_line_converter_yields_the_raw_lines_undecoded(task: ExportTask, raw: bytes) -> None:
    lines = list(task.get_stream(LineConverter(), StreamType.RESULT).with_line(1))
    assert [ln.data for ln in lines] == raw.split(b"\n")[1:-1]
    assert [ln.line for ln in lines] == list(range(1, len(lines) + 1))
    assert all(raw[ln.offset:ln.offset + len(ln.data)] == ln.data for ln in lines)


def _starts(raw: bytes) -> list[int]:
    return [0] + [i + 1 for i, b in enumerate(raw[:-1]) if b == 0x0A]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_with_line_starts_at_that_line(task: ExportTask, raw: bytes, where: str) -> None:
    total = raw.count(b"\n")
    line = {"first": 0, "middle": total // 2, "last": total - 1}[where]
    outputs = list(task.get_stream().with_line(line))
    assert outputs[0].current_line == line
    assert outputs[0].current_offset == _starts(raw)[line]
    assert len(outputs) == total - line


def test_with_line_3_yields_the_fourth_line_first(task: ExportTask, raw: bytes) -> None:
    first = next(iter(task.get_stream().with_line(3)))
    assert first.json_str.encode() == raw.split(b"\n")[3]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_with_offset_at_a_line_start(task: ExportTask, raw: bytes, where: str) -> None:
    starts = _starts(raw)
    line = {"first": 0, "middle": len(starts) // 2, "last": len(starts) - 1}[where]
    outputs = list(task.get_stream().with_offset(starts[line]))
    assert (outputs[0].current_offset, outputs[0].current_line) == (starts[line], line)
    assert len(outputs) == len(starts) - line


def test_with_offset_inside_a_line_starts_at_the_next_line(task: ExportTask, raw: bytes) -> None:
    starts = _starts(raw)
    middle = len(starts) // 2
    # Land inside a multibyte character, to be sure nothing decodes a partial line.
    inside = raw.index("—".encode(), starts[middle]) + 1
    assert inside < starts[middle + 1]
    first = next(iter(task.get_stream().with_offset(inside)))
    next_line = next(i for i, s in enumerate(starts) if s > inside)
    assert (first.current_line, first.current_offset) == (next_line, starts[next_line])


def test_with_line_past_end_raises(task: ExportTask, raw: bytes) -> None:
    total = raw.count(b"\n")
    with pytest.raises(ValueError, match=f"^line is out of range, max line is {total - 1}$"):
        task.get_stream().with_line(total)


def test_with_offset_past_end_raises(task: ExportTask, raw: bytes) -> None:
    with pytest.raises(ValueError,
                       match=f"^offset is out of range, max offset is {len(raw) - 1}$"):
        task.get_stream().with_offset(len(raw))


def test_file_converter_writes_the_exact_bytes(task: ExportTask, raw: bytes,
                                               tmp_path: Path) -> None:
    target = tmp_path / "export.ndjson"
    progress = list(task.get_stream(FileConverter(target)))
    assert target.read_bytes() == raw
    assert sum(p.bytes_written for p in progress) == len(raw)  # bytes, not characters
    assert progress[-1].total_size == len(raw)


def test_start_calls_the_handler_for_every_row(task: ExportTask, raw: bytes) -> None:
    seen: list[int] = []
    task.get_stream().start(stream_handler=lambda o: seen.append(o.current_line))
    assert seen == list(range(raw.count(b"\n")))


def test_buffered_stream_yields_parsed_rows(task: ExportTask, raw: bytes) -> None:
    stream = task.get_buffered_stream()
    assert isinstance(stream, BufferedStream)
    assert [o.json["data_row"]["id"] for o in stream] == [
        o.json["data_row"]["id"] for o in task.get_stream()]


MISSING = "cl000000000000000000missing"


@pytest.fixture(scope="module")
def missing_row_task(client: Client) -> ExportTask:
    """A project export asked for a data row that does not exist: no rows, one error line."""
    return finish(client.get_projects()[0].export(filters={"data_row_ids": [MISSING]}))


def test_errors_stream_is_readable_when_present(missing_row_task: ExportTask) -> None:
    assert missing_row_task.has_errors() and not missing_row_task.has_result()
    errors = [o.json for o in missing_row_task.get_stream(stream_type=StreamType.ERRORS)]
    assert [e["data_row_id"] for e in errors] == [MISSING]
    assert errors[0]["error"].startswith("Data row not found in project")


class OpenResponses(httpx.HTTPTransport):
    """An httpx transport that counts the responses whose body is still open; chunk downloads
    after the first wait for `hold` before their body (so they are surely still open)."""

    def __init__(self) -> None:
        super().__init__()
        self.open = 0
        self.downloads = 0
        self.hold = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        download = request.method == "GET" and request.url.path.startswith("/files/")
        self.downloads += int(download)
        response.stream = _Counted(response.stream, self, download and self.downloads > 1)
        self.open += 1
        return response


class _Counted(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream,
                 owner: OpenResponses, held: bool) -> None:
        assert isinstance(inner, httpx.SyncByteStream)
        self.inner, self.owner, self.held, self.closed = inner, owner, held, False

    def __iter__(self) -> Iterator[bytes]:
        if self.held:
            self.owner.hold.wait(10)
        yield from self.inner

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.owner.open -= 1
        self.inner.close()


def test_breaking_out_early_closes_the_download(server: LocalServer, task: ExportTask,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.engine, "_chunk_bytes", 2000)  # many chunks
    counter = OpenResponses()
    with Client(api_key=server.api_key, endpoint=server.endpoint, transport=counter) as c:
        stream = iter(c.get_task(task.uid).get_stream())
        next(stream)
        deadline = time.monotonic() + 10
        while counter.downloads < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert counter.open >= 1  # the chunk download is still being read: a leak looks so
        # The download thread waits in the held download; let it go while the stream closes.
        threading.Timer(0.2, counter.hold.set).start()
        del stream  # what a `break` out of a for loop does to the generator
        gc.collect()
        assert counter.open == 0
        assert counter.downloads <= 2  # the rest of the chunks were never asked for
        assert not [t for t in threading.enumerate() if t.name.startswith("export-prefetch")]


def test_json_converter_output_keeps_bytes_and_decodes_on_demand() -> None:
    raw = '{"text": "naïve 日本語"}'.encode()
    out = JsonConverterOutput(10, 2, raw)
    assert out.json == {"text": "naïve 日本語"}
    assert out.json_str == '{"text": "naïve 日本語"}'
    assert out == JsonConverterOutput(10, 2, out.json_str)  # built from text, as the SDK's
    assert out != JsonConverterOutput(11, 2, raw)
    assert "naïve" in repr(out) and "current_offset=10" in repr(out)
