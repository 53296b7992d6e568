"""Export tasks: their table and their state machine.

A task is created IN_PROGRESS and ends COMPLETE or FAILED, once. Its committed counters
(bytes and lines per stream) say how much of each stream's data file a reader may serve;
they only grow, and they are written after the data they describe is flushed, so a reader
never sees a line that is not on disk. Tasks live in the store's database, in a table of
their own, so they survive a restart; a task still IN_PROGRESS when the server starts was
cut short by the last stop and is marked FAILED with a reason.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    update,
)

from export_widget.server.export_spec import ExportSpec

TASK_TYPE = "export-data-rows"
INTERRUPTED = "interrupted: the server stopped while this export was running"
CANCELED_BY_USER = "canceled: stopped on request; the lines written so far are kept"
CREATE_LOCK_KEY = 0x6578_7077  # the PostgreSQL advisory lock that serializes task creation

task_metadata = MetaData()

export_tasks = Table(
    "export_tasks",
    task_metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("completion_percentage", Float, nullable=False, default=0.0),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("type", String(32), nullable=False),
    Column("metadata", Text, nullable=False),
    Column("created_by", String(32), nullable=False),
    Column("organization_id", String(32), nullable=True),
    Column("scope", String(16), nullable=False),
    Column("target_id", String(64), nullable=True),
    Column("project_id", String(32), nullable=True),
    Column("input", Text, nullable=False),
    Column("failure_reason", Text, nullable=True),
    Column("result_size", BigInteger, nullable=False, default=0),
    Column("result_lines", BigInteger, nullable=False, default=0),
    Column("errors_size", BigInteger, nullable=False, default=0),
    Column("errors_lines", BigInteger, nullable=False, default=0),
)
Index("ix_export_tasks_status", export_tasks.c.status)
Index("ix_export_tasks_created_by", export_tasks.c.created_by, export_tasks.c.created_at)


class TaskStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class StreamName(StrEnum):
    RESULT = "RESULT"
    ERRORS = "ERRORS"


_ID_ALPHABET = string.ascii_lowercase + string.digits
_counter_lock = threading.Lock()
_counter = secrets.randbelow(36**4)


def _base36(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(_ID_ALPHABET[26 + r] if r < 10 else _ID_ALPHABET[r - 10])
    return "".join(reversed(out))


def new_task_id() -> str:
    """A 25-character cuid-like id: "c", time, a process counter, then randomness.

    The SDK caches a task's metadata header per id for the whole process, so ids must
    never repeat; time + counter + 60 random bits make a clash practically impossible,
    and the primary key refuses one anyway.
    """
    global _counter
    with _counter_lock:
        _counter = (_counter + 1) % 36**4
        count = _counter
    millis = time.time_ns() // 1_000_000
    rand = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    return "c" + _base36(millis, 8) + _base36(count, 4) + rand


def is_task_id(value: str) -> bool:
    return len(value) == 25 and value[0] == "c" and all(c in _ID_ALPHABET for c in value)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Committed:
    """How much of one stream is readable: bytes and lines."""

    size: int
    lines: int


@dataclass(frozen=True)
class TaskRecord:
    id: str
    name: str | None
    status: TaskStatus
    completion_percentage: float
    created_at: int
    updated_at: int
    type: str
    metadata: dict[str, Any]
    created_by: str
    organization_id: str | None
    scope: str
    target_id: str | None
    project_id: str | None
    input: dict[str, Any]
    failure_reason: str | None
    result: Committed
    errors: Committed

    def committed(self, stream: StreamName) -> Committed:
        return self.result if stream is StreamName.RESULT else self.errors


def _record(row: Any) -> TaskRecord:
    m = row._mapping
    return TaskRecord(
        id=m["id"],
        name=m["name"],
        status=TaskStatus(m["status"]),
        completion_percentage=float(m["completion_percentage"]),
        created_at=int(m["created_at"]),
        updated_at=int(m["updated_at"]),
        type=m["type"],
        metadata=orjson.loads(m["metadata"]),
        created_by=m["created_by"],
        organization_id=m["organization_id"],
        scope=m["scope"],
        target_id=m["target_id"],
        project_id=m["project_id"],
        input=orjson.loads(m["input"]),
        failure_reason=m["failure_reason"],
        result=Committed(int(m["result_size"]), int(m["result_lines"])),
        errors=Committed(int(m["errors_size"]), int(m["errors_lines"])),
    )


_NO_STREAMS = {"result_size": 0, "result_lines": 0, "errors_size": 0, "errors_lines": 0}


class TaskLimitError(Exception):
    """Too many exports are running for a project or the organization."""


class TaskStore:
    """The export task table on the store's engine (SQLAlchemy Core)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        task_metadata.create_all(engine)
        # SQLite serializes writers anyway; this lock makes "count running, then insert"
        # atomic inside one server process so the limits hold under concurrent mutations.
        self._create_lock = threading.Lock()

    def recover_interrupted(self) -> int:
        """Mark every task left IN_PROGRESS by a previous run FAILED; return how many."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(export_tasks)
                .where(export_tasks.c.status == TaskStatus.IN_PROGRESS.value)
                .values(
                    status=TaskStatus.FAILED.value,
                    failure_reason=INTERRUPTED,
                    updated_at=now_ms(),
                )
            )
            return int(result.rowcount or 0)

    def create(
        self, spec: ExportSpec, *, project_limit: int, organization_limit: int,
        along: Callable[[Connection, str], None] | None = None,
    ) -> TaskRecord:
        """Insert a new IN_PROGRESS task, or raise TaskLimitError past the running limits.

        `along(conn, task_id)` writes what must exist with the task, in its transaction."""
        project_id = spec.project_id
        with self._create_lock, self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Server processes sharing the database share the limits too.
                conn.execute(select(func.pg_advisory_xact_lock(CREATE_LOCK_KEY)))
            running = export_tasks.c.status == TaskStatus.IN_PROGRESS.value
            org_running = conn.execute(
                select(func.count()).select_from(export_tasks).where(running)
            ).scalar_one()
            if org_running >= organization_limit:
                raise TaskLimitError(
                    f"Too many exports running: the organization has {org_running} running, "
                    f"the limit is {organization_limit}. Wait for one to finish and retry."
                )
            if project_id is not None:
                project_running = conn.execute(
                    select(func.count())
                    .select_from(export_tasks)
                    .where(running, export_tasks.c.project_id == project_id)
                ).scalar_one()
                if project_running >= project_limit:
                    raise TaskLimitError(
                        f"Too many exports running: project {project_id} has "
                        f"{project_running} running, the limit is {project_limit}. "
                        "Wait for one to finish and retry."
                    )
            stamp = now_ms()
            task_id = new_task_id()
            conn.execute(
                export_tasks.insert().values(
                    id=task_id,
                    name=spec.task_name,
                    status=TaskStatus.IN_PROGRESS.value,
                    completion_percentage=0.0,
                    created_at=stamp,
                    updated_at=stamp,
                    type=TASK_TYPE,
                    metadata=orjson.dumps(
                        {"exportScope": spec.kind, "targetId": spec.target_id}).decode(),
                    created_by=spec.created_by,
                    organization_id=spec.organization_id,
                    scope=spec.kind,
                    target_id=spec.target_id,
                    project_id=project_id,
                    input=orjson.dumps(spec.wire_input).decode(),
                    failure_reason=None,
                    result_size=0,
                    result_lines=0,
                    errors_size=0,
                    errors_lines=0,
                )
            )
            if along is not None:
                along(conn, task_id)
        task = self.get(task_id)
        assert task is not None
        return task

    def get(self, task_id: str) -> TaskRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(export_tasks).where(export_tasks.c.id == task_id)
            ).first()
        return None if row is None else _record(row)

    def list_for_user(
        self, user_id: str, *, task_id: str | None, skip: int, first: int
    ) -> list[TaskRecord]:
        """A user's tasks, newest first (one task when `task_id` is given)."""
        query = select(export_tasks).where(export_tasks.c.created_by == user_id)
        if task_id is not None:
            query = query.where(export_tasks.c.id == task_id)
        query = (
            query.order_by(export_tasks.c.created_at.desc(), export_tasks.c.id.desc())
            .offset(max(skip, 0))
            .limit(max(first, 0))
        )
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def commit_progress(
        self, task_id: str, result: Committed, errors: Committed, percentage: float
    ) -> None:
        """Publish how much of each stream is on disk (call after flushing the files)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(export_tasks)
                .where(export_tasks.c.id == task_id)
                .values(
                    result_size=result.size,
                    result_lines=result.lines,
                    errors_size=errors.size,
                    errors_lines=errors.lines,
                    completion_percentage=percentage,
                    updated_at=now_ms(),
                )
            )

    def files_removed(self, task_id: str, reason: str) -> None:
        """Record that a finished task's files are gone: its streams read as empty."""
        with self._engine.begin() as conn:
            conn.execute(update(export_tasks).where(export_tasks.c.id == task_id)
                         .values(failure_reason=reason, updated_at=now_ms(), **_NO_STREAMS))

    def finish(self, task_id: str, status: TaskStatus, reason: str | None = None, *,
               clear_streams: bool = False) -> None:
        """End a running task (COMPLETE, FAILED or CANCELED); a finished task never changes.

        `clear_streams` says its files are gone: nothing of its streams stays readable."""
        if status is TaskStatus.IN_PROGRESS:
            raise ValueError("status: a task can only finish as COMPLETE, FAILED or CANCELED")
        values: dict[str, Any] = {
            "status": status.value,
            "failure_reason": reason,
            "updated_at": now_ms(),
        }
        if status is TaskStatus.COMPLETE:
            values["completion_percentage"] = 100.0
        if clear_streams:
            values.update(_NO_STREAMS)
        with self._engine.begin() as conn:
            conn.execute(
                update(export_tasks)
                .where(
                    export_tasks.c.id == task_id,
                    export_tasks.c.status == TaskStatus.IN_PROGRESS.value,
                )
                .values(**values)
            )
