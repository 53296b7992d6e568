"""Which server process runs which export: a lease per running task, in the database.

A process claims a task by locking its lease row (`SELECT ... FOR UPDATE SKIP LOCKED`, so
two processes never wait on or take the same row) and writing its own name, a new fencing
token and an expiry. It renews the expiry while it runs the task (every commit does, and a
heartbeat does between commits). When a process dies its leases expire and another
process claims the task; a claim bumps the token, so a process that was only paused finds
its next commit refused instead of writing over the new owner. A task claimed `max_runs`
times without finishing ends FAILED with the reason.

Times are the database's clock (milliseconds), so hosts with skewed clocks agree on expiry.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from export_widget.server.tasks import (
    CANCELED_BY_USER,
    Committed,
    StreamName,
    TaskStatus,
    export_tasks,
    now_ms,
)
from export_widget.server.team.chunks import team_metadata

LEASE_SECONDS = 15.0
MAX_RUNS = 3

export_leases = Table(
    "export_leases",
    team_metadata,
    Column("task_id", String(32), primary_key=True),
    # The export as JSON, so whichever process claims the task runs exactly this export.
    Column("spec", Text, nullable=False),
    Column("owner", String(120), nullable=True),
    Column("token", Integer, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # 0: free to claim now
    Column("runs", Integer, nullable=False),  # claims that have not (yet) finished the task
    Column("cancel_requested", Boolean, nullable=False),
    Column("last_owner", String(120), nullable=True),
)
Index("ix_export_leases_expiry", export_leases.c.expires_at)


def process_name() -> str:
    """This process, as lease owners are named: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def db_now_ms() -> ColumnElement[int]:
    return cast(func.extract("epoch", func.clock_timestamp()) * 1000, BigInteger)


@dataclass(frozen=True)
class Claim:
    """A task this process now runs: its export, fencing token and what is committed."""

    task_id: str
    spec: Any
    token: int
    result: Committed
    errors: Committed

    def committed(self, stream: StreamName) -> Committed:
        return self.result if stream is StreamName.RESULT else self.errors


def finish_values(status: TaskStatus, reason: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"status": status.value, "failure_reason": reason,
                              "updated_at": now_ms()}
    if status is TaskStatus.COMPLETE:
        values["completion_percentage"] = 100.0
    return values


class LeaseBook:
    """The lease table, seen from one process (`owner`)."""

    def __init__(self, engine: Engine, owner: str, *, lease_seconds: float = LEASE_SECONDS,
                 max_runs: int = MAX_RUNS) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds: must be positive, got {lease_seconds}")
        if max_runs < 1:
            raise ValueError(f"max_runs: must be at least 1, got {max_runs}")
        self._engine = engine
        self.owner = owner
        self.lease_ms = int(lease_seconds * 1000)
        self.max_runs = max_runs

    def _expiry(self) -> ColumnElement[int]:
        return db_now_ms() + literal(self.lease_ms, BigInteger)

    def add(self, conn: Connection, task_id: str, spec: Any, *, claim: bool) -> Claim | None:
        """Record a new task's lease (in the transaction that records the task): claimed by
        this process, or free for any process to claim."""
        conn.execute(insert(export_leases).values(
            task_id=task_id, spec=orjson.dumps(spec).decode(),
            owner=self.owner if claim else None, token=1 if claim else 0,
            expires_at=self._expiry() if claim else 0, runs=1 if claim else 0,
            cancel_requested=False, last_owner=None))
        if not claim:
            return None
        empty = Committed(0, 0)
        return Claim(task_id, spec, 1, empty, empty)

    def claim_next(self) -> Claim | None:
        """Take over the oldest running task whose lease is free or expired, if any. Tasks
        already claimed `max_runs` times end FAILED instead."""
        while True:
            with self._engine.begin() as conn:
                lease = conn.execute(
                    select(export_leases)
                    .join(export_tasks, export_tasks.c.id == export_leases.c.task_id)
                    .where(export_tasks.c.status == TaskStatus.IN_PROGRESS.value,
                           export_leases.c.expires_at < db_now_ms())
                    .order_by(export_tasks.c.created_at)
                    .limit(1)
                    .with_for_update(skip_locked=True, of=export_leases)).first()
                if lease is None:
                    return None
                if lease.runs >= self.max_runs:
                    self._give_up(conn, lease)
                    continue
                conn.execute(update(export_leases)
                             .where(export_leases.c.task_id == lease.task_id)
                             .values(owner=self.owner, token=lease.token + 1,
                                     expires_at=self._expiry(), runs=lease.runs + 1,
                                     last_owner=lease.owner or lease.last_owner))
                task = conn.execute(select(export_tasks).where(
                    export_tasks.c.id == lease.task_id)).one()
            return Claim(lease.task_id, orjson.loads(lease.spec), lease.token + 1,
                         Committed(task.result_size, task.result_lines),
                         Committed(task.errors_size, task.errors_lines))

    def _give_up(self, conn: Connection, lease: Any) -> None:
        reason = (f"failed: this export was started {lease.runs} times and every run stopped "
                  "before it finished (its server process died or stopped answering; the "
                  f"last was {lease.owner or lease.last_owner}); the lines written are kept")
        conn.execute(delete(export_leases).where(export_leases.c.task_id == lease.task_id))
        conn.execute(update(export_tasks).where(
            export_tasks.c.id == lease.task_id,
            export_tasks.c.status == TaskStatus.IN_PROGRESS.value,
        ).values(**finish_values(TaskStatus.FAILED, reason)))

    def fence(self, conn: Connection, task_id: str, token: int) -> bool:
        """Inside a commit's transaction: renew the lease if this process still holds it.
        The row stays locked until the commit ends, so no claim can slip in between."""
        renewed = conn.execute(update(export_leases).where(
            export_leases.c.task_id == task_id, export_leases.c.owner == self.owner,
            export_leases.c.token == token,
        ).values(expires_at=self._expiry()))
        return bool(renewed.rowcount)

    def renew(self, tokens: dict[str, int]) -> tuple[set[str], set[str]]:
        """Heartbeat for the tasks this process runs: (lost, cancel requested) task ids."""
        if not tokens:
            return set(), set()
        held = and_(export_leases.c.owner == self.owner,
                    export_leases.c.task_id.in_(list(tokens)))
        with self._engine.begin() as conn:
            rows = conn.execute(update(export_leases).where(held)
                                .values(expires_at=self._expiry())
                                .returning(export_leases.c.task_id, export_leases.c.token,
                                           export_leases.c.cancel_requested)).all()
        kept = {row.task_id for row in rows if row.token == tokens[row.task_id]}
        canceled = {row.task_id for row in rows if row.task_id in kept and row.cancel_requested}
        return set(tokens) - kept, canceled

    def finish(self, task_id: str, token: int, status: TaskStatus, reason: str | None) -> bool:
        """End the task if this process still holds it; its lease goes."""
        with self._engine.begin() as conn:
            gone = conn.execute(delete(export_leases).where(
                export_leases.c.task_id == task_id, export_leases.c.owner == self.owner,
                export_leases.c.token == token))
            if not gone.rowcount:
                return False
            conn.execute(update(export_tasks).where(
                export_tasks.c.id == task_id,
                export_tasks.c.status == TaskStatus.IN_PROGRESS.value,
            ).values(**finish_values(status, reason)))
        return True

    def release(self, task_ids: Iterable[str] | None = None) -> int:
        """Hand this process's tasks (all, or these) to the next process that claims them,
        at once; a run stopped this way does not count against the task."""
        held = export_leases.c.owner == self.owner
        if task_ids is not None:
            held = and_(held, export_leases.c.task_id.in_(list(task_ids)))
        with self._engine.begin() as conn:
            released = conn.execute(update(export_leases).where(held).values(
                owner=None, expires_at=0, runs=func.greatest(export_leases.c.runs - 1, 0),
                last_owner=self.owner))
        return int(released.rowcount or 0)

    def request_cancel(self, task_id: str) -> bool:
        """Ask the task's owner to cancel it; cancel it here when no live process holds it.
        True when it was canceled here."""
        with self._engine.begin() as conn:
            lease = conn.execute(select(export_leases.c.expires_at, db_now_ms().label("now"))
                                 .where(export_leases.c.task_id == task_id)
                                 .with_for_update(of=export_leases)).first()
            if lease is None:
                return False
            if lease.expires_at >= lease.now:
                conn.execute(update(export_leases).where(export_leases.c.task_id == task_id)
                             .values(cancel_requested=True))
                return False
            conn.execute(delete(export_leases).where(export_leases.c.task_id == task_id))
            conn.execute(update(export_tasks).where(
                export_tasks.c.id == task_id,
                export_tasks.c.status == TaskStatus.IN_PROGRESS.value,
            ).values(**finish_values(TaskStatus.CANCELED, CANCELED_BY_USER)))
        return True

    def fail_orphans(self, reason: str) -> int:
        """Running tasks with no lease can never be run: they end FAILED."""
        leased = exists().where(export_leases.c.task_id == export_tasks.c.id)
        with self._engine.begin() as conn:
            failed = conn.execute(update(export_tasks).where(
                export_tasks.c.status == TaskStatus.IN_PROGRESS.value, ~leased,
            ).values(**finish_values(TaskStatus.FAILED, reason)))
        return int(failed.rowcount or 0)
