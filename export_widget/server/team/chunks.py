"""Result streams kept in the database as chunk rows, so every server process can serve them.

A stream is a sequence of blocks: whole lines, at most about `chunk_bytes` each, stored as
one row (bytea) with its first byte offset, first line number and the start of each of its
lines. A block is written once, in the same transaction that raises the task's committed
counters, and never changes, so a reader that trusts the counters sees whole lines only.
A chunk served to a client starts at the asked offset (or line) and runs to the end of its
block and over the following whole blocks, up to `chunk_bytes`.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    event,
    select,
)

from export_widget.server.engine import Chunk
from export_widget.server.export_spec import split_lines
from export_widget.server.tasks import Committed, StreamName

team_metadata = MetaData()

export_chunks = Table(
    "export_chunks",
    team_metadata,
    Column("task_id", String(32), primary_key=True),
    Column("stream", String(8), primary_key=True),
    Column("start_offset", BigInteger, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("first_line", BigInteger, nullable=False),
    Column("line_count", Integer, nullable=False),
    # little-endian uint32: where each line starts, relative to the block's first byte
    Column("line_starts", LargeBinary, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
Index("ix_export_chunks_line", export_chunks.c.task_id, export_chunks.c.stream,
      export_chunks.c.first_line)
# NDJSON compresses well, and lz4 does it about five times faster than PostgreSQL's default
# (pglz), which made storing the chunks half of an export's time. A server built without
# lz4 keeps the default.
_LZ4 = """DO $$ BEGIN
  ALTER TABLE export_chunks ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN NULL;
END $$"""


@event.listens_for(export_chunks, "after_create")
def _compress_with_lz4(_table: Table, connection: Connection, **_kw: object) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_LZ4)


def _starts(raw: bytes) -> array[int]:
    starts = array("I")
    assert starts.itemsize == 4
    starts.frombytes(raw)
    return starts


@dataclass
class Block:
    """Lines waiting for the next commit (or read back from a row)."""

    start_offset: int
    first_line: int
    data: bytearray = field(default_factory=bytearray)
    starts: array[int] = field(default_factory=lambda: array("I"))

    def row(self, task_id: str, stream: StreamName) -> dict[str, object]:
        return {"task_id": task_id, "stream": stream.value, "start_offset": self.start_offset,
                "size": len(self.data), "first_line": self.first_line,
                "line_count": len(self.starts), "line_starts": self.starts.tobytes(),
                "data": bytes(self.data)}


class ChunkRowWriter:
    """A running task's stream: lines gather in blocks until the engine's commit takes them.

    A takeover starts from what the last owner committed: the first `committed.lines`
    lines the export yields again are the ones already stored, so they are dropped.
    """

    def __init__(self, stream: StreamName, committed: Committed, chunk_bytes: int) -> None:
        self.stream = stream
        self.size = committed.size
        self.lines = committed.lines
        self._skip = committed.lines
        self._chunk_bytes = chunk_bytes
        self._blocks: list[Block] = []

    def append_lines(self, data: bytes, lengths: Sequence[int]) -> None:
        for line in split_lines(data, lengths):
            self.append(line)

    def append(self, line: bytes) -> None:
        if self._skip:
            self._skip -= 1
            return
        block = self._blocks[-1] if self._blocks else None
        if block is None or (block.data and len(block.data) + len(line) > self._chunk_bytes):
            block = Block(self.size, self.lines)
            self._blocks.append(block)
        block.starts.append(len(block.data))
        block.data += line
        self.size += len(line)
        self.lines += 1

    def flush(self) -> Committed:
        return Committed(self.size, self.lines)

    def take(self) -> list[Block]:
        """The blocks to store with the next commit; they leave the writer."""
        blocks, self._blocks = self._blocks, []
        return blocks

    def close(self) -> None:
        self._blocks = []


def _where(task_id: str, stream: StreamName) -> ColumnElement[bool]:
    return and_(export_chunks.c.task_id == task_id, export_chunks.c.stream == stream.value)


def find_chunk_rows(
    conn: Connection, task_id: str, stream: StreamName, committed: Committed, *,
    offset: int | None = None, line: int | None = None, chunk_bytes: int,
) -> Chunk | None:
    """The chunk starting exactly at `offset` (or at `line`'s first byte), ending on a line end;
    None outside the committed part of the stream."""
    c = export_chunks.c
    head = select(c.start_offset, c.size, c.first_line, c.line_count, c.line_starts).where(
        _where(task_id, stream))
    if offset is not None:
        if not 0 <= offset < committed.size:
            return None
        row = conn.execute(head.where(c.start_offset <= offset)
                           .order_by(c.start_offset.desc()).limit(1)).first()
    elif line is not None:
        if not 0 <= line < committed.lines:
            return None
        row = conn.execute(head.where(c.first_line <= line)
                           .order_by(c.first_line.desc()).limit(1)).first()
    else:
        raise ValueError("find_chunk_rows needs an offset or a line")
    if row is None:
        return None
    starts = _starts(row.line_starts)
    if offset is not None:
        if offset >= row.start_offset + row.size:
            return None
        relative = offset - row.start_offset
        first = row.first_line + bisect.bisect_right(starts, relative) - 1
        start = offset
    else:
        assert line is not None
        first = line
        start = row.start_offset + starts[line - row.first_line]
    end = row.start_offset + row.size - 1
    last = row.first_line + row.line_count - 1
    following = conn.execute(
        select(c.start_offset, c.size, c.line_count).where(
            _where(task_id, stream), c.start_offset > row.start_offset,
            c.start_offset + c.size <= min(committed.size, start + chunk_bytes))
        .order_by(c.start_offset))
    for block in following:
        if block.start_offset != end + 1:
            break
        end += block.size
        last += block.line_count
    return Chunk(start=start, end=end, first_line=first, last_line=last)


def read_chunk_rows(
    conn: Connection, task_id: str, stream: StreamName, start: int, end: int
) -> Iterator[bytes]:
    """The stored bytes start..end (inclusive), block by block."""
    c = export_chunks.c
    rows = conn.execute(
        select(c.start_offset, c.data).where(
            _where(task_id, stream), c.start_offset <= end, c.start_offset + c.size > start)
        .order_by(c.start_offset))
    for row in rows:
        data: bytes = row.data
        yield data[max(start - row.start_offset, 0): end - row.start_offset + 1]
