"""Which data rows an export selects: its scope (project, catalog, slice, model run) and the
wire `searchQuery.query` filter items (docs/protocol.md, "Filters"), ANDed.

This module owns the checks of the scope and the filters: a missing target or a bad filter
item raises ValueError naming the wire field. Ids named in a filter that match nothing in the
scope are reported as error items rather than dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import ColumnElement, Connection, Select, and_, exists, func, select, true

from export_widget.jsontypes import Json
from export_widget.server import store
from export_widget.server.export_spec import EXPORT_KINDS, MEDIA_TYPES
from export_widget.server.rows.times import datetime_to_ms

data_rows = store.data_rows
project_rows = store.project_rows

STATUS_BY_WIRE = {"InReview": "IN_REVIEW", "InRework": "IN_REWORK", "Done": "DONE"}
MAX_FILTER_IDS = 2_000  # ids or global keys in one filter item
MAX_FILTER_ITEMS = 20  # the SDK sends at most six
MAX_QUERY_IDS = 10_000  # in all items: each id is one SQL parameter
MAX_ID_LENGTH = 1_000  # global keys are the longest ids
QUERY_FIELD = "filters.searchQuery.query"
_TARGET_FIELD = {"project": "filters.projectId", "slice": "filters.sliceId",
                 "model_run": "filters.modelRunId"}
_NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def brief(value: Any, limit: int = 60) -> str:
    """A value as an error message shows it: its repr, cut short (inputs may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _zone(name: str | None, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{where}: unknown timezone {brief(name)}") from exc


def parse_time(value: Any, tz_name: str | None, where: str) -> int:
    """A filter date to epoch ms. "YYYY-MM-DD" is midnight and "YYYY-MM-DD hh:mm:ss" a wall
    time, both in `tz_name`; ISO 8601 with an offset (`+0530`, `+05:30`, `Z`) is read by its
    own offset."""
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a date string, got {brief(value)}")
    for fmt in _NAIVE_FORMATS:
        try:
            naive = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return datetime_to_ms(naive.replace(tzinfo=_zone(tz_name, where)))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(
            f'{where}: Incorrect format for: {value[:60]}. Format must be "YYYY-MM-DD" or '
            '"YYYY-MM-DD hh:mm:ss" or ISO 8061 format "YYYY-MM-DDThh:mm:ss±hhmm"'
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(tz_name, where))
    return datetime_to_ms(parsed)


def time_range(item: Json, default_tz: str | None, where: str) -> tuple[int | None, int | None]:
    """(min_ms, max_ms), inclusive, from a wire date item's `value`."""
    spec = item.get("value")
    if not isinstance(spec, dict):
        raise ValueError(f"{where}.value: expected an object with operator and value")
    tz = spec.get("timezone") or default_tz
    if tz is not None and not isinstance(tz, str):
        raise ValueError(f"{where}.value.timezone: expected a timezone name such as 'UTC', "
                         f"got {brief(tz)}")
    op = spec.get("operator")
    raw = spec.get("value")
    if op == "BETWEEN":
        if not isinstance(raw, dict) or "min" not in raw or "max" not in raw:
            raise ValueError(f"{where}.value.value: BETWEEN needs {{min, max}}")
        return parse_time(raw["min"], tz, where), parse_time(raw["max"], tz, where)
    if op == "GREATER_THAN_OR_EQUAL":
        return parse_time(raw, tz, where), None
    if op == "LESS_THAN_OR_EQUAL":
        return None, parse_time(raw, tz, where)
    raise ValueError(
        f"{where}.value.operator: expected BETWEEN, GREATER_THAN_OR_EQUAL or "
        f"LESS_THAN_OR_EQUAL, got {brief(op)}"
    )


def _between(col: Any, lo: int | None, hi: int | None) -> ColumnElement[bool]:
    parts = []
    if lo is not None:
        parts.append(col >= lo)
    if hi is not None:
        parts.append(col <= hi)
    return and_(true(), *parts)


def _ids(item: Json, where: str) -> list[str]:
    ids = item.get("ids")
    if item.get("operator", "is") != "is":
        raise ValueError(f"{where}.operator: only 'is' is supported, got "
                         f"{brief(item.get('operator'))}")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ValueError(f"{where}.ids: expected a non-empty list of strings")
    if len(ids) > MAX_FILTER_IDS:
        raise ValueError(f"{where}.ids: at most {MAX_FILTER_IDS:,} items, got {len(ids):,}")
    if not all(0 < len(i) <= MAX_ID_LENGTH for i in ids):
        raise ValueError(f"{where}.ids: each id holds 1 to {MAX_ID_LENGTH} characters")
    return list(dict.fromkeys(ids))


@dataclass
class Selection:
    """The data rows of an export as SQL pieces, plus error items.

    A project or model-run export scans its own membership table (keyed by
    (scope id, data_row_pk)) joined to `data_rows`, so a small project in a large catalog
    costs only its rows; catalog and slice exports scan `data_rows`.
    """

    kind: str
    target_id: str
    key: Any = data_rows.c.pk  # the data-row pk column that orders and pages the scan
    source: Any = data_rows
    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    errors: list[Json] = field(default_factory=list)
    project_ids: list[str] = field(default_factory=list)  # project scope: [target]

    def where(self) -> ColumnElement[bool]:
        return and_(true(), *self.conditions)

    def page(self, after: int, limit: int) -> Select[Any]:
        """The next `limit` data-row pks after `after` (keyset paging)."""
        return (select(self.key).select_from(self.source)
                .where(self.where(), self.key > after).order_by(self.key).limit(limit))

    def count(self) -> Select[Any]:
        return select(func.count()).select_from(self.source).where(self.where())


class _Builder:
    def __init__(self, conn: Connection, kind: str, target_id: str, tz: str | None) -> None:
        if kind not in EXPORT_KINDS:
            raise ValueError(f"kind: expected one of {', '.join(EXPORT_KINDS)}, got "
                             f"{brief(kind)}")
        if kind != "catalog" and not target_id:
            raise ValueError(f"{_TARGET_FIELD[kind]}: a {kind} export needs its id")
        self.conn = conn
        self.tz = tz
        self.sel = Selection(kind, target_id)
        self.scope: list[ColumnElement[bool]] = []  # conditions defining the id-check scope
        self.members: Any = None  # project_rows / model_run_rows for scoped exports
        self.uses_rows = False  # a condition reads a data_rows column (join needed)
        self.scope_name = ""

    # --- scopes ------------------------------------------------------------------------

    def project_scope(self) -> None:
        self._member_scope(store.projects, store.project_rows, store.project_rows.c.project_id,
                           "project")
        self.sel.project_ids = [self.sel.target_id]

    def model_run_scope(self) -> None:
        self._member_scope(store.model_runs, store.model_run_rows,
                           store.model_run_rows.c.model_run_id, "model run")

    def _member_scope(self, owners: Any, members: Any, owner_col: Any, noun: str) -> None:
        """Rows that are members of the target (a project's or a model run's rows)."""
        target = self.sel.target_id
        if self.conn.execute(select(owners.c.id).where(owners.c.id == target)).first() is None:
            raise ValueError(f"{_TARGET_FIELD[self.sel.kind]}: no {noun} with id {brief(target)}")
        self.sel.key = members.c.data_row_pk
        self.sel.source = members.join(data_rows, data_rows.c.pk == members.c.data_row_pk)
        self.members = members
        cond = owner_col == target
        self.sel.conditions.append(cond)
        self.scope.append(cond)
        self.scope_name = f" in {noun} {target}"

    def slice_items(self) -> list[Json]:
        row = self.conn.execute(select(store.slices.c.filter)
                                .where(store.slices.c.id == self.sel.target_id)).first()
        if row is None:
            raise ValueError(f"{_TARGET_FIELD['slice']}: no catalog slice with id "
                             f"{brief(self.sel.target_id)}")
        items = orjson.loads(row.filter)
        if not isinstance(items, list):
            raise ValueError(f"slice {self.sel.target_id}: saved filter is not a list")
        return items

    # --- items -------------------------------------------------------------------------

    def item(self, item: Any, where: str) -> None:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise ValueError(f"{where}: expected an object with a 'type', got {brief(item)}")
        kind = item["type"]
        where = f"{where} ({kind})"
        if kind == "data_row_last_activity_at":
            lo, hi = time_range(item, self.tz, where)
            self.uses_rows = True
            self.sel.conditions.append(_between(data_rows.c.last_activity_at, lo, hi))
        elif kind == "labeled_at":
            lo, hi = time_range(item, self.tz, where)
            labels = store.labels
            conds = [labels.c.data_row_pk == self.sel.key, _between(labels.c.created_at, lo, hi)]
            if self.sel.project_ids:
                conds.append(labels.c.project_id.in_(self.sel.project_ids))
            self.sel.conditions.append(exists().where(*conds))
        elif kind in ("data_row_id", "global_key"):
            self.id_item(kind, _ids(item, where))
        elif kind == "dataset":
            self.dataset_item(_ids(item, where))
        elif kind == "batch":
            self.batch_item(_ids(item, where))
        elif kind == "task_queue_not_exist":
            self.status_item("TO_LABEL")
        elif kind == "task_queue_status":
            status = item.get("status")
            if not isinstance(status, str) or status not in STATUS_BY_WIRE:
                raise ValueError(f"{where}.status: expected one of 'InReview', 'InRework' or "
                                 f"'Done', got {brief(status)}")
            self.status_item(STATUS_BY_WIRE[status])
        elif kind == "media_type":
            values = item.get("values")
            if (not isinstance(values, list) or not values
                    or not all(isinstance(v, str) and v in MEDIA_TYPES for v in values)):
                raise ValueError(f"{where}.values: expected a non-empty list of media types "
                                 f"such as 'IMAGE', got {brief(values)}")
            self.uses_rows = True
            self.sel.conditions.append(data_rows.c.media_type.in_(values))
        elif kind == "metadata":
            self.metadata_item(item, where)
        else:
            raise ValueError(f"{where}: unknown filter item type {brief(kind)}")

    def id_item(self, kind: str, ids: list[str]) -> None:
        col = data_rows.c.id if kind == "data_row_id" else data_rows.c.global_key
        self.uses_rows = True
        self.sel.conditions.append(col.in_(ids))
        found = {r[0] for r in self.conn.execute(
            select(col).select_from(self.sel.source).where(col.in_(ids), *self.scope))}
        noun = "Data row" if kind == "data_row_id" else "Global key"
        for missing in (i for i in ids if i not in found):
            self.sel.errors.append({kind: missing, "error": f"{noun} not found{self.scope_name}"})

    def dataset_item(self, ids: list[str]) -> None:
        datasets = store.datasets
        found = {r[0] for r in self.conn.execute(
            select(datasets.c.id).where(datasets.c.id.in_(ids)))}
        for missing in (i for i in ids if i not in found):
            self.sel.errors.append({"dataset_id": missing, "error": "Dataset not found"})
        cond = data_rows.c.dataset_id.in_(ids)
        self.uses_rows = True
        self.sel.conditions.append(cond)
        self.scope.append(cond)
        self.scope_name = f" in dataset {ids[0]}" if len(ids) == 1 else " in the datasets"

    def batch_item(self, ids: list[str]) -> None:
        batches = store.batches
        stmt = select(batches.c.id).where(batches.c.id.in_(ids))
        if self.sel.project_ids:
            stmt = stmt.where(batches.c.project_id.in_(self.sel.project_ids))
        found = {r[0] for r in self.conn.execute(stmt)}
        for missing in (i for i in ids if i not in found):
            self.sel.errors.append({"batch_id": missing,
                                    "error": f"Batch not found{self.scope_name}"})
        self.sel.conditions.append(self._project_row(project_rows.c.batch_id.in_(ids)))

    def status_item(self, status: str) -> None:
        self.sel.conditions.append(self._project_row(project_rows.c.workflow_status == status))

    def _project_row(self, cond: ColumnElement[bool]) -> ColumnElement[bool]:
        """`cond` on the scanned project row (project export) or on any project row of
        the data row (catalog-like exports)."""
        if self.sel.kind == "project":
            return cond
        return exists().where(project_rows.c.data_row_pk == self.sel.key, cond)

    def metadata_item(self, item: Json, where: str) -> None:
        schema_id = item.get("schemaId")
        if not isinstance(schema_id, str):
            raise ValueError(f"{where}.schemaId: expected a metadata schema id")
        fields = store.metadata_fields
        value = orjson.dumps(item.get("value")).decode()
        self.sel.conditions.append(exists().where(
            fields.c.data_row_pk == self.sel.key, fields.c.schema_id == schema_id,
            fields.c.value == value))


def select_rows(conn: Connection, kind: str, target_id: str | None,
                query: Sequence[Any] | None, timezone: str | None) -> Selection:
    """Resolve an export's scope and filters to SQL conditions and error items."""
    builder = _Builder(conn, kind, target_id or "", timezone)
    if query is not None and not isinstance(query, list | tuple):
        raise ValueError(f"{QUERY_FIELD}: expected a list of filter items, got "
                         f"{type(query).__name__}")
    items = list(query or [])
    if len(items) > MAX_FILTER_ITEMS:
        raise ValueError(f"{QUERY_FIELD}: at most {MAX_FILTER_ITEMS} filter items, got "
                         f"{len(items):,}")
    if sum(len(i["ids"]) for i in items if isinstance(i, dict) and isinstance(
            i.get("ids"), list)) > MAX_QUERY_IDS:
        raise ValueError(f"{QUERY_FIELD}: at most {MAX_QUERY_IDS:,} ids in all filter items")
    if kind == "project":
        builder.project_scope()
    elif kind == "model_run":
        builder.model_run_scope()
    elif kind == "slice":
        for n, item in enumerate(builder.slice_items()):
            builder.item(item, f"slice filter[{n}]")
    # Dataset items narrow the id-check scope, so they go first.
    ordered = sorted(enumerate(items), key=lambda e: 0 if _is_dataset(e[1]) else 1)
    for n, item in ordered:
        builder.item(item, f"{QUERY_FIELD}[{n}]")
    if builder.members is not None and not builder.uses_rows:
        # Nothing reads data_rows: scan the membership index alone.
        builder.sel.source = builder.members
    return builder.sel


def _is_dataset(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") == "dataset"

