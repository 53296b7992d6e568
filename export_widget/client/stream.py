"""Streams over an export task's NDJSON files: lines come out as the bytes arrive.

Offsets are byte offsets into the UTF-8 file, lines are 0-based. A `Stream` walks the
server's chunks (`exportFileFromOffset` from its start position, then `end + 1`), downloads
each with httpx streaming in a thread that runs a few MiB ahead of the reader (`prefetch`), and
hands whole lines to a converter as soon as they are complete; memory holds those few MiB and
one partial line, whatever the export's size.

`with_offset(n)` where n falls inside a line starts at the next line boundary: converters only
ever see whole JSON lines (the SDK's old Stream yielded a fragment there).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import orjson

from ..jsontypes import Json
from .api import ExportApi, Header, StreamType
from .errors import ExportTaskException
from .prefetch import ChunkPrefetch
from .progress import read_with_bar
from .transport import ChunkInfo

__all__ = ["Header", "StreamType"]  # re-exported: their home is `api`

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Line(NamedTuple):
    """One whole NDJSON line (without its newline) and where it sits in the file.

    A named tuple: one is made per exported row, and a frozen dataclass cost three times as
    much to make (1 us a line)."""

    data: bytes
    offset: int
    line: int
    last_in_chunk: bool = False


@dataclass(frozen=True)
class StreamContext:
    task_id: str
    stream_type: StreamType
    header: Header | None


class Converter(Protocol[T_co]):
    def convert(self, lines: Iterator[Line], ctx: StreamContext) -> Iterator[T_co]: ...


class JsonConverterOutput:
    """One exported row: `json_str` as sent, `json` parsed on first use.

    It keeps the line's bytes: `json` parses them as they are, and `json_str` decodes
    them only when read (a reader of `.json` never paid for the text). Slotted: one is
    made per row."""

    __slots__ = ("_parsed", "_raw", "_text", "current_line", "current_offset")

    def __init__(self, current_offset: int, current_line: int, json_str: str | bytes) -> None:
        self.current_offset = current_offset
        self.current_line = current_line
        self._raw: bytes | None = json_str if isinstance(json_str, bytes) else None
        self._text: str | None = json_str if isinstance(json_str, str) else None
        self._parsed: Any = _UNPARSED

    @property
    def json_str(self) -> str:
        if self._text is None:
            assert self._raw is not None
            self._text = self._raw.decode("utf-8")
        return self._text

    @property
    def json(self) -> Json:
        if self._parsed is _UNPARSED:
            self._parsed = orjson.loads(self._raw if self._raw is not None else self.json_str)
        row: Json = self._parsed
        return row

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JsonConverterOutput):
            return NotImplemented
        return (self.current_offset, self.current_line, self.json_str) == (
            other.current_offset, other.current_line, other.json_str)

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable like the SDK's

    def __repr__(self) -> str:
        return (f"JsonConverterOutput(current_offset={self.current_offset}, "
                f"current_line={self.current_line}, json_str={self.json_str!r})")


_UNPARSED: Any = object()


class JsonConverter:
    """Yields every line as a `JsonConverterOutput` (byte offset, line number, text)."""

    def convert(self, lines: Iterator[Line], ctx: StreamContext) -> Iterator[JsonConverterOutput]:
        for ln in lines:
            yield JsonConverterOutput(ln.offset, ln.line, ln.data)


class LineConverter:
    """Yields each `Line` as it arrived (raw bytes, byte offset, line number): for callers
    that store rows rather than read them, so nothing is decoded or parsed."""

    def convert(self, lines: Iterator[Line], ctx: StreamContext) -> Iterator[Line]:
        return lines


@dataclass(frozen=True)
class FileConverterOutput:
    file_path: Path
    total_size: int | None
    total_lines: int | None
    current_offset: int
    current_line: int
    bytes_written: int


@dataclass
class FileConverter:
    """Writes the lines (with newlines) to `file_path`; yields progress once per chunk.

    `bytes_written` counts bytes (the SDK counted characters) written since the last output.
    """

    file_path: str | Path
    _written: int = field(default=0, init=False)

    def convert(self, lines: Iterator[Line], ctx: StreamContext) -> Iterator[FileConverterOutput]:
        path = Path(self.file_path)
        total_size = ctx.header.total_size if ctx.header else None
        total_lines = ctx.header.total_lines if ctx.header else None
        with path.open("wb") as out:
            pending = 0
            for ln in lines:
                out.write(ln.data)
                out.write(b"\n")
                pending += len(ln.data) + 1
                if ln.last_in_chunk:
                    out.flush()
                    self._written += pending
                    yield FileConverterOutput(path, total_size, total_lines,
                                              ln.offset + len(ln.data), ln.line, pending)
                    pending = 0


@dataclass(frozen=True)
class _Start:
    """Where a stream begins: a byte offset or a line number."""

    offset: int | None = None
    line: int | None = None


class Stream(Generic[T]):
    """Iterable over one stream of a task, through a converter. Chain `with_offset`/`with_line`.

    A live stream polls the task's status by id through the api: it never changes the
    `ExportTask` it came from, so another thread may refresh that one at will.
    """

    def __init__(self, api: ExportApi, task_id: str, stream_type: StreamType,
                 converter: Converter[T], *, header: Header | None = None, live: bool = False,
                 poll_interval: float = 0.3, progress: bool = False) -> None:
        self._api = api
        self._task_id = task_id
        self._stream_type = stream_type
        self._converter = converter
        self._live = live
        self._poll = poll_interval
        self._start = _Start(offset=0)
        self._header = header
        self._progress = progress

    def with_offset(self, offset: int) -> Stream[T]:
        """Start at byte `offset` (or at the next line start if `offset` is inside a line)."""
        self._start = self._checked("offset", offset, lambda h: h.total_size)
        return self

    def with_line(self, line: int) -> Stream[T]:
        """Start at 0-based `line`: `with_line(3)` yields the 4th line first."""
        self._start = self._checked("line", line, lambda h: h.total_lines)
        return self

    def _checked(self, what: str, value: int, total: Callable[[Header], int]) -> _Start:
        if value < 0:
            raise ValueError(f"{what}: must be >= 0, got {value}")
        limit = total(self._header) if self._header else 0
        if not self._live and value >= limit:
            raise ValueError(f"{what} is out of range, max {what} is {limit - 1}")
        return _Start(**{what: value})

    def __iter__(self) -> Iterator[T]:
        ctx = StreamContext(self._task_id, self._stream_type, self._header)
        lines = self._lines()
        if self._progress:
            lines = read_with_bar(lines, self._task_id, self._header)
        return self._converter.convert(lines, ctx)

    def start(self, stream_handler: Callable[[T], Any] | None = None) -> None:
        """Consume the whole stream, calling `stream_handler` on each output."""
        for output in self:
            if stream_handler is not None:
                stream_handler(output)

    # --- reading ---

    def _lines(self) -> Iterator[Line]:
        info, drop_first = self._first_chunk()
        if info is not None:
            reader = _LineReader(self._api, self._task_id, self._stream_type, self._start)
            # The next chunk downloads while this one is split and parsed: a thread walks
            # the chunks at most a few MiB ahead (see `prefetch`).
            with ChunkPrefetch(lambda stop: self._chunks(info, stop),
                               lambda chunk: self._api.download(chunk,
                                                                refetch=reader.refetch),
                               name=f"export-prefetch-{self._task_id}") as ahead:
                for item in ahead:
                    if isinstance(item, ChunkInfo):
                        yield from reader.end_chunk()
                        reader.begin_chunk(item, drop_first)
                        drop_first = False
                    else:
                        yield from reader.feed(item)
                yield from reader.end_chunk()
        if self._live and self._status() == "FAILED":
            raise ExportTaskException("Task failed")

    def _chunks(self, first: ChunkInfo, stop: threading.Event) -> Iterator[ChunkInfo]:
        """`first` and every chunk after it (run by the prefetch thread)."""
        info: ChunkInfo | None = first
        while info is not None and not stop.is_set():
            yield info
            info = self._next_chunk(info.end + 1, stop)

    def _status(self) -> str:
        return str(self._api.get_task(self._task_id).get("status") or "UNKNOWN")

    def _first_chunk(self) -> tuple[ChunkInfo | None, bool]:
        start = self._start
        if start.line is not None:
            line = start.line
            info = self._wait_for(lambda: self._from_line(line),
                                  lambda h: line < h.total_lines, "line", line)
            return info, False
        offset = start.offset or 0
        info = self._wait_for(lambda: self._from_offset(offset),
                              lambda h: offset < h.total_size, "offset", offset)
        if info is None or offset == 0:
            return info, False
        if info.start != offset:
            # A server that answers with the chunk containing the offset starts it on a line.
            return info, False
        line_head = self._from_line(info.line_start)
        at_line_start = line_head is not None and line_head.start == offset
        return info, not at_line_start

    def _next_chunk(self, offset: int, stop: threading.Event) -> ChunkInfo | None:
        if not self._live:
            total = self._header.total_size if self._header else 0
            return self._from_offset(offset) if offset < total else None
        return self._wait_for(lambda: self._from_offset(offset),
                              lambda h: offset < h.total_size, None, offset, stop)

    def _wait_for(self, fetch: Callable[[], ChunkInfo | None], ready: Callable[[Header], bool],
                  what: str | None, position: int | None,
                  stop: threading.Event | None = None) -> ChunkInfo | None:
        """Fetch the chunk once the stream holds `position`; in live mode wait for it (until
        `stop` is set: then None)."""
        while stop is None or not stop.is_set():
            known = self._header
            if self._live and known is not None and ready(known):
                # A stream's committed bytes only grow: a header that held the position still
                # does, so only a reader that caught up asks for a new one (half the calls).
                return fetch()
            header = self._current_header()
            if header is not None and ready(header):
                return fetch()
            if not self._live or self._status() != "IN_PROGRESS":
                if self._live:
                    header = self._current_header()  # the last commit may land with the status
                    if header is not None and ready(header):
                        return fetch()
                if what is None or (self._live and position == 0):
                    return None  # the end, or a live export that produced no rows
                limit = 0 if header is None else (
                    header.total_lines if what == "line" else header.total_size)
                raise ValueError(f"{what} is out of range, max {what} is {limit - 1}")
            if stop is None:
                time.sleep(self._poll)
            else:
                stop.wait(self._poll)
        return None

    def _current_header(self) -> Header | None:
        if self._live:  # with no header for a running task, this waits for its end
            self._header = self._api.header_so_far(self._task_id, self._stream_type)
        return self._header

    def _from_offset(self, offset: int) -> ChunkInfo | None:
        return self._api.file_from_offset(self._task_id, self._stream_type, offset)

    def _from_line(self, line: int) -> ChunkInfo | None:
        return self._api.file_from_line(self._task_id, self._stream_type, line)


class _LineReader:
    """Splits a stream's bytes, chunk by chunk, into whole lines as they arrive, carrying a
    partial line from one piece (or chunk) to the next."""

    def __init__(self, api: ExportApi, task_id: str, stream_type: StreamType,
                 start: _Start) -> None:
        self._api = api
        self._task_id = task_id
        self._stream_type = stream_type
        self._min_line = start.line if start.line is not None else -1
        self._min_offset = start.offset if start.offset is not None else -1
        self._partial = bytearray()
        self._partial_offset = 0
        self._partial_line = 0
        self._chunk: ChunkInfo | None = None
        self._skipping = False

    def begin_chunk(self, info: ChunkInfo, drop_first: bool) -> None:
        if not self._partial:
            self._partial_offset = info.start
            self._partial_line = info.line_start
        self._chunk = info
        self._skipping = drop_first

    def feed(self, piece: bytes) -> Iterator[Line]:
        """The lines `piece` completes."""
        info = self._chunk
        assert info is not None, "a piece before its chunk"
        # One split in C per piece: per line, Python only counts offsets.
        parts = piece.split(b"\n")
        rest = parts.pop()  # after the piece's last newline: the start of a later line
        if parts and self._partial:
            self._partial += parts[0]
            parts[0] = bytes(self._partial)
            self._partial.clear()
        offset, line_no = self._partial_offset, self._partial_line
        min_line, min_offset, chunk_end = self._min_line, self._min_offset, info.end
        for data in parts:
            end = offset + len(data)
            if self._skipping:
                self._skipping = False
            elif line_no >= min_line and offset >= min_offset and data:
                yield Line(data, offset, line_no, end >= chunk_end)
            offset, line_no = end + 1, line_no + 1
        self._partial_offset, self._partial_line = offset, line_no
        if rest:
            self._partial += rest

    def end_chunk(self) -> Iterator[Line]:
        """After a chunk's last piece: its last line, when the stream ends without a
        newline."""
        info, self._chunk = self._chunk, None
        if info is not None and self._partial and info.end + 1 >= self._final_size(info):
            data = bytes(self._partial)
            self._partial.clear()
            yield Line(data, self._partial_offset, self._partial_line, True)

    def _final_size(self, info: ChunkInfo) -> int:
        header = self._api.header(self._task_id, self._stream_type)
        return header.total_size if header else info.end + 1

    def refetch(self, offset: int) -> ChunkInfo | None:
        """A freshly signed URL for the chunk from `offset` (the old one was refused)."""
        return self._api.file_from_offset(self._task_id, self._stream_type, offset)


@dataclass(frozen=True)
class BufferedJsonConverterOutput:
    json: Json


class BufferedStream:
    """The SDK 6/7 `get_buffered_stream` shape (`for o in s: o.json`), streamed for real."""

    def __init__(self, stream: Stream[JsonConverterOutput]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[BufferedJsonConverterOutput]:
        for out in self._stream:
            yield BufferedJsonConverterOutput(out.json)

    def start(self, stream_handler: Callable[[BufferedJsonConverterOutput], Any] | None = None
              ) -> None:
        for output in self:
            if stream_handler is not None:
                stream_handler(output)
