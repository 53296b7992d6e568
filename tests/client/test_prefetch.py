"""Streams download the next chunks in a thread while the reader splits and parses: lines come
out in order and once each, a download cut mid-chunk resumes, and closing the stream ends the
thread. The multi-chunk tests shrink the real server's chunks so a small export spans many."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from export_widget.client import Client, ExportTask, LineConverter, StreamType
from export_widget.client.errors import NetworkError
from export_widget.client.prefetch import ChunkPrefetch
from export_widget.client.transport import ChunkInfo, RetryPolicy
from export_widget.server.runner import LocalServer

from .conftest import finish
from .recording_proxy import RecordingProxy

SMALL_CHUNK = 3000


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("export-prefetch")]


@pytest.fixture
def small_chunks(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.engine, "_chunk_bytes", SMALL_CHUNK)


@pytest.fixture(scope="module")
def task(client: Client) -> ExportTask:
    return finish(client.get_catalog().export(params={"attachments": True,
                                                      "label_details": True}))


@pytest.fixture(scope="module")
def file_lines(task: ExportTask, client: Client) -> list[bytes]:
    """The RESULT file's lines, read with the server's ordinary chunks."""
    return [line.data for line in task.get_stream(LineConverter())]


def _chunk_starts(proxy: RecordingProxy) -> list[str]:
    return [c.variables["offset"] for c in proxy.take()
            if c.name == "GetExportFileFromOffsetPyApi"]


@pytest.mark.usefixtures("small_chunks")
def test_many_chunks_come_out_in_order_once_each(server: LocalServer, task: ExportTask,
                                                 file_lines: list[bytes]) -> None:
    proxy = RecordingProxy(server.base_url)
    try:
        with Client(api_key=server.api_key, endpoint=proxy.endpoint) as via_proxy:
            got = list(via_proxy.get_task(task.uid).get_stream(LineConverter()))
        assert len(_chunk_starts(proxy)) > 5  # the test is about many chunks
    finally:
        proxy.close()
    assert [line.data for line in got] == file_lines
    assert [line.line for line in got] == list(range(len(file_lines)))
    offsets = [0]
    for data in file_lines[:-1]:
        offsets.append(offsets[-1] + len(data) + 1)
    assert [line.offset for line in got] == offsets
    assert not _prefetch_threads()


@pytest.mark.usefixtures("small_chunks")
def test_downloads_cut_mid_chunk_resume_and_yield_each_line_exactly_once(
    server: LocalServer, task: ExportTask, file_lines: list[bytes]
) -> None:
    proxy = RecordingProxy(server.base_url)
    try:
        with Client(api_key=server.api_key, endpoint=proxy.endpoint,
                    retry=RetryPolicy(attempts=4, backoff=0.01)) as via_proxy:
            stream = via_proxy.get_task(task.uid).get_stream()
            proxy.cut_downloads = 4
            got = [(out.current_line, out.json_str.encode()) for out in stream.with_line(2)]
        cut = [d for d in proxy.downloads if d[1] is not None]
        assert len(cut) >= 4  # each cut answer was resumed with a Range request
    finally:
        proxy.close()
    assert got == list(enumerate(file_lines))[2:]


@pytest.mark.parametrize("live", [False, True], ids=["finished", "live"])
@pytest.mark.usefixtures("small_chunks")
def test_closing_a_stream_midway_ends_its_download_thread(task: ExportTask,
                                                          live: bool) -> None:
    lines = iter(task.get_stream(LineConverter(), StreamType.RESULT, live=live))
    next(lines)
    assert len(_prefetch_threads()) == 1
    lines.close()  # what leaving a for loop (or garbage collection) does
    assert not _prefetch_threads()


def _pieces(count: int, size: int, made: list[int]) -> Iterator[bytes]:
    for i in range(count):
        made.append(i)
        yield bytes([65 + i % 26]) * size


def test_the_thread_stays_within_its_byte_budget() -> None:
    made: list[int] = []
    chunk = ChunkInfo(0, 100 * 1000 - 1, 0, 0, "unused")
    ahead = ChunkPrefetch(lambda stop: iter([chunk]), lambda info: _pieces(100, 1000, made),
                          max_bytes=10_000)
    with ahead:
        items = iter(ahead)
        assert next(items) == chunk
        for read in range(1, 40):
            next(items)
            time.sleep(0.002)  # a slow reader: the thread must wait, not run ahead
            assert len(made) - read <= 10 + 1  # in the queue, plus the one being put
        rest = list(items)
    assert len(rest) == 100 - 39 and not ahead.alive


def test_a_download_error_reaches_the_reader_after_the_bytes_before_it() -> None:
    def failing(info: ChunkInfo) -> Iterator[bytes]:
        yield b"abc\n"
        raise NetworkError("chunk download failed at byte 4")

    chunk = ChunkInfo(0, 9, 0, 1, "unused")
    with ChunkPrefetch(lambda stop: iter([chunk]), failing) as ahead:
        items = iter(ahead)
        assert next(items) == chunk and next(items) == b"abc\n"
        with pytest.raises(NetworkError, match="byte 4"):
            next(items)
    assert not ahead.alive


def test_close_ends_a_thread_waiting_for_room_and_closes_its_download() -> None:
    closed = threading.Event()

    def endless(info: ChunkInfo) -> Iterator[bytes]:
        try:
            while True:
                yield b"x" * 1000
        finally:
            closed.set()

    chunk = ChunkInfo(0, 10**9, 0, 0, "unused")
    ahead = ChunkPrefetch(lambda stop: iter([chunk]), endless, max_bytes=5000)
    items = iter(ahead)
    next(items)
    next(items)
    ahead.close()
    assert closed.is_set() and not ahead.alive
