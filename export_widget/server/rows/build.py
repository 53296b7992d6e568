"""Build export row JSON (docs/protocol.md, "Row shape") for a batch of data rows: one query
per table per batch.

`Context` caches the small lookup tables (users, projects, batches, queues, schemas, models)
once per export; `build_rows` then turns a list of data-row pks into row dicts.
"""

from __future__ import annotations

import random
import zlib
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select

from export_widget.jsontypes import Json
from export_widget.server import store
from export_widget.server.rows.times import ms_to_row_time
from export_widget.server.rows.video import interpolate_frames

CLIP_ID = "c200000000000000000000000"
CLIP_MEDIA = ("IMAGE", "TEXT")
_POOL = 64  # distinct vectors per embedding; a row picks one by a hash of its id
# Digest byte -> base-36 character, for cuid-like derived ids (`c` + 24 characters).
_BASE36 = bytes(b"0123456789abcdefghijklmnopqrstuvwxyz"[b % 36] for b in range(256))


@dataclass(frozen=True)
class Options:
    """The wire params that shape a row (camelCase on the wire)."""

    attachments: bool = False
    embeddings: bool = False
    metadata: bool = False
    data_row_details: bool = False
    project_details: bool = False
    label_details: bool = False
    performance_details: bool = False
    interpolated_frames: bool = False
    predictions: bool = False
    model_run_details: bool = False
    project_ids: tuple[str, ...] | None = None  # None: no projects section
    model_run_ids: tuple[str, ...] | None = None  # None: no experiments section
    all_projects: bool = False
    all_model_runs: bool = False


@dataclass
class Context:
    """Per-export caches of small tables, loaded once."""

    media_base_url: str
    users: dict[str, str] = field(default_factory=dict)  # id -> email
    datasets: dict[str, str] = field(default_factory=dict)
    projects: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, ontology)
    batches: dict[str, str] = field(default_factory=dict)
    schemas: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, kind)
    embeddings: dict[str, tuple[str, int, bool]] = field(default_factory=dict)
    runs: dict[str, tuple[str, str]] = field(default_factory=dict)  # run id -> (name, model)
    project_tags: dict[str, list[Json]] = field(default_factory=dict)  # project id -> tags
    models: dict[str, str] = field(default_factory=dict)
    _pools: dict[str, list[orjson.Fragment]] = field(default_factory=dict)
    _media: dict[str, Json] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, media_base_url: str) -> Context:
        ctx = cls(media_base_url.rstrip("/"))
        ctx.users = {r.id: r.email for r in conn.execute(select(store.users.c.id,
                                                                store.users.c.email))}
        def named(table: Any, *columns: str) -> Any:
            return conn.execute(select(table.c.id, table.c.name,
                                       *(table.c[c] for c in columns)))

        ctx.datasets = {r.id: r.name for r in named(store.datasets)}
        ctx.projects = {r.id: (r.name, r.ontology_id)
                        for r in named(store.projects, "ontology_id")}
        ctx.batches = {r.id: r.name for r in named(store.batches)}
        ctx.schemas = {r.id: (r.name, r.kind) for r in named(store.metadata_schemas, "kind")}
        ctx.embeddings = {r.id: (r.name, r.dimensions, bool(r.is_custom))
                          for r in conn.execute(select(store.embeddings))}
        ctx.models = {r.id: r.name for r in named(store.models)}
        ctx.runs = {r.id: (r.name, r.model_id) for r in named(store.model_runs, "model_id")}
        tags = store.project_tags
        for r in conn.execute(select(tags).order_by(tags.c.project_id, tags.c.text)):
            ctx.project_tags.setdefault(r.project_id, []).append(
                {"id": r.tag_id, "text": r.text, "color": r.color})
        return ctx

    def url(self, value: str) -> str:
        return self.media_base_url + value if value.startswith("/media/") else value

    def media_attributes(self, text: str) -> Json:
        """Parsed media attributes; rows of one kind share identical text, so parse once.

        The dict is shared between rows: built rows are read-only output.
        """
        parsed = self._media.get(text)
        if parsed is None:
            parsed = orjson.loads(text)
            if len(self._media) < 4096:
                self._media[text] = parsed
        return parsed

    def localize_media(self, text: str) -> str:
        """Stored JSON with its `/media/...` paths made absolute on this server."""
        if '"/media/' in text:
            text = text.replace('"/media/', f'"{self.media_base_url}/media/')
        return text

    def parse_annotations(self, text: str) -> Json:
        result: Json = orjson.loads(self.localize_media(text))
        return result

    def embedding(self, embedding_id: str, row_id: str) -> orjson.Fragment:
        """The export entry of a stable vector for (embedding, row), already serialized.

        Vectors are not stored: each embedding has a pool of fixed vectors and a row picks
        one by a hash of its id. Entries are pre-serialized `orjson.Fragment`s because
        formatting 512 floats per row was most of the export's serialization time; rows are
        output for `orjson.dumps`, which writes a fragment verbatim.
        """
        pool = self._pools.get(embedding_id)
        if pool is None:
            name, dims, is_custom = self.embeddings[embedding_id]
            pool = []
            for k in range(_POOL):
                rng = random.Random(f"{embedding_id}|{k}")
                vec = [round(rng.gauss(0.0, 1.0) / dims**0.5, 6) for _ in range(dims)]
                pool.append(orjson.Fragment(orjson.dumps(
                    {"id": embedding_id, "name": name, "dimensions": dims,
                     "is_custom": is_custom, "values": [{"value": vec}]})))
            self._pools[embedding_id] = pool
        return pool[zlib.crc32(row_id.encode()) % _POOL]


def _ids(col: Any) -> Any:
    return col.in_(bindparam("ids", expanding=True))


_ROW_TYPES: dict[tuple[str, ...], Any] = {}


def _plain_rows(keys: tuple[str, ...], rows: Sequence[Any]) -> list[Any]:
    """Rows as namedtuples: the builder reads ~40 attributes per data row, and namedtuple
    attribute access is several times cheaper than SQLAlchemy's Row."""
    cls = _ROW_TYPES.get(keys)
    if cls is None:
        cls = _ROW_TYPES.setdefault(keys, namedtuple("StoreRow", keys))
    return list(map(cls._make, rows))


@dataclass(frozen=True)
class _Columns:
    """Which optional columns a batch reads: each param that shows a column adds it.

    Only what the row shows is fetched: a default project export then reads its project
    rows from a covering index alone (building its rows took 28.9 us each reading every
    column, 25.4 with these)."""

    row_details: bool
    media_type: bool
    project_details: bool
    label_details: bool
    performance: bool

    @classmethod
    def of(cls, opts: Options) -> _Columns:
        return cls(row_details=opts.data_row_details, media_type=opts.embeddings,
                   project_details=opts.project_details, label_details=opts.label_details,
                   performance=opts.performance_details)

    def data_rows(self) -> list[Any]:
        t = store.data_rows
        cols = [t.c.pk, t.c.id, t.c.global_key, t.c.external_id, t.c.row_data,
                t.c.media_attributes]
        if self.row_details:
            cols += [t.c.dataset_id, t.c.created_at, t.c.updated_at, t.c.last_activity_at,
                     t.c.created_by]
        if self.media_type:
            cols.append(t.c.media_type)
        return cols

    def project_rows(self) -> list[Any]:
        t = store.project_rows
        return list(t.c) if self.project_details else [t.c.data_row_pk, t.c.project_id]

    def labels(self) -> list[Any]:
        t = store.labels
        cols = [t.c.id, t.c.project_id, t.c.data_row_pk, t.c.label_kind, t.c.annotations]
        if self.label_details:
            cols += [t.c.created_by, t.c.created_at, t.c.updated_at]
        if self.performance:
            cols += [t.c.seconds_to_create, t.c.seconds_to_review, t.c.seconds_to_rework,
                     t.c.skipped]
        return cols


class _Queries:
    """The batch statements, built once for one way of naming the batch's data rows and
    one set of columns.

    Two ways exist: by pk range (`BETWEEN :lo AND :hi`, filtered in Python; used when the
    batch is dense, as keyset pages of a project usually are) and by pk list (expanding
    IN). Rendering 500 IN placeholders per query was a visible cost.
    """

    def __init__(self, pks: Any, columns: _Columns) -> None:
        def per_row(table: Any, *order: str, ids: str | None = None,
                    cols: list[Any] | None = None) -> Any:
            """The table's lines for the batch's rows (and the given ids of `ids`)."""
            where = [pks(table.c.data_row_pk)]
            if ids is not None:
                where.append(_ids(table.c[ids]))
            return select(*(cols or [table])).where(*where).order_by(
                *(table.c[c] for c in order))

        self.rows = select(*columns.data_rows()).where(pks(store.data_rows.c.pk))
        self.attachments = per_row(store.attachments, "data_row_pk", "id")
        self.metadata = per_row(store.metadata_fields, "data_row_pk", "schema_id")
        self.embeddings = per_row(store.data_row_embeddings, "data_row_pk", "embedding_id")
        member_cols = columns.project_rows()
        self.project_rows_all = per_row(store.project_rows, "data_row_pk", "project_id",
                                        cols=member_cols)
        self.project_rows = per_row(store.project_rows, "data_row_pk", "project_id",
                                    ids="project_id", cols=member_cols)
        self.labels = per_row(store.labels, "data_row_pk", "created_at", "id", ids="project_id",
                              cols=columns.labels())
        self.history = per_row(store.workflow_history, "project_id", "data_row_pk", "seq",
                               ids="project_id")
        self.run_rows_all = per_row(store.model_run_rows, "data_row_pk", "model_run_id")
        self.run_rows = per_row(store.model_run_rows, "data_row_pk", "model_run_id",
                                ids="model_run_id")
        self.predictions = per_row(store.predictions, "created_at", "id", ids="model_run_id")
        labels, run_labels = store.labels, store.model_run_labels
        self.run_labels = (
            select(run_labels.c.model_run_id, labels)
            .join(labels, labels.c.id == run_labels.c.label_id)
            .where(pks(run_labels.c.data_row_pk), _ids(run_labels.c.model_run_id))
            .order_by(labels.c.created_at, labels.c.id))


_QUERIES: dict[tuple[bool, _Columns], _Queries] = {}


def _queries(dense: bool, opts: Options) -> _Queries:
    columns = _Columns.of(opts)
    queries = _QUERIES.get((dense, columns))
    if queries is None:
        pks = _by_range if dense else _by_list
        queries = _QUERIES.setdefault((dense, columns), _Queries(pks, columns))
    return queries


def _by_range(col: Any) -> Any:
    return col.between(bindparam("lo"), bindparam("hi"))


def _by_list(col: Any) -> Any:
    return col.in_(bindparam("pks", expanding=True))


_Q_REVIEWS = select(store.reviews).where(_ids(store.reviews.c.label_id)).order_by(
    store.reviews.c.created_at, store.reviews.c.id)


def _group(rows: Any, key: str) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for r in rows:
        out.setdefault(getattr(r, key), []).append(r)
    return out


class _Batch:
    """The SQL reads for one batch of data rows."""

    def __init__(self, conn: Connection, ctx: Context, opts: Options, pks: list[int]) -> None:
        self.conn, self.ctx, self.opts, self.pks = conn, ctx, opts, pks
        lo, hi = min(pks), max(pks)
        self.dense = hi - lo < 2 * len(pks)
        self.q = _queries(self.dense, opts)
        self.params: Json = {"lo": lo, "hi": hi} if self.dense else {"pks": pks}
        self.wanted = set(pks)

    def _run(self, stmt: Any, ids: list[str] | None = None, key: str = "data_row_pk") -> Any:
        params = self.params if ids is None else {**self.params, "ids": ids}
        result = self.conn.execute(stmt, params)
        rows = _plain_rows(tuple(result.keys()), result.all())
        if self.dense and len(rows) and len(self.wanted) != self.params["hi"] - \
                self.params["lo"] + 1:
            wanted = self.wanted
            rows = [r for r in rows if getattr(r, key) in wanted]
        return rows

    def data_rows(self) -> list[Any]:
        rows = self._run(self.q.rows, key="pk")
        order = {pk: n for n, pk in enumerate(self.pks)}
        return sorted(rows, key=lambda r: order[r.pk])

    def attachments(self) -> dict[int, list[Json]]:
        out: dict[int, list[Json]] = {}
        for r in self._run(self.q.attachments):
            out.setdefault(r.data_row_pk, []).append(
                {"id": r.id, "type": r.type, "value": self.ctx.url(r.value), "name": r.name})
        return out

    def metadata(self) -> dict[int, list[Json]]:
        schemas = self.ctx.schemas
        out: dict[int, list[Json]] = {}
        for r in self._run(self.q.metadata):
            name, kind = schemas[r.schema_id]
            value = orjson.loads(r.value)
            if kind == "enum":
                value = {"schema_id": value, "schema_name": schemas[value][0]}
            out.setdefault(r.data_row_pk, []).append(
                {"schema_id": r.schema_id, "schema_name": name, "value": value})
        return out

    def custom_embeddings(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for r in self._run(self.q.embeddings):
            out.setdefault(r.data_row_pk, []).append(r.embedding_id)
        return out

    def project_rows(self) -> list[Any]:
        if self.opts.all_projects:
            return list(self._run(self.q.project_rows_all))
        return list(self._run(self.q.project_rows, list(self.opts.project_ids or ())))

    def labels(self, project_ids: list[str]) -> list[Any]:
        return list(self._run(self.q.labels, project_ids))

    def reviews(self, label_ids: list[str]) -> dict[str, list[Json]]:
        out: dict[str, list[Json]] = {}
        users = self.ctx.users
        for r in self.conn.execute(_Q_REVIEWS, {"ids": label_ids}).all():
            out.setdefault(r.label_id, []).append(
                {"id": r.id, "review_action": r.action,
                 "reviewed_at": ms_to_row_time(r.created_at),
                 "reviewed_by": users.get(r.created_by)})
        return out

    def history(self, project_ids: list[str]) -> dict[tuple[str, int], list[Json]]:
        out: dict[tuple[str, int], list[Json]] = {}
        users = self.ctx.users
        for r in self._run(self.q.history, project_ids):
            out.setdefault((r.project_id, r.data_row_pk), []).append({
                "action": r.action, "created_at": ms_to_row_time(r.created_at),
                "created_by": users.get(r.created_by),
                "previous_task_id": r.previous_task_id,
                "previous_task_name": r.previous_task_name,
                "next_task_id": r.next_task_id, "next_task_name": r.next_task_name,
            })
        return out

    def run_rows(self) -> list[Any]:
        if self.opts.all_model_runs:
            return list(self._run(self.q.run_rows_all))
        return list(self._run(self.q.run_rows, list(self.opts.model_run_ids or ())))

    def run_labels(self, run_ids: list[str]) -> dict[tuple[str, int], list[Any]]:
        out: dict[tuple[str, int], list[Any]] = {}
        for r in self._run(self.q.run_labels, run_ids):
            out.setdefault((r.model_run_id, r.data_row_pk), []).append(r)
        return out

    def predictions(self, run_ids: list[str]) -> dict[tuple[str, int], list[Any]]:
        out: dict[tuple[str, int], list[Any]] = {}
        for r in self._run(self.q.predictions, run_ids):
            out.setdefault((r.model_run_id, r.data_row_pk), []).append(r)
        return out


def _label_base(ctx: Context, r: Any, interpolate: bool) -> Json:
    ann: Json | orjson.Fragment
    if interpolate and '"key_frame_feature_map"' in r.annotations:
        ann = ctx.parse_annotations(r.annotations)
        ann["frames"] = interpolate_frames(ann)
    else:
        # Stored annotations are already JSON: pass them through instead of parsing and
        # re-serializing them (a third of the builder's time on labeled rows).
        ann = orjson.Fragment(ctx.localize_media(r.annotations))
    return {"label_kind": r.label_kind, "version": "1.0.0", "id": r.id, "annotations": ann}


def _project_label(ctx: Context, opts: Options, r: Any, reviews: dict[str, list[Json]]) -> Json:
    out = _label_base(ctx, r, opts.interpolated_frames)
    if opts.label_details:
        updated = ms_to_row_time(r.updated_at)
        out["label_details"] = {
            "created_at": ms_to_row_time(r.created_at),
            "updated_at": updated,
            "created_by": ctx.users.get(r.created_by),
            "content_last_updated_at": updated,
            "reviews": reviews.get(r.id, []),
        }
    if opts.performance_details:
        total = r.seconds_to_create + r.seconds_to_review + r.seconds_to_rework
        out["performance_details"] = {
            "seconds_to_create": r.seconds_to_create,
            "seconds_to_review": r.seconds_to_review,
            "skipped": bool(r.skipped),
            "performance_details_v2": {
                "seconds_to_create": r.seconds_to_create,
                "seconds_to_review": r.seconds_to_review,
                "seconds_to_rework": r.seconds_to_rework,
                "seconds_total": total,
            },
        }
    return out


def _project_details(ctx: Context, member: Any, history: list[Json]) -> Json:
    return {
        "ontology_id": ctx.projects[member.project_id][1],
        "task_id": member.task_id,
        "task_name": member.task_name,
        "batch_id": member.batch_id,
        "batch_name": ctx.batches.get(member.batch_id),
        "workflow_status": member.workflow_status,
        "priority": member.priority,
        "consensus_expected_label_count": member.consensus_expected_label_count,
        "selected_label_id": member.selected_label_id,
        "created_at": ms_to_row_time(member.created_at),
        "updated_at": ms_to_row_time(member.updated_at),
        "workflow_history": history,
    }


def annotation_group_id(run_data_row_id: str) -> str:
    """The id of a data row's annotation group in a model run (its ground truth and its
    predictions): one per run data row, so derived from that id, stable across exports."""
    digest = blake2b(f"annotation_group|{run_data_row_id}".encode(), digest_size=24).digest()
    return "c" + digest.translate(_BASE36).decode()


def _projects(batch: _Batch, with_tags: bool) -> dict[int, Json]:
    ctx, opts = batch.ctx, batch.opts
    members = batch.project_rows()
    if not members:
        return {}
    project_ids = sorted({r.project_id for r in members})
    labels = _group(batch.labels(project_ids), "data_row_pk")
    reviews = batch.reviews([r.id for rs in labels.values() for r in rs]) \
        if opts.label_details else {}
    history = batch.history(project_ids) if opts.project_details else {}
    out: dict[int, Json] = {}
    for member in members:
        entry: Json = {
            "name": ctx.projects[member.project_id][0],
            "labels": [_project_label(ctx, opts, lab, reviews)
                       for lab in labels.get(member.data_row_pk, ())
                       if lab.project_id == member.project_id],
        }
        if opts.project_details:
            entry["project_details"] = _project_details(
                ctx, member, history.get((member.project_id, member.data_row_pk), []))
        if with_tags:  # "Always" in project exports, absent from catalog ones
            entry["project_tags"] = ctx.project_tags.get(member.project_id, [])
        out.setdefault(member.data_row_pk, {})[member.project_id] = entry
    return out


def _experiments(batch: _Batch, with_split: bool) -> dict[int, Json]:
    ctx, opts = batch.ctx, batch.opts
    members = batch.run_rows()
    if not members:
        return {}
    run_ids = sorted({r.model_run_id for r in members})
    ground_truth = batch.run_labels(run_ids)
    preds = batch.predictions(run_ids) if opts.predictions else {}
    out: dict[int, Json] = {}
    for member in members:
        run_name, model_id = ctx.runs[member.model_run_id]
        key = (member.model_run_id, member.data_row_pk)
        run: Json = {
            "name": run_name,
            "annotation_group_id": annotation_group_id(member.run_data_row_id),
            "run_data_row_id": member.run_data_row_id,
            "labels": [_label_base(ctx, lab, opts.interpolated_frames)
                       for lab in ground_truth.get(key, ())],
        }
        if opts.predictions:
            run["predictions"] = [_label_base(ctx, p, opts.interpolated_frames)
                                  for p in preds.get(key, ())]
        if with_split:
            run["split"] = member.split
        model = out.setdefault(member.data_row_pk, {}).setdefault(
            model_id, {"name": ctx.models[model_id], "runs": {}})
        model["runs"][member.model_run_id] = run
    return out


def build_rows(conn: Connection, ctx: Context, opts: Options, pks: list[int], *,
               with_projects: bool, with_experiments: bool, with_split: bool,
               with_project_tags: bool = False) -> list[Json]:
    """Row JSON for `pks`, in that order. `with_project_tags`: a project export."""
    if not pks:
        return []
    batch = _Batch(conn, ctx, opts, pks)
    rows = batch.data_rows()
    attachments = batch.attachments() if opts.attachments else {}
    metadata = batch.metadata() if opts.metadata else {}
    custom = batch.custom_embeddings() if opts.embeddings else {}
    projects = _projects(batch, with_project_tags) if with_projects else {}
    experiments = _experiments(batch, with_split) if with_experiments else {}
    users, datasets = ctx.users, ctx.datasets
    out: list[Json] = []
    for r in rows:
        data_row: Json = {"id": r.id}
        if r.global_key is not None:
            data_row["global_key"] = r.global_key
        if r.external_id is not None:
            data_row["external_id"] = r.external_id
        data_row["row_data"] = ctx.url(r.row_data)
        if opts.data_row_details:
            data_row["details"] = {
                "dataset_id": r.dataset_id,
                "dataset_name": datasets.get(r.dataset_id),
                "created_at": ms_to_row_time(r.created_at),
                "updated_at": ms_to_row_time(r.updated_at),
                "last_activity_at": ms_to_row_time(r.last_activity_at),
                "created_by": users.get(r.created_by),
            }
        row: Json = {"data_row": data_row,
                     "media_attributes": ctx.media_attributes(r.media_attributes)}
        if opts.attachments:
            row["attachments"] = attachments.get(r.pk, [])
        if opts.metadata:
            row["metadata_fields"] = metadata.get(r.pk, [])
        if opts.embeddings:
            row["embeddings"] = _embeddings(ctx, r, custom.get(r.pk, []))
        if with_projects:
            row["projects"] = projects.get(r.pk, {})
        if with_experiments:
            row["experiments"] = experiments.get(r.pk, {})
        out.append(row)
    return out


def _embeddings(ctx: Context, r: Any, custom: list[str]) -> list[orjson.Fragment]:
    ids = ([CLIP_ID] if r.media_type in CLIP_MEDIA and CLIP_ID in ctx.embeddings else []) + custom
    return [ctx.embedding(eid, r.id) for eid in ids]
