"""Chunk downloads run ahead of the reader, in one thread, through a byte-bounded queue.

Reading a stream is download (network waits, and the server's own time to the first byte of
each chunk) followed by splitting and parsing (the reader's CPU). Done in turn, the two add
up; with the download in a thread that stays at most `max_bytes` ahead, they overlap, and
memory stays flat whatever the export's size.

The thread walks the chunks itself (`chunks` yields each `ChunkInfo` as it becomes known, and
may block, e.g. while a live task has not written the next bytes yet), downloads each, and
hands over the chunk's `ChunkInfo` followed by its pieces. `close()` (also run when the reader
is garbage-collected or leaves its loop) stops the thread and waits for it to end, so no
download stays open behind the caller.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType

from .transport import ChunkInfo

AHEAD_BYTES = 16 * 1024 * 1024  # about two of the server's 8 MiB chunks
JOIN_SECONDS = 10.0  # longest close() waits for a download blocked in the network


class _End:
    """Put after the last piece: the chunk walk ended (`error` is why, when it failed)."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


Item = ChunkInfo | bytes


class ChunkPrefetch:
    """Iterate to get, in order, each chunk's `ChunkInfo` then its pieces (bytes)."""

    def __init__(self, chunks: Callable[[threading.Event], Iterator[ChunkInfo]],
                 download: Callable[[ChunkInfo], Iterator[bytes]], *,
                 max_bytes: int = AHEAD_BYTES, name: str = "export-prefetch") -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes: must be > 0, got {max_bytes}")
        self._chunks = chunks
        self._download = download
        self._max_bytes = max_bytes
        self._items: deque[Item | _End] = deque()
        self._held = 0  # bytes of pieces in `_items`
        self._cond = threading.Condition()
        self.stop = threading.Event()  # the walk checks it between pieces and while waiting
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    # -- the reader's side ------------------------------------------------------------------

    def __iter__(self) -> Iterator[Item]:
        if not self._started:
            self._started = True
            self._thread.start()
        while True:
            with self._cond:
                while not self._items:
                    self._cond.wait()
                item = self._items.popleft()
                if isinstance(item, bytes):
                    self._held -= len(item)
                    self._cond.notify_all()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def close(self) -> None:
        """Stop the download thread, drop what it fetched ahead and wait for it to end."""
        self.stop.set()
        with self._cond:
            self._items.clear()
            self._held = 0
            self._cond.notify_all()
        if self._started and self._thread is not threading.current_thread():
            self._thread.join(JOIN_SECONDS)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> ChunkPrefetch:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the download thread ----------------------------------------------------------------

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            for info in self._chunks(self.stop):
                if not self._put(info):
                    return
                pieces = self._download(info)
                try:
                    for piece in pieces:
                        if not self._put(piece):
                            return
                finally:
                    close = getattr(pieces, "close", None)
                    if close is not None:
                        close()  # the response goes back to the pool now, not at GC
        except BaseException as exc:  # handed to the reader, raised there
            error = exc
        with self._cond:
            if not self.stop.is_set():
                self._items.append(_End(error))
                self._cond.notify_all()

    def _put(self, item: Item) -> bool:
        """Queue `item` once there is room; False when the reader stopped."""
        size = len(item) if isinstance(item, bytes) else 0
        with self._cond:
            # One piece always fits, so a piece larger than the budget cannot stall the walk.
            while self._held and self._held + size > self._max_bytes and not self.stop.is_set():
                self._cond.wait()
            if self.stop.is_set():
                return False
            self._items.append(item)
            self._held += size
            self._cond.notify_all()
        return True
