"""Export selection and row JSON: what the export engine runs.

`prepare_export(engine, spec)` checks an export's params and filters (raising ValueError
naming the wire field), resolves its selection and counts the lines it will write (rows +
error items); the prepared export's `batches()` yields them in a stable order (errors first,
then rows by insertion order), with memory bounded by the batch size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from export_widget.server.export_spec import MEDIA_TYPES, ExportSpec, Item
from export_widget.server.rows.build import Context, Options, build_rows
from export_widget.server.selection import Selection, brief, select_rows

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
MAX_PARAM_IDS = 30  # params.projectIds / params.modelRunIds


def _id_list(params: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"params.{key}: expected a list of ids, got {brief(value)}")
    if len(value) > MAX_PARAM_IDS:
        raise ValueError(f"params.{key}: at most {MAX_PARAM_IDS} items, got {len(value)}")
    return tuple(value)


def parse_options(spec: ExportSpec) -> Options:
    """Wire params to row options; wrong types raise ValueError naming the param."""
    params = spec.params or {}
    if not isinstance(params, dict):
        raise ValueError(f"params: expected an object, got {brief(params)}")
    flags: dict[str, Any] = {}
    for wire, name in _BOOL_PARAMS.items():
        value = params.get(wire)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise ValueError(f"params.{wire}: expected true or false, got {brief(value)}")
        flags[name] = value
    override = params.get("mediaTypeOverride")
    if override is not None and (not isinstance(override, str) or override not in MEDIA_TYPES):
        raise ValueError(f"params.mediaTypeOverride: unknown media type {brief(override)}")
    project_ids = _id_list(params, "projectIds")
    model_run_ids = _id_list(params, "modelRunIds")
    if spec.kind == "project":
        project_ids, flags["all_projects"] = (str(spec.target_id),), False
        model_run_ids, flags["all_model_runs"] = None, False
    elif spec.kind == "model_run":
        model_run_ids, flags["all_model_runs"] = (str(spec.target_id),), False
        project_ids, flags["all_projects"] = None, False
    return Options(project_ids=project_ids, model_run_ids=model_run_ids, **flags)


@dataclass(frozen=True)
class PreparedQuery:
    """An export whose params were parsed and whose selection was resolved and counted."""

    engine: Engine
    spec: ExportSpec
    options: Options
    selection: Selection
    lines: int

    def batches(self, batch_size: int = 500) -> Iterator[list[Item]]:
        """Yield batches of `("row", row_json)` / `("error", error_json)` items.

        Each batch reads its rows with keyset paging (pk > last), so no cursor stays open
        between yields and memory is bounded by `batch_size`. Row dicts are output to be
        serialized: nested parts (media attributes, embedding entries) are shared between
        rows, so do not mutate them.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size: must be >= 1, got {batch_size}")
        kind, options, selection = self.spec.kind, self.options, self.selection
        if selection.errors:
            yield [("error", e) for e in selection.errors]
        with_projects = kind == "project" or (
            kind != "model_run" and (options.all_projects or options.project_ids is not None))
        with_experiments = kind == "model_run" or (
            kind != "project" and (options.all_model_runs or options.model_run_ids is not None))
        with_split = options.model_run_details if kind == "model_run" else True
        with self.engine.connect() as conn:
            context = Context.load(conn, self.spec.media_base_url)
        last = 0
        while True:
            with self.engine.connect() as conn:
                pks = [r[0] for r in conn.execute(selection.page(last, batch_size))]
                if not pks:
                    return
                rows = build_rows(conn, context, options, pks, with_projects=with_projects,
                                  with_experiments=with_experiments, with_split=with_split,
                                  with_project_tags=kind == "project")
            last = pks[-1]
            yield [("row", r) for r in rows]


def prepare_export(engine: Engine, spec: ExportSpec) -> PreparedQuery:
    """Check an export and resolve its selection; ValueError names the wire field at fault."""
    options = parse_options(spec)
    query = spec.query
    override = spec.params.get("mediaTypeOverride")
    if override:
        # An export reads every row as one media type; rows of another type cannot be read
        # that way, so the override narrows the export to rows of its type.
        query = [*query, {"type": "media_type", "operator": "is", "values": [override]}]
    with engine.connect() as conn:
        selection = select_rows(conn, spec.kind, spec.target_id, query, spec.timezone)
        rows = conn.execute(selection.count()).scalar()
    return PreparedQuery(engine, spec, options, selection, int(rows or 0) + len(selection.errors))
