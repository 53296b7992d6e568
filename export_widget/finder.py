"""The search box's kernel side: one search at a time over the export's spool, in a worker.

The worker scans the lines committed so far, then, while the export is still streaming,
waits for more and scans those too, so matches grow with the export. It is the only writer
of the search status (published through `publish`, at most ~10 times a second plus a last
one); `cancel()` and `clear()` only set an event and return.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .inspect.query import Query, QueryError, Search, check
from .messages import SearchState, SearchStatus, idle_search
from .spool import Spool

PUBLISH_INTERVAL = 0.1
GROW_POLL = 0.2  # seconds between looks at a still-growing spool


@dataclass(frozen=True)
class Target:
    """What a search reads: a spool, and whether its export is still adding lines."""

    spool: Spool
    finished: Callable[[], bool]


class Finder:
    """Runs the widget's current search and publishes its status."""

    def __init__(self, publish: Callable[[SearchStatus], None]) -> None:
        self._publish = publish
        self._lock = threading.Lock()
        self._search: Search | None = None
        self._worker: threading.Thread | None = None
        self._seq = 0
        self._ids = 0
        self.status: SearchStatus = idle_search()

    @property
    def search(self) -> Search | None:
        return self._search

    def start(self, target: Target, query: Query) -> SearchStatus:
        """Check `query` (QueryError names the rule), stop the current search, start this one."""
        check(query)
        self.clear()
        with self._lock:
            self._ids += 1
            search = Search(target.spool, query)
            self._search = search
            search_id = f"s{self._ids}"
            worker = threading.Thread(target=self._run, args=(search_id, search, target),
                                      name="export-widget-search", daemon=True)
            self._worker = worker
            status = self._status(search_id, search, "running", target.spool.count, "")
            self._emit(status)
        worker.start()
        return status

    def cancel(self) -> bool:
        """Stop the running search; its matches so far stay. False if none is running."""
        search = self._search
        if search is None or self.status["state"] not in ("running", "waiting"):
            return False
        search.cancel()
        return True

    def clear(self) -> None:
        """Forget the search: the viewer shows every row again."""
        # No join: the worker stops at its next chunk, and what it publishes after this is
        # dropped (`_publish_if_current`), so a new export need not wait for it.
        with self._lock:
            search = self._search
            self._search = None
            if search is not None:
                search.cancel()
            if self.status["state"] != "idle":
                self._emit(idle_search())

    def wait(self, timeout: float | None = None) -> SearchStatus:
        """Block until the current search's worker ends (tests, scripts)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
            if worker.is_alive():
                raise TimeoutError(f"search still {self.status['state']} after {timeout} s")
        return self.status

    # -- the worker -----------------------------------------------------------------------

    def _run(self, search_id: str, search: Search, target: Target) -> None:
        last = 0.0

        def progress(_done: int, _of: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PUBLISH_INTERVAL:
                last = now
                self._publish_if_current(search_id, search, "running", target)

        try:
            while not search.cancelled:
                # Read `finished` before scanning: lines committed before it said so are all
                # seen by this pass, so an export that ends mid-scan is not missed.
                ended = target.finished()
                search.advance(progress)
                if search.cancelled or (ended and search.scanned >= target.spool.count):
                    break
                self._publish_if_current(search_id, search, "waiting", target)
                time.sleep(GROW_POLL)
            state: SearchState = "cancelled" if search.cancelled else "done"
            self._publish_if_current(search_id, search, state, target)
        except QueryError as exc:
            self._publish_if_current(search_id, search, "failed", target, str(exc))
        except Exception as exc:  # a failed search must say why, not vanish
            self._publish_if_current(search_id, search, "failed", target,
                                     f"{type(exc).__name__}: {exc}")

    def _publish_if_current(self, search_id: str, search: Search, state: SearchState,
                            target: Target, message: str = "") -> None:
        with self._lock:
            if self._search is not search:
                return  # cleared or replaced: its news is stale
            self._emit(self._status(search_id, search, state, target.spool.count, message))

    def _status(self, search_id: str, search: Search, state: SearchState, total: int,
                message: str) -> SearchStatus:
        query = search.query
        return SearchStatus(id=search_id, kind="text" if query.text is not None else "sql",
                            query=query.text if query.text is not None else query.sql or "",
                            state=state, scanned=search.scanned, total=total,
                            matches=search.count, message=message, seq=0)

    def _emit(self, status: SearchStatus) -> None:
        self._seq += 1
        status = SearchStatus(**{**status, "seq": self._seq})
        self.status = status
        self._publish(status)
