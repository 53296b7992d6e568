"""Rows -> label, annotation and classification records, by SQL in DuckDB.

The export's rows are nested and keyed by ids (`projects.<project id>.labels`,
`experiments.<model id>.runs.<run id>.predictions`, video `frames.<n>.objects.<feature id>`).
`with_clause` defines, over an Arrow chunk named `chunk` (see `lines.py`), four views that
flatten them with DuckDB's JSON functions:

- `rows`            one per line: ids, media type, dataset, and the row itself as `json`
- `labels`          one per label: project labels, and model-run ground truth and predictions
                    (`source` = 'project' | 'ground_truth' | 'prediction')
- `annotations`     one per object (per frame for video), with a geometry summary
- `classifications` one per classification answer, nested ones included, with their parent

The same views serve the Table, `labels_frame` and structured search, so what a query sees is
what the table shows.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, get_args

import duckdb
import pyarrow as pa

from .lines import Source, chunks, snapshot

Grain = Literal["label", "annotation", "classification"]
GRAINS: tuple[Grain, ...] = get_args(Grain)
VIEW_OF_GRAIN: dict[Grain, str] = {"label": "labels", "annotation": "annotations",
                                   "classification": "classifications"}

_ROW = ('{"data_row": {"id": "VARCHAR", "global_key": "VARCHAR", "external_id": "VARCHAR",'
        ' "row_data": "VARCHAR", "details": {"dataset_name": "VARCHAR"}},'
        ' "media_attributes": {"asset_type": "VARCHAR", "mime_type": "VARCHAR",'
        ' "width": "BIGINT", "height": "BIGINT"}}')
# The labels side is parsed once per row into typed structs (one JSON parse, no re-parsing
# of nested documents); only classifications stay JSON, since they nest without a bound.
_POINT = "STRUCT(x DOUBLE, y DOUBLE)"
_OBJECT = (
    "STRUCT(feature_id VARCHAR, feature_schema_id VARCHAR, name VARCHAR,"
    " annotation_kind VARCHAR, classifications JSON[],"
    ' bounding_box STRUCT(top DOUBLE, "left" DOUBLE, height DOUBLE, width DOUBLE),'
    f" point {_POINT}, polygon {_POINT}[], line {_POINT}[],"
    " mask STRUCT(url VARCHAR), composite_mask STRUCT(url VARCHAR, color_rgb BIGINT[]),"
    ' location STRUCT(start BIGINT, "end" BIGINT, token VARCHAR,'
    "   groups STRUCT(page_number BIGINT, text VARCHAR)[]),"
    " conversational_location STRUCT(message_id VARCHAR,"
    '   location STRUCT(start BIGINT, "end" BIGINT)),'
    ' page_number BIGINT, geojson STRUCT("type" VARCHAR, coordinates JSON))')
_FRAME = f"STRUCT(objects MAP(VARCHAR, {_OBJECT}), classifications JSON[])"
_ANNOTATIONS = (f"STRUCT(objects {_OBJECT}[], classifications JSON[],"
                f" frames MAP(VARCHAR, {_FRAME}))")
_LABEL = ("STRUCT(id VARCHAR, label_kind VARCHAR, label_details STRUCT(created_at VARCHAR,"
          " updated_at VARCHAR, created_by VARCHAR,"
          " reviews STRUCT(review_action VARCHAR, reviewed_by VARCHAR)[]),"
          f" annotations {_ANNOTATIONS})")
_PROJECT = (f"STRUCT(name VARCHAR, labels {_LABEL}[],"
            " project_details STRUCT(workflow_status VARCHAR, task_name VARCHAR))")
_RUN = f"STRUCT(name VARCHAR, split VARCHAR, labels {_LABEL}[], predictions {_LABEL}[])"
_MODEL = f"STRUCT(name VARCHAR, runs MAP(VARCHAR, {_RUN}))"
_LABELLED_ROW = json.dumps({
    "data_row": {"id": "VARCHAR", "global_key": "VARCHAR"},
    "media_attributes": {"asset_type": "VARCHAR", "mime_type": "VARCHAR"},
    "projects": f"MAP(VARCHAR, {_PROJECT})", "experiments": f"MAP(VARCHAR, {_MODEL})"})
_ANSWER = ('{"feature_id": "VARCHAR", "feature_schema_id": "VARCHAR", "name": "VARCHAR",'
           ' "classifications": "JSON[]"}')
_CLASSIFICATION = (
    '{"feature_id": "VARCHAR", "feature_schema_id": "VARCHAR", "name": "VARCHAR",'
    ' "message_id": "VARCHAR",'
    f' "radio_answer": {_ANSWER}, "conversational_radio_answer": {_ANSWER},'
    f' "checklist_answers": [{_ANSWER}], "conversational_checklist_answers": [{_ANSWER}],'
    ' "text_answer": {"content": "VARCHAR"}, "conversational_text_answer": {"content": "VARCHAR"}}')

# Columns every label-level record carries, in table order.
LABEL_COLUMNS = (
    "line", "data_row_id", "global_key", "media_type", "source", "project_id", "project_name",
    "model_run_id", "model_run_name", "split", "workflow_status", "label_id", "label_kind",
    "created_by", "created_at", "updated_at", "review_verdicts", "reviewed_by",
)
_L = ", ".join(f"l.{c}" for c in LABEL_COLUMNS)

# The views over `chunk`, each read only by those after it. `@stage` marks a level that
# several later ones read: it is computed once per query (see `WITH_VIEWS`).
_DEFINITIONS = f"""
@view _parsed
SELECT line, json, json_transform(json, '{_ROW}') AS r FROM chunk;

@view rows
SELECT line,
       r.data_row.id AS data_row_id,
       r.data_row.global_key AS global_key,
       r.data_row.external_id AS external_id,
       upper(coalesce(r.media_attributes.asset_type,
                      split_part(r.media_attributes.mime_type, '/', 1))) AS media_type,
       r.data_row.details.dataset_name AS dataset_name,
       r.data_row.row_data AS row_data,
       r.media_attributes.width AS width, r.media_attributes.height AS height,
       json::JSON AS json
FROM _parsed;

@stage _row_keys
SELECT line, r.data_row.id AS data_row_id, r.data_row.global_key AS global_key,
       upper(coalesce(r.media_attributes.asset_type,
                      split_part(r.media_attributes.mime_type, '/', 1))) AS media_type,
       r.projects, r.experiments
FROM (SELECT line, json_transform(json, '{_LABELLED_ROW}') AS r FROM chunk);

@view _project_labels
WITH p AS (
  SELECT line, data_row_id, global_key, media_type,
         unnest(map_entries(projects)) AS e, generate_subscripts(map_keys(projects), 1) AS pi
  FROM _row_keys WHERE cardinality(projects) > 0
)
SELECT line, data_row_id, global_key, media_type, 'project' AS source, e.key AS project_id,
       e.value.name AS project_name, NULL::VARCHAR AS model_run_id,
       NULL::VARCHAR AS model_run_name, NULL::VARCHAR AS split,
       e.value.project_details.workflow_status AS workflow_status,
       pi AS source_order, unnest(e.value.labels) AS label,
       generate_subscripts(e.value.labels, 1) AS li
FROM p WHERE len(e.value.labels) > 0;

@view _run_labels
WITH m AS (
  SELECT line, data_row_id, global_key, media_type, unnest(map_values(experiments)) AS mv
  FROM _row_keys WHERE cardinality(experiments) > 0
), r AS (
  SELECT * EXCLUDE (mv), unnest(map_entries(mv.runs)) AS e,
         generate_subscripts(map_keys(mv.runs), 1) AS ri
  FROM m
), rv AS (
  SELECT * EXCLUDE (e), e.key AS model_run_id, e.value AS v FROM r
), gt AS (
  SELECT *, 'ground_truth' AS source, unnest(v.labels) AS label,
         generate_subscripts(v.labels, 1) AS li FROM rv WHERE len(v.labels) > 0
), pr AS (
  SELECT *, 'prediction' AS source, unnest(v.predictions) AS label,
         generate_subscripts(v.predictions, 1) AS li FROM rv WHERE len(v.predictions) > 0
)
SELECT line, data_row_id, global_key, media_type, source, NULL::VARCHAR AS project_id,
       NULL::VARCHAR AS project_name, model_run_id, v.name AS model_run_name, v.split AS split,
       NULL::VARCHAR AS workflow_status, 1000000 + ri * 2 + (source = 'prediction')::INT
       AS source_order, label, li
FROM (SELECT * FROM gt UNION ALL SELECT * FROM pr);

@stage _labels
WITH a AS (SELECT * FROM _project_labels UNION ALL SELECT * FROM _run_labels)
SELECT line, data_row_id, global_key, media_type, source, project_id, project_name,
       model_run_id, model_run_name, split, workflow_status,
       label.id AS label_id, label.label_kind AS label_kind,
       label.label_details.created_by AS created_by,
       TRY_CAST(label.label_details.created_at AS TIMESTAMPTZ) AS created_at,
       TRY_CAST(label.label_details.updated_at AS TIMESTAMPTZ) AS updated_at,
       nullif(array_to_string(list_transform(label.label_details.reviews,
                                             lambda x: x.review_action), ', '), '')
         AS review_verdicts,
       nullif(array_to_string(list_distinct(list_transform(label.label_details.reviews,
                                             lambda x: x.reviewed_by)), ', '), '') AS reviewed_by,
       label.annotations AS ann,
       source_order, li
FROM a;

@view labels
SELECT {", ".join(LABEL_COLUMNS)},
       coalesce(len(ann.objects), 0)
         + coalesce(list_sum(list_transform(map_values(ann.frames),
             lambda f: cardinality(f.objects))), 0) AS object_count,
       coalesce(len(ann.classifications), 0) AS classification_count,
       source_order, li
FROM _labels;

@stage _objects
WITH still AS (
  SELECT *, NULL::BIGINT AS frame, unnest(ann.objects) AS o,
         generate_subscripts(ann.objects, 1) AS oi
  FROM _labels WHERE len(ann.objects) > 0
), fr AS (
  SELECT *, unnest(map_entries(ann.frames)) AS fe FROM _labels WHERE cardinality(ann.frames) > 0
), video AS (
  SELECT * EXCLUDE (fe), TRY_CAST(fe.key AS BIGINT) AS frame,
         unnest(map_values(fe.value.objects)) AS o,
         generate_subscripts(map_keys(fe.value.objects), 1) AS oi
  FROM fr WHERE cardinality(fe.value.objects) > 0
)
SELECT * EXCLUDE (o, ann), o AS ov FROM still
UNION ALL
SELECT * EXCLUDE (o, ann), o AS ov FROM video;

@view annotations
SELECT {", ".join(LABEL_COLUMNS)},
       ov.feature_id AS feature_id, ov.name AS feature_name,
       ov.feature_schema_id AS feature_schema_id, ov.annotation_kind AS annotation_kind,
       coalesce(ov.bounding_box.left, ov.point.x) AS x,
       coalesce(ov.bounding_box.top, ov.point.y) AS y,
       ov.bounding_box.width AS width, ov.bounding_box.height AS height,
       ov.bounding_box.width * ov.bounding_box.height AS area,
       coalesce(len(ov.polygon), len(ov.line),
                CASE ov.geojson.type WHEN 'Point' THEN 1
                  WHEN 'LineString' THEN json_array_length(ov.geojson.coordinates)
                  WHEN 'Polygon' THEN json_array_length(ov.geojson.coordinates, '$[0]')
                END) AS point_count,
       coalesce(ov.mask.url, ov.composite_mask.url) AS mask_url,
       NULL::BIGINT AS mask_area,
       frame,
       coalesce(ov.location.start, ov.conversational_location.location.start) AS span_start,
       coalesce(ov.location."end", ov.conversational_location.location."end") AS span_end,
       coalesce(ov.location.token, nullif(array_to_string(
                  list_transform(ov.location.groups, lambda g: g.text), ' '), '')) AS span_text,
       ov.conversational_location.message_id AS message_id,
       coalesce(ov.page_number, ov.location.groups[1].page_number) AS page,
       source_order, li, coalesce(frame, 0) AS fi, oi
FROM _objects;

@view _class_roots
WITH top AS (
  SELECT line, source_order, li, NULL::BIGINT AS frame, NULL::VARCHAR AS parent_feature_id,
         unnest(ann.classifications) AS c, generate_subscripts(ann.classifications, 1) AS ci
  FROM _labels WHERE len(ann.classifications) > 0
), fr AS (
  SELECT line, source_order, li, TRY_CAST(fe.key AS BIGINT) AS frame,
         fe.value.classifications AS cs
  FROM (SELECT *, unnest(map_entries(ann.frames)) AS fe FROM _labels
        WHERE cardinality(ann.frames) > 0)
), per_frame AS (
  SELECT line, source_order, li, frame, NULL::VARCHAR AS parent_feature_id, unnest(cs) AS c,
         1000 + generate_subscripts(cs, 1) AS ci
  FROM fr WHERE len(cs) > 0
), on_objects AS (
  SELECT line, source_order, li, frame, ov.feature_id AS parent_feature_id,
         unnest(ov.classifications) AS c, 100000 * oi + generate_subscripts(ov.classifications, 1)
         AS ci
  FROM _objects WHERE len(ov.classifications) > 0
)
SELECT * FROM top UNION ALL SELECT * FROM per_frame UNION ALL SELECT * FROM on_objects;

@stage _classes
WITH RECURSIVE walk(line, source_order, li, frame, parent_feature_id, ci, depth, cv) AS (
  SELECT line, source_order, li, frame, parent_feature_id, [ci], 0,
         json_transform(c, '{_CLASSIFICATION}')
  FROM _class_roots
  UNION ALL
  SELECT line, source_order, li, frame, a.feature_id, list_append(ci, k), depth + 1,
         json_transform(n, '{_CLASSIFICATION}')
  FROM (SELECT w.*, unnest(list_concat(
            [coalesce(cv.radio_answer, cv.conversational_radio_answer)],
            coalesce(cv.checklist_answers, cv.conversational_checklist_answers))) AS a
        FROM walk w WHERE depth < 8),
       LATERAL (SELECT unnest(a.classifications) AS n,
                       generate_subscripts(a.classifications, 1) AS k)
  WHERE a.classifications IS NOT NULL
)
SELECT * FROM walk;

@view classifications
WITH answers AS (
  SELECT *, 'radio' AS answer_kind,
         coalesce(cv.radio_answer, cv.conversational_radio_answer) AS a, NULL AS text, 0 AS ai
  FROM _classes WHERE coalesce(cv.radio_answer, cv.conversational_radio_answer) IS NOT NULL
  UNION ALL
  SELECT *, 'checklist',
         unnest(coalesce(cv.checklist_answers, cv.conversational_checklist_answers)), NULL,
         generate_subscripts(coalesce(cv.checklist_answers,
                                      cv.conversational_checklist_answers), 1)
  FROM _classes
  WHERE len(coalesce(cv.checklist_answers, cv.conversational_checklist_answers)) > 0
  UNION ALL
  SELECT *, 'text', NULL,
         coalesce(cv.text_answer.content, cv.conversational_text_answer.content), 0
  FROM _classes
  WHERE coalesce(cv.text_answer.content, cv.conversational_text_answer.content) IS NOT NULL
)
SELECT {_L},
       s.cv.feature_id AS feature_id, s.cv.name AS feature_name,
       s.cv.feature_schema_id AS feature_schema_id, s.answer_kind,
       coalesce(s.a.name, s.text) AS answer, s.a.feature_schema_id AS answer_schema_id,
       s.parent_feature_id, s.frame, s.cv.message_id AS message_id, s.depth,
       l.source_order, l.li, s.ci, s.ai
FROM answers s JOIN _labels l USING (line, source_order, li);
"""

# Public columns per grain (the ordering helpers are dropped on the way out).
_ORDER = {"label": "line, source_order, li",
          "annotation": "line, source_order, li, fi, oi",
          "classification": "line, source_order, li, ci, ai"}
_HIDDEN = {"label": ("source_order", "li"), "annotation": ("source_order", "li", "fi", "oi"),
           "classification": ("source_order", "li", "ci", "ai")}
EMPTY_CHUNK = pa.table({"line": pa.array([], pa.int64()), "json": pa.array([], pa.large_string())})


@dataclass(frozen=True)
class _Definition:
    name: str
    body: str
    stage: bool  # MATERIALIZED: computed once per query however many definitions read it


def _definitions(text: str) -> tuple[_Definition, ...]:
    parts = re.split(r"^@(view|stage) (\w+)\n", text.strip(), flags=re.MULTILINE)[1:]
    return tuple(_Definition(name, body.strip().rstrip(";").strip(), kind == "stage")
                 for kind, name, body in zip(parts[0::3], parts[1::3], parts[2::3], strict=True))


def _with_clause(lean: bool) -> str:
    parts = []
    for d in _definitions(_DEFINITIONS):
        body = d.body
        if lean and d.name == "_row_keys":
            # Without the classifications view nothing reads a classification but to count
            # it: a one-field struct counts the same, with no JSON written back out.
            body = body.replace("classifications JSON[]", "classifications STRUCT(name VARCHAR)[]")
        parts.append(f"{d.name} AS {'MATERIALIZED ' if d.stage else ''}(\n{body}\n)")
    return "WITH RECURSIVE " + ",\n".join(parts) + "\n"


# The views are common table expressions of each query rather than views in the catalog:
# the levels that flatten labels (`_row_keys`, `_labels`, `_objects`, `_classes`) are
# MATERIALIZED, so a row's JSON is parsed once per query however many places read it (as
# catalog views, DuckDB inlined them and parsed each row several times), and nothing is
# written to a table (inserting the nested structs cost more than parsing them). DuckDB plans
# only the expressions a query reads, so defining all of them costs little.
WITH_VIEWS = _with_clause(lean=False)
_WITH_VIEWS_LEAN = _with_clause(lean=True)
# A query that names none of these does not read classifications' JSON (~10% of the work).
_READS_CLASSIFICATIONS = re.compile(r"\bclassifications\b|\b_class", re.IGNORECASE)


class Tables:
    """One DuckDB connection over one chunk of lines at a time.

    `load` registers the chunk; `sql` runs a query over the views (see `WITH_VIEWS`),
    computing only the levels the query reads.
    """

    def __init__(self) -> None:
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        # Levels are sorted when read (by line and position), so they need not keep their
        # order, which lets DuckDB fill them on every core.
        con.execute("SET preserve_insertion_order = false")
        con.register("chunk", EMPTY_CHUNK)
        # A structured query typed by a user reads the registered chunk and nothing else:
        # no files, no network, no extensions, and it cannot turn that back on.
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        self.con = con

    def load(self, chunk: pa.Table) -> None:
        """Make the views show `chunk`'s lines in the queries `sql` runs."""
        self.con.register("chunk", chunk)

    def sql(self, query: str) -> duckdb.DuckDBPyRelation:
        """`query` (a SELECT or FROM ... without a leading WITH of its own) over the views."""
        lean = _READS_CLASSIFICATIONS.search(query) is None
        return self.con.sql((_WITH_VIEWS_LEAN if lean else WITH_VIEWS) + query)

    def grain(self, grain: Grain) -> pa.Table:
        """The loaded chunk's records at `grain`, in export order."""
        return self.sql(grain_query(grain)).to_arrow_table()

    def close(self) -> None:
        self.con.close()


_pool: list[Tables] = []
_pool_lock = threading.Lock()


@contextmanager
def borrow() -> Iterator[Tables]:
    """A `Tables` for the duration of one job; connections are kept for the next job."""
    with _pool_lock:
        tables = _pool.pop() if _pool else None
    if tables is None:
        tables = Tables()
    try:
        yield tables
    finally:
        tables.con.register("chunk", EMPTY_CHUNK)
        with _pool_lock:
            if len(_pool) < 4:
                _pool.append(tables)
            else:
                tables.close()


def grain_query(grain: Grain) -> str:
    """The SQL that lists one chunk's records at `grain`, in export order."""
    if grain not in VIEW_OF_GRAIN:
        raise ValueError(f"grain: must be one of {', '.join(GRAINS)}, got {grain!r}")
    hidden = ", ".join(_HIDDEN[grain])
    return (f"SELECT * EXCLUDE ({hidden}) FROM {VIEW_OF_GRAIN[grain]} "
            f"ORDER BY {_ORDER[grain]}")


def iter_tables(source: Source, grain: Grain, *, start: int = 0, stop: int | None = None,
                should_stop: Callable[[], bool] | None = None,
                on_progress: Callable[[int, int], None] | None = None) -> Iterator[pa.Table]:
    """The records at `grain` of lines [start, stop), as one Arrow table per chunk."""
    grain_query(grain)  # checks the grain before any work
    snap = snapshot(source)
    end = snap.count if stop is None else min(stop, snap.count)
    with borrow() as t:
        for chunk in chunks(snap, start, end):
            if should_stop is not None and should_stop():
                return
            t.load(chunk)
            yield t.grain(grain)
            if on_progress is not None:
                on_progress(chunk.column("line")[-1].as_py() + 1 - start, end - start)


def labels_table(source: Source, grain: Grain = "label", **kw: Any) -> pa.Table:
    """All records at `grain` as one Arrow table (columns as in `labels_frame`)."""
    parts = list(iter_tables(source, grain, **kw))
    if not parts:
        with borrow() as t:
            t.load(EMPTY_CHUNK)
            return t.grain(grain)
    return pa.concat_tables(parts)


def labels_frame(source: Source, grain: Grain = "label", **kw: Any) -> Any:
    """One row per label, annotation or classification answer, as a pandas DataFrame.

    `source` is a spool (only its committed lines are read) or an NDJSON file. Built chunk by
    chunk in DuckDB; the frame is assembled from Arrow at the end.
    """
    return labels_table(source, grain, **kw).to_pandas()
