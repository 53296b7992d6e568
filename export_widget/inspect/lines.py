"""Committed NDJSON lines as Arrow chunks: the one way the inspection layer reads an export.

A source is a `Spool` (read through its files, so a spool that is still growing can be read
while its writer appends: only the lines its count has published are read) or a plain NDJSON
file. A chunk is an Arrow table `(line int64, json large_string)` built straight from the file
bytes and the line offsets, with no Python work per line; each `json` value keeps its
trailing newline, which JSON parsers and substring search ignore.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

CHUNK_LINES = 50_000
CHUNK_BYTES = 64 << 20  # a chunk never holds more than this much JSON (unless one line does)
_INDEX_BLOCK = 1 << 16  # index entries read per pread
BATCH_LINES = 2048


class SpoolFiles(Protocol):
    """What is read of a spool: its two files and how many lines are published."""

    @property
    def data_path(self) -> Path: ...

    @property
    def index_path(self) -> Path: ...

    @property
    def count(self) -> int: ...


Source = SpoolFiles | str | os.PathLike[str]


@dataclass(frozen=True)
class Snapshot:
    """The committed lines of a source at one moment: `count` lines, ending at `ends[i]`."""

    data_path: Path
    count: int
    index_path: Path | None  # None: a plain NDJSON file, ends computed once
    _ends: np.ndarray[Any, np.dtype[np.int64]] | None = None

    def ends(self, start: int, stop: int) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Byte offsets where lines [start, stop) end (exclusive)."""
        if self._ends is not None:
            return self._ends[start:stop]
        assert self.index_path is not None
        with open(self.index_path, "rb") as f:
            raw = os.pread(f.fileno(), (stop - start) * 8, start * 8)
        return np.frombuffer(raw, dtype="<u8").astype(np.int64)

    def start_of(self, line: int) -> int:
        return 0 if line == 0 else int(self.ends(line - 1, line)[0])

    def byte_size(self) -> int:
        return self.start_of(self.count)


def snapshot(source: Source) -> Snapshot:
    """The lines committed now; later appends are not seen by this snapshot."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"source: no NDJSON file at {path}")
        ends = _line_ends(path)
        return Snapshot(path, len(ends), None, ends)
    count = source.count  # read first: the index and data hold at least this many lines
    return Snapshot(Path(source.data_path), count, Path(source.index_path))


def _line_ends(path: Path) -> np.ndarray[Any, np.dtype[np.int64]]:
    parts: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    pos = 0
    with open(path, "rb") as f:
        while block := f.read(CHUNK_BYTES):
            found = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            parts.append(found.astype(np.int64) + pos + 1)
            pos += len(block)
    ends = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if pos and (not len(ends) or ends[-1] != pos):
        ends = np.append(ends, pos)  # a last line without its newline
    return ends


def chunks(snap: Snapshot, start: int = 0, stop: int | None = None,
           max_lines: int = CHUNK_LINES, max_bytes: int = CHUNK_BYTES) -> Iterator[pa.Table]:
    """Arrow tables `(line, json)` over lines [start, stop) of the snapshot, in order."""
    end = snap.count if stop is None else min(stop, snap.count)
    if start < 0:
        raise ValueError(f"start: must be 0 or more, got {start}")
    with open(snap.data_path, "rb") as f:
        fd = f.fileno()
        pos = start
        while pos < end:
            block_ends = snap.ends(pos, min(end, pos + min(max_lines, _INDEX_BLOCK)))
            first = snap.start_of(pos)
            # As many lines as fit in max_bytes (at least one).
            n = max(1, int(np.searchsorted(block_ends, first + max_bytes, side="right")))
            block_ends = block_ends[:n]
            blob = os.pread(fd, int(block_ends[-1]) - first, first)
            offsets = np.concatenate(([0], block_ends - first)).astype(np.int64)
            json = pa.LargeStringArray.from_buffers(
                n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(blob))
            lines = pa.array(np.arange(pos, pos + n, dtype=np.int64))
            table = pa.table({"line": lines, "json": json})
            # Several record batches (zero-copy slices), so DuckDB scans them in parallel.
            yield pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_LINES))
            pos += n
