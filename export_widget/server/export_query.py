"""Export selection and row JSON: what the export engine runs.

`prepare_export(engine, spec)` checks an export's params and filters (raising ValueError
naming the wire field), resolves its selection and counts the lines it will write (rows +
error items); the prepared export's `batches()` yields them serialized, in a stable order
(errors first, then rows by insertion order), with memory bounded by the batch size.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from export_widget.server.export_lines import encode
from export_widget.server.export_spec import MEDIA_TYPES, EncodedBatch, ExportSpec
from export_widget.server.row_processes import BatchJob, RowProcesses, RowShape, build_batch
from export_widget.server.rows.build import Context, Options
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
BATCH_ROWS = 500  # rows built (and serialized) together
PAGE_BATCHES = 8  # batches of pks read by one keyset query


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
    """An export whose params were parsed and whose selection was resolved and counted.

    With `processes`, its rows are built and serialized in those row processes; without,
    in the calling thread. Both write the same bytes.
    """

    engine: Engine
    spec: ExportSpec
    options: Options
    selection: Selection
    lines: int
    processes: RowProcesses | None = None
    batch_rows: int = BATCH_ROWS

    @property
    def shape(self) -> RowShape:
        kind, opts = self.spec.kind, self.options
        return RowShape(
            with_projects=kind == "project" or (
                kind != "model_run" and (opts.all_projects or opts.project_ids is not None)),
            with_experiments=kind == "model_run" or (
                kind != "project" and (opts.all_model_runs or opts.model_run_ids is not None)),
            with_split=opts.model_run_details if kind == "model_run" else True,
            with_project_tags=kind == "project")

    def batches(self, batch_size: int | None = None) -> Iterator[EncodedBatch]:
        """Yield the export's lines serialized, in batches of `batch_size` rows (default:
        `batch_rows`): its error items, then its rows by insertion order.

        Pks are read with keyset paging (pk > last), so no cursor stays open between
        yields, and memory is bounded by the batch size (times the row processes' window).
        """
        batch_size = self.batch_rows if batch_size is None else batch_size
        if batch_size < 1:
            raise ValueError(f"batch_size: must be >= 1, got {batch_size}")
        if self.selection.errors:
            yield encode([("error", e) for e in self.selection.errors])
        job = functools.partial(BatchJob, uuid.uuid4().hex, self.spec.media_base_url,
                                self.options, self.shape)
        if self.processes is None:
            yield from self._built_here(job, batch_size)
        else:
            yield from self._built_by(self.processes, job, batch_size)

    def _pks(self, batch_size: int) -> Iterator[list[int]]:
        """The selected data-row pks in export order, `batch_size` at a time."""
        page = batch_size * PAGE_BATCHES
        last = 0
        while True:
            with self.engine.connect() as conn:
                pks = [r[0] for r in conn.execute(self.selection.page(last, page))]
            for start in range(0, len(pks), batch_size):
                yield pks[start : start + batch_size]
            if len(pks) < page:
                return
            last = pks[-1]

    def _built_here(self, job: Callable[[list[int]], BatchJob],
                    batch_size: int) -> Iterator[EncodedBatch]:
        context: Context | None = None
        for pks in self._pks(batch_size):
            with self.engine.connect() as conn:
                context = context or Context.load(conn, self.spec.media_base_url)
                batch = build_batch(conn, context, job(pks))
            yield batch

    def _built_by(self, processes: RowProcesses, job: Callable[[list[int]], BatchJob],
                  batch_size: int) -> Iterator[EncodedBatch]:
        pages = self._pks(batch_size)
        first = next(pages, None)
        if first is None:
            return
        in_flight: deque[Future[EncodedBatch]] = deque()
        try:
            # The processes get the next batches first, then the first batch is built here:
            # the first rows do not wait for a process to start or load its tables.
            for pks in itertools.islice(pages, processes.window):
                in_flight.append(processes.submit(job(pks)))
            with self.engine.connect() as conn:
                batch = build_batch(conn, Context.load(conn, self.spec.media_base_url),
                                    job(first))
            yield batch
            for pks in pages:
                in_flight.append(processes.submit(job(pks)))
                yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        finally:
            # Closed early (cancel, stop, a failure): what is in flight is dropped (a process
            # may still build the few batches it was sent; nobody reads them).
            for future in in_flight:
                future.cancel()


def prepare_export(engine: Engine, spec: ExportSpec, processes: RowProcesses | None = None,
                   batch_rows: int = BATCH_ROWS) -> PreparedQuery:
    """Check an export and resolve its selection; ValueError names the wire field at fault.
    Its rows will be built by `processes` (row processes on the same store) when given,
    `batch_rows` at a time."""
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
    return PreparedQuery(engine, spec, options, selection, int(rows or 0) + len(selection.errors),
                         processes, batch_rows)
