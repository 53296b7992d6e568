"""A disk-backed NDJSON spool with a line index, so any page is two small reads.

One writer (the export worker) appends lines; any number of readers (message handlers,
`widget.rows()`) read pages at the same time. The data file holds the lines, each ending in
`\\n`; the index file holds, for line i, the byte offset where line i ends (8 bytes, little
endian). Readers use `os.pread`, which has no shared file position, so they need no lock; the
writer publishes a new line count only after the bytes and the index entries are written, so
a reader never sees a half-written line.
"""

from __future__ import annotations

import os
import struct
import tempfile
import threading
from collections.abc import Iterable, Iterator
from itertools import accumulate
from pathlib import Path

_ENTRY = struct.Struct("<Q")


class Spool:
    """Append-only NDJSON lines on disk; `page(line, n)` costs the same at line 0 or 10**6."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, name: str = "rows",
                 *, existing: str | None = None) -> None:
        """`existing=None` starts an empty spool (truncating any files of that name);
        `existing="read"` opens one kept on disk read-only; `existing="append"` opens one to
        continue writing it, first cutting off a line a killed writer left half-written."""
        if existing not in (None, "read", "append"):
            raise ValueError(f"existing: must be None, 'read' or 'append', got {existing!r}")
        if existing is not None and directory is None:
            raise ValueError("directory: required to open an existing spool")
        if directory is None:
            self._tmp: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(
                prefix="export-widget-spool-"
            )
            directory = self._tmp.name
        else:
            self._tmp = None
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.data_path = self.directory / f"{name}.ndjson"
        self.index_path = self.directory / f"{name}.idx"
        cloexec = getattr(os, "O_CLOEXEC", 0)
        if existing == "read":
            flags = os.O_RDONLY | cloexec
        elif existing == "append":
            flags = os.O_RDWR | os.O_CREAT | cloexec
        else:
            flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | cloexec
        self._read_only = existing == "read"
        self._data_fd = os.open(self.data_path, flags, 0o600)
        try:
            self._index_fd = os.open(self.index_path, flags, 0o600)
        except OSError:
            os.close(self._data_fd)
            raise
        self._write_lock = threading.Lock()
        self._count = 0
        self._size = 0
        self._closed = False
        if existing is not None:
            self._count, self._size = self._whole_lines()
            if existing == "append":
                os.ftruncate(self._data_fd, self._size)
                os.ftruncate(self._index_fd, self._count * _ENTRY.size)

    # -- writing (one thread) ---------------------------------------------------------------

    def append(self, lines: Iterable[str | bytes]) -> int:
        """Append lines (without their newline) and return how many were added.

        A line that itself contains a newline would break the one-line-one-record rule, so it
        is refused before anything is written.
        """
        encoded = [line.encode("utf-8") if isinstance(line, str) else line for line in lines]
        if not encoded:
            return 0
        blob = b"\n".join(encoded) + b"\n"
        if blob.count(b"\n") != len(encoded):
            # Lines may come with their newline; any other newline breaks the record rule.
            encoded = [raw[:-1] if raw.endswith(b"\n") else raw for raw in encoded]
            blob = b"\n".join(encoded) + b"\n"
            if blob.count(b"\n") != len(encoded):
                raise ValueError("line: must not contain a newline inside the record")
        with self._write_lock:
            self._check_open()
            if self._read_only:
                raise ValueError("spool: opened read-only")
            ends = list(accumulate((len(raw) + 1 for raw in encoded), initial=self._size))[1:]
            index = struct.pack(f"<{len(ends)}Q", *ends)
            _pwrite_all(self._data_fd, blob, self._size)
            _pwrite_all(self._index_fd, index, self._count * _ENTRY.size)
            # Publish only after both writes: readers trust `_count`.
            self._size = ends[-1]
            self._count += len(encoded)
        return len(encoded)

    # -- reading (any thread) ---------------------------------------------------------------

    @property
    def count(self) -> int:
        """Lines fully written so far."""
        return self._count

    @property
    def size(self) -> int:
        """Bytes fully written so far."""
        return self._size

    def __len__(self) -> int:
        return self._count

    def page_bytes(self, line: int, n: int) -> list[bytes]:
        """Up to `n` raw lines (no newline) starting at 0-based `line`; [] past the end."""
        if line < 0:
            raise ValueError(f"line: must be 0 or more, got {line}")
        if n < 0:
            raise ValueError(f"n: must be 0 or more, got {n}")
        count = self._count
        stop = min(line + n, count)
        if line >= stop:
            return []
        self._check_open()
        # Ends of lines line-1 .. stop-1; the start of line 0 is offset 0.
        first = max(line - 1, 0)
        raw_index = os.pread(self._index_fd, (stop - first) * _ENTRY.size, first * _ENTRY.size)
        ends = [e for (e,) in _ENTRY.iter_unpack(raw_index)]
        start = 0 if line == 0 else ends[0]
        line_ends = ends if line == 0 else ends[1:]
        blob = os.pread(self._data_fd, line_ends[-1] - start, start)
        out: list[bytes] = []
        pos = 0
        for end in line_ends:
            stop_at = end - start
            out.append(blob[pos : stop_at - 1])
            pos = stop_at
        return out

    def page(self, line: int, n: int) -> list[str]:
        """Up to `n` lines as text, starting at 0-based `line`."""
        return [raw.decode("utf-8") for raw in self.page_bytes(line, n)]

    def iter_bytes(
        self, start: int = 0, stop: int | None = None, batch: int = 1000
    ) -> Iterator[bytes]:
        """Lines [start, stop) in batches, so a caller can walk a big spool in flat memory."""
        end = self._count if stop is None else min(stop, self._count)
        pos = start
        while pos < end:
            chunk = self.page_bytes(pos, min(batch, end - pos))
            if not chunk:
                return
            yield from chunk
            pos += len(chunk)

    def refresh(self) -> int:
        """Re-read how many whole lines the files hold (a read-only spool whose writer is
        another process grows underneath); returns the new count."""
        with self._write_lock:
            self._check_open()
            if self._read_only:
                self._count, self._size = self._whole_lines()
        return self._count

    def _whole_lines(self) -> tuple[int, int]:
        """(lines, bytes) of the longest prefix that is whole on disk.

        The writer writes a line's bytes before its index entry, so a killed writer leaves at
        worst bytes with no index entry, or a partial index entry: both are dropped here."""
        data_size = os.fstat(self._data_fd).st_size
        count = os.fstat(self._index_fd).st_size // _ENTRY.size
        while count > 0:
            (end,) = _ENTRY.unpack(os.pread(self._index_fd, _ENTRY.size,
                                            (count - 1) * _ENTRY.size))
            if end <= data_size:
                return count, end
            count -= 1
        return 0, 0

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the files; a spool in a temporary directory is deleted with it."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            os.close(self._data_fd)
            os.close(self._index_fd)
            if self._tmp is not None:
                self._tmp.cleanup()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("spool: closed")


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written
