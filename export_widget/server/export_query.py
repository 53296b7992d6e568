"""Export selection and row JSON: what the export engine calls.

`count_export(engine, spec)` counts the lines an export will write (rows + error items);
`iter_export(engine, spec)` yields them in batches, in a stable order (errors first, then
rows by insertion order), with memory bounded by the batch size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from export_widget.server.rows.build import Context, Options, build_rows
from export_widget.server.selection import Selection, select_rows

Json = dict[str, Any]
Item = tuple[str, Json]

KINDS = ("project", "catalog", "slice", "model_run")
MEDIA_TYPES = frozenset({
    "AUDIO", "CONVERSATIONAL", "DICOM", "PDF", "TMS_GEO", "HTML", "IMAGE",
    "LLM_PROMPT_CREATION", "LLM_PROMPT_RESPONSE_CREATION", "TEXT", "TMS_SIMPLE", "UNKNOWN",
    "UNSUPPORTED", "VIDEO", "POINT_CLOUD", "LLM",
})
_BOOL_PARAMS = {
    "includeAttachments": "attachments",
    "includeEmbeddings": "embeddings",
    "includeMetadata": "metadata",
    "includeDataRowDetails": "data_row_details",
    "includeProjectDetails": "project_details",
    "includeLabelDetails": "label_details",
    "includePerformanceDetails": "performance_details",
    "includeInterpolatedFrames": "interpolated_frames",
    "includePredictions": "predictions",
    "includeModelRunDetails": "model_run_details",
    "allProjects": "all_projects",
    "allModelRuns": "all_model_runs",
}
MAX_IDS = 30


@dataclass(frozen=True)
class ExportSpec:
    """One export: its scope, wire filters and params, and how to read naive dates/URLs.

    kind: "project" | "catalog" | "slice" | "model_run"; target_id is the project, slice or
    model run id (ignored for catalog: dataset/data-row exports narrow it with query items).
    """

    kind: str
    target_id: str | None = None
    query: list[Any] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    media_base_url: str = ""


def _id_list(params: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"params.{key}: expected a list of ids, got {value!r}")
    if len(value) > MAX_IDS:
        raise ValueError(f"params.{key}: at most {MAX_IDS} items, got {len(value)}")
    return tuple(value)


def parse_options(spec: ExportSpec) -> Options:
    """Wire params to row options; wrong types raise ValueError naming the param."""
    params = spec.params or {}
    if not isinstance(params, dict):
        raise ValueError(f"params: expected an object, got {params!r}")
    flags: dict[str, Any] = {}
    for wire, name in _BOOL_PARAMS.items():
        value = params.get(wire)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise ValueError(f"params.{wire}: expected true or false, got {value!r}")
        flags[name] = value
    override = params.get("mediaTypeOverride")
    if override is not None and override not in MEDIA_TYPES:
        raise ValueError(f"params.mediaTypeOverride: unknown media type {override!r}")
    project_ids = _id_list(params, "projectIds")
    model_run_ids = _id_list(params, "modelRunIds")
    if spec.kind == "project":
        project_ids, flags["all_projects"] = (str(spec.target_id),), False
        model_run_ids, flags["all_model_runs"] = None, False
    elif spec.kind == "model_run":
        model_run_ids, flags["all_model_runs"] = (str(spec.target_id),), False
        project_ids, flags["all_projects"] = None, False
    return Options(project_ids=project_ids, model_run_ids=model_run_ids, **flags)


def _check(spec: ExportSpec) -> None:
    if spec.kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {spec.kind!r}")
    if spec.kind != "catalog" and not spec.target_id:
        raise ValueError(f"target_id: a {spec.kind} export needs the {spec.kind} id")


def _selection(engine: Engine, spec: ExportSpec) -> Selection:
    _check(spec)
    target = spec.target_id or ""
    query = list(spec.query)
    override = (spec.params or {}).get("mediaTypeOverride")
    if override:
        # An export reads every row as one media type; rows of another type cannot be read
        # that way, so the override narrows the export to rows of its type.
        query.append({"type": "media_type", "operator": "is", "values": [override]})
    with engine.connect() as conn:
        return select_rows(conn, spec.kind, target, query, spec.timezone)


def count_export(engine: Engine, spec: ExportSpec) -> int:
    """Lines the export will produce: matching rows plus error items."""
    parse_options(spec)
    sel = _selection(engine, spec)
    with engine.connect() as conn:
        rows = conn.execute(sel.count()).scalar()
    return int(rows or 0) + len(sel.errors)


def iter_export(engine: Engine, spec: ExportSpec, batch_size: int = 500) -> Iterator[list[Item]]:
    """Yield batches of `("row", row_json)` / `("error", error_json)` items.

    Each batch reads its rows with keyset paging (pk > last), so no cursor stays open
    between yields and memory is bounded by `batch_size`. Row dicts are output to be
    serialized: nested parts (media attributes, embedding entries) are shared between rows,
    so do not mutate them.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size: must be >= 1, got {batch_size}")
    opts = parse_options(spec)
    sel = _selection(engine, spec)
    if sel.errors:
        yield [("error", e) for e in sel.errors]
    with_projects = spec.kind == "project" or (
        spec.kind != "model_run" and (opts.all_projects or opts.project_ids is not None))
    with_experiments = spec.kind == "model_run" or (
        spec.kind != "project" and (opts.all_model_runs or opts.model_run_ids is not None))
    with_split = opts.model_run_details if spec.kind == "model_run" else True
    with engine.connect() as conn:
        ctx = Context.load(conn, spec.media_base_url)
    last = 0
    while True:
        with engine.connect() as conn:
            pks = [r[0] for r in conn.execute(sel.page(last, batch_size))]
            if not pks:
                return
            rows = build_rows(conn, ctx, opts, pks, with_projects=with_projects,
                              with_experiments=with_experiments, with_split=with_split)
        last = pks[-1]
        yield [("row", r) for r in rows]
