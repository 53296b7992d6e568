"""The exports kept on disk: one directory per export, its spools plus a manifest.

    <history dir>/<entry id>/manifest.json     what was exported, from where, how it ended
                             rows.ndjson/.idx  the RESULT lines (a `Spool`)
                             errors.ndjson/.idx
                             lock              held (flock) by the process writing the entry

The history directory is, first found: the `directory` argument, `$EXPORT_WIDGET_HOME/history`,
or `history` under the user's cache directory (platformdirs: `~/.cache/export-widget` on
Linux). Directories are created 0700 and files 0600: exports hold customer data.

The manifest is written before the first row and rewritten (atomically) as the export goes
and when it ends. A writer holds an exclusive `flock` on the entry's lock file for as long as
it writes; the kernel drops it when the process dies, so an entry whose manifest still says
"running" while nobody holds the lock was cut off: it is listed as "incomplete", with the rows
its spool holds (whole lines only), and can be resumed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

import orjson

from .spool import Spool

try:  # POSIX; elsewhere liveness falls back to the writer's pid
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

ENV_HOME = "EXPORT_WIDGET_HOME"
ENV_MAX_ENTRIES = "EXPORT_WIDGET_HISTORY_MAX_ENTRIES"
ENV_MAX_BYTES = "EXPORT_WIDGET_HISTORY_MAX_BYTES"
DEFAULT_MAX_ENTRIES = 100
DEFAULT_MAX_BYTES = 20 * 1024**3
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
CHECKPOINT_INTERVAL = 1.0  # seconds between progress rewrites of a running manifest

EntryState = Literal["running", "incomplete", "done", "failed", "cancelled"]
FINAL = frozenset({"done", "failed", "cancelled"})
_ENTRY_ID = re.compile(r"^\d{8}T\d{6}\d{3}Z-[0-9a-f]{6}$")


class Manifest(TypedDict):
    """What an entry records. `js/src/types.ts` declares the same shape."""

    version: int
    id: str
    origin: str  # "export" (started here) or "attach" (a task started elsewhere)
    task_id: str | None
    endpoint: str | None
    scope: str | None
    target_id: str | None
    target_name: str | None
    task_name: str | None
    params: dict[str, Any]
    filters: dict[str, Any]
    export_call: str | None
    started_at: str
    ended_at: str | None
    status: str  # "running" until the writer ends it: done / failed / cancelled
    message: str
    rows: int
    errors: int
    bytes: int
    total_rows: int | None
    pid: int


class EntrySummary(TypedDict):
    """One line of the History list (manifest plus what the disk says)."""

    id: str
    state: EntryState
    task_id: str | None
    origin: str
    scope: str | None
    target_name: str | None
    task_name: str | None
    endpoint: str | None
    export_call: str | None
    started_at: str
    ended_at: str | None
    rows: int
    errors: int
    bytes: int
    disk_bytes: int
    message: str


def default_directory() -> Path:
    home = os.environ.get(ENV_HOME, "").strip()
    if home:
        return Path(home).expanduser() / "history"
    import platformdirs

    return platformdirs.user_cache_path("export-widget") / "history"


def parse_size(value: int | str | None, field: str) -> int | None:
    """Bytes from `1000`, `"500MB"`, `"2 GiB"`; None or "" means no limit."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{field}: must be 0 or more bytes, got {value}")
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*", str(value), re.IGNORECASE)
    if not match:
        raise ValueError(f"{field}: a number of bytes like 500MB or 2GiB, got {value!r}")
    number, unit = float(match.group(1)), match.group(2).lower().rstrip("b")
    scale = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
             "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}[unit]
    return int(number * scale)


def _parse_count(value: int | str | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{field}: a whole number of entries, got {value!r}") from None
    if count < 1:
        raise ValueError(f"{field}: must be 1 or more, got {count}")
    return count


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _mkdir_private(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


def _dir_bytes(path: Path) -> int:
    total = 0
    with contextlib.suppress(FileNotFoundError):
        for child in path.iterdir():
            with contextlib.suppress(FileNotFoundError):
                total += child.stat().st_size
    return total


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Entry:
    """One export on disk. Read it anywhere; only the process holding its lock writes it."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        self.directory = directory
        self.manifest = manifest
        self._lock_fd: int | None = None
        self._spools: dict[str, Spool] = {}
        self._spool_lock = threading.Lock()
        self._last_checkpoint = 0.0

    # -- reading ------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.manifest["id"]

    @property
    def task_id(self) -> str | None:
        return self.manifest["task_id"]

    @property
    def writing(self) -> bool:
        """True while this object holds the entry's lock (it is the writer)."""
        return self._lock_fd is not None

    @property
    def state(self) -> EntryState:
        status = self.manifest["status"]
        if status in FINAL:
            return status  # type: ignore[return-value]
        return "running" if self.writing or self._locked_elsewhere() else "incomplete"

    def _locked_elsewhere(self) -> bool:
        path = self.directory / "lock"
        if fcntl is None:  # pragma: no cover - Windows
            return _pid_alive(self.manifest["pid"])
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the probe's own shared lock
        return False

    def spool(self, stream: str = "result") -> Spool:
        """The entry's rows (stream "result") or errors, opened once and kept open."""
        name = "errors" if stream == "errors" else "rows"
        with self._spool_lock:
            spool = self._spools.get(name)
            if spool is None:
                mode = "append" if self.writing else "read"
                spool = Spool(self.directory, name=name, existing=mode)
                self._spools[name] = spool
            elif not self.writing:
                spool.refresh()
            return spool

    @property
    def rows(self) -> Spool:
        return self.spool("result")

    @property
    def errors(self) -> Spool:
        return self.spool("errors")

    def iter_rows(self) -> Iterator[Any]:
        """Every row as parsed JSON, in flat memory."""
        for raw in self.rows.iter_bytes():
            yield orjson.loads(raw)

    def disk_bytes(self) -> int:
        return _dir_bytes(self.directory)

    def summary(self) -> EntrySummary:
        m = self.manifest
        state = self.state
        rows, errors, size = m["rows"], m["errors"], m["bytes"]
        if state in ("running", "incomplete"):
            # The manifest lags a running writer; the spool on disk is the truth.
            rows, size = self._count_on_disk("rows")
            errors = self._count_on_disk("errors")[0]
        return EntrySummary(
            id=m["id"], state=state, task_id=m["task_id"], origin=m["origin"],
            scope=m["scope"], target_name=m["target_name"], task_name=m["task_name"],
            endpoint=m["endpoint"], export_call=m["export_call"], started_at=m["started_at"],
            ended_at=m["ended_at"], rows=rows, errors=errors, bytes=size,
            disk_bytes=self.disk_bytes(), message=m["message"])

    def _count_on_disk(self, name: str) -> tuple[int, int]:
        if not (self.directory / f"{name}.idx").exists():
            return 0, 0
        with Spool(self.directory, name=name, existing="read") as spool:
            return spool.count, spool.size

    # -- writing (the lock holder only) -------------------------------------------------

    def acquire(self) -> Entry:
        """Become the entry's writer; RuntimeError when another process writes it."""
        if self._lock_fd is not None:
            return self
        fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT
                     | getattr(os, "O_CLOEXEC", 0), 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise RuntimeError(f"history entry {self.id}: another process is writing it "
                                   "(an export or attach still running)") from None
        self._lock_fd = fd
        # A reader's spools cannot write: reopen them as the writer's.
        self._close_spools()
        self.manifest["pid"] = os.getpid()
        return self

    def update(self, **fields: Any) -> None:
        """Rewrite the manifest with `fields` changed (atomic: write, then rename)."""
        self._need_writer()
        unknown = set(fields) - set(Manifest.__annotations__)
        if unknown:
            raise ValueError(f"manifest: unknown field(s) {sorted(unknown)}")
        self.manifest.update(fields)  # type: ignore[typeddict-item]
        _write_manifest(self.directory, self.manifest)

    def checkpoint(self, force: bool = False) -> None:
        """Record how far the export got (at most once a second unless forced)."""
        now = time.monotonic()
        if not force and now - self._last_checkpoint < CHECKPOINT_INTERVAL:
            return
        self._last_checkpoint = now
        rows, errors = self.rows, self.errors
        self.update(rows=rows.count, bytes=rows.size, errors=errors.count)

    def finish(self, status: str, message: str = "", total_rows: int | None = None) -> None:
        """Record the final status and counts; the entry stays locked until `release`."""
        if status not in FINAL:
            raise ValueError(f"status: one of {sorted(FINAL)}, got {status!r}")
        rows, errors = self.rows, self.errors
        self.update(status=status, message=message, ended_at=_iso(_now()),
                    rows=rows.count, bytes=rows.size, errors=errors.count,
                    total_rows=rows.count if status == "done" else total_rows)

    def reopen_for_resume(self) -> None:
        """Mark a cut-off entry as running again under this writer."""
        self._need_writer()
        self.update(status="running", ended_at=None, message="Resuming.")

    def release(self) -> None:
        """Stop writing: close the spools and drop the lock (the entry stays on disk)."""
        self._close_spools()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    close = release

    def _close_spools(self) -> None:
        with self._spool_lock:
            for spool in self._spools.values():
                spool.close()
            self._spools.clear()

    def _need_writer(self) -> None:
        if self._lock_fd is None:
            raise RuntimeError(f"history entry {self.id}: not opened for writing")

    def __repr__(self) -> str:
        return f"<Entry {self.id} task={self.task_id} state={self.state}>"


def _write_manifest(directory: Path, manifest: Mapping[str, Any]) -> None:
    tmp = directory / f"{MANIFEST}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, orjson.dumps(dict(manifest), option=orjson.OPT_INDENT_2))
    finally:
        os.close(fd)
    os.replace(tmp, directory / MANIFEST)


def _read_manifest(directory: Path) -> Manifest | None:
    try:
        data = orjson.loads((directory / MANIFEST).read_bytes())
    except (FileNotFoundError, NotADirectoryError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("id") != directory.name:
        return None
    return data  # type: ignore[return-value]


class History:
    """The history directory: create, list (newest first), find, delete, retention."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, *,
                 max_entries: int | str | None = None,
                 max_bytes: int | str | None = None) -> None:
        env_entries = os.environ.get(ENV_MAX_ENTRIES)
        env_bytes = os.environ.get(ENV_MAX_BYTES)
        self.max_entries = _parse_count(
            max_entries if max_entries is not None else env_entries or DEFAULT_MAX_ENTRIES,
            "max_entries")
        self.max_bytes = parse_size(
            max_bytes if max_bytes is not None else env_bytes or DEFAULT_MAX_BYTES,
            "max_bytes")
        self.directory = Path(directory).expanduser() if directory else default_directory()
        _mkdir_private(self.directory)

    def __repr__(self) -> str:
        return f"History({str(self.directory)!r}, entries={len(self.entries())})"

    # -- creating -----------------------------------------------------------------------

    def create(self, *, origin: str = "export", task_id: str | None = None,
               endpoint: str | None = None, scope: str | None = None,
               target_id: str | None = None, target_name: str | None = None,
               task_name: str | None = None, params: Mapping[str, Any] | None = None,
               filters: Mapping[str, Any] | None = None,
               export_call: str | None = None) -> Entry:
        """A new entry, locked for writing, its manifest on disk before any row."""
        started = _now()
        entry_id = f"{started:%Y%m%dT%H%M%S}{started.microsecond // 1000:03d}Z-" \
                   f"{secrets.token_hex(3)}"
        directory = self.directory / entry_id
        _mkdir_private(directory)
        manifest = Manifest(
            version=FORMAT_VERSION, id=entry_id, origin=origin, task_id=task_id,
            endpoint=endpoint, scope=scope, target_id=target_id, target_name=target_name,
            task_name=task_name, params=dict(params or {}), filters=dict(filters or {}),
            export_call=export_call, started_at=_iso(started), ended_at=None,
            status="running", message="", rows=0, errors=0, bytes=0, total_rows=None,
            pid=os.getpid())
        entry = Entry(directory, manifest).acquire()
        entry.update()  # the manifest, before the first row
        # Empty spools now, so a reader never finds an entry without its files.
        entry.spool("result")
        entry.spool("errors")
        return entry

    # -- reading ------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every entry, newest first."""
        found: list[Entry] = []
        with contextlib.suppress(FileNotFoundError):
            for child in self.directory.iterdir():
                if not _ENTRY_ID.match(child.name):
                    continue
                manifest = _read_manifest(child)
                if manifest is not None:
                    found.append(Entry(child, manifest))
        found.sort(key=lambda e: (e.manifest["started_at"], e.id), reverse=True)
        return found

    def get(self, entry_or_task_id: str | Entry) -> Entry:
        """An entry by its id or by its task id (the newest entry of that task)."""
        if isinstance(entry_or_task_id, Entry):
            return entry_or_task_id
        key = str(entry_or_task_id).strip()
        if _ENTRY_ID.match(key):
            manifest = _read_manifest(self.directory / key)
            if manifest is not None:
                return Entry(self.directory / key, manifest)
        for entry in self.entries():
            if entry.task_id == key:
                return entry
        raise KeyError(f"history: no entry or task id {key!r} in {self.directory}")

    def summaries(self) -> list[EntrySummary]:
        return [entry.summary() for entry in self.entries()]

    def frame(self) -> Any:
        """The entries as a pandas DataFrame, newest first."""
        import pandas as pd

        columns = list(EntrySummary.__annotations__)
        return pd.DataFrame(self.summaries(), columns=columns)

    def disk_usage(self) -> int:
        """Bytes used by every entry."""
        return sum(_dir_bytes(child) for child in self._entry_dirs())

    def _entry_dirs(self) -> Iterator[Path]:
        with contextlib.suppress(FileNotFoundError):
            for child in self.directory.iterdir():
                if child.is_dir() and _ENTRY_ID.match(child.name):
                    yield child

    # -- removing -----------------------------------------------------------------------

    def delete(self, entry_or_task_id: str | Entry) -> None:
        """Remove an entry and its files; an entry still being written is refused."""
        entry = self.get(entry_or_task_id)
        if entry.state == "running":
            raise RuntimeError(f"history entry {entry.id}: still running; cancel it first")
        entry.release()
        shutil.rmtree(entry.directory, ignore_errors=True)

    def apply_retention(self, keep: Entry | str | None = None) -> list[str]:
        """Delete the oldest entries beyond `max_entries` or `max_bytes`; returns their ids.

        A running entry and `keep` (the one just written) are never deleted."""
        keep_id = keep.id if isinstance(keep, Entry) else keep
        entries = self.entries()
        sizes = {e.id: e.disk_bytes() for e in entries}
        total, count = sum(sizes.values()), len(entries)
        deleted: list[str] = []
        for entry in reversed(entries):  # oldest first
            over_count = self.max_entries is not None and count > self.max_entries
            over_bytes = self.max_bytes is not None and total > self.max_bytes
            if not (over_count or over_bytes):
                break
            if entry.id == keep_id or entry.state == "running":
                continue
            shutil.rmtree(entry.directory, ignore_errors=True)
            deleted.append(entry.id)
            total -= sizes[entry.id]
            count -= 1
        return deleted
