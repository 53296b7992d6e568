"""Task fields (status, header, chunk URLs) and the export mutations."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType

from export_widget.server.engine import Chunk
from export_widget.server.export_spec import ExportKind, ExportSpec
from export_widget.server.graphql.context import (
    ApiError,
    GraphQLResolveInfo,
    bad_input,
    caller_of,
    check_task_reader,
    state_of,
)
from export_widget.server.signing import ChunkGrant
from export_widget.server.tasks import StreamName, TaskLimitError, TaskRecord, TaskStatus

task_type = ObjectType("Task")


def _task_field(getter: Any) -> Any:
    return lambda task, _info: getter(task)


task_type.set_field("id", _task_field(lambda t: t.id))
task_type.set_field("name", _task_field(lambda t: t.name))
task_type.set_field("status", _task_field(lambda t: t.status.value))
task_type.set_field("completionPercentage", _task_field(lambda t: t.completion_percentage))
task_type.set_field("createdAt", _task_field(lambda t: t.created_at))
task_type.set_field("updatedAt", _task_field(lambda t: t.updated_at))
task_type.set_field("type", _task_field(lambda t: t.type))
task_type.set_field("result", _task_field(lambda _t: None))
# Streamable exports keep `errors` null: the SDK logs a warning for any non-null value.
task_type.set_field("errors", _task_field(lambda _t: None))
task_type.set_field("failureReason", _task_field(lambda t: t.failure_reason))


@task_type.field("metadata")
def resolve_task_metadata(task: TaskRecord, _info: GraphQLResolveInfo) -> dict[str, Any]:
    meta = dict(task.metadata)
    if task.status is TaskStatus.FAILED and task.failure_reason:
        meta["errorMessage"] = task.failure_reason
    return meta


@task_type.field("exportMetadataHeader")
def resolve_header(task: TaskRecord, info: GraphQLResolveInfo, streamType: str) -> Any:
    committed = state_of(info).engine.header(task.id, StreamName(streamType))
    if committed is None:
        return None
    return {"totalSize": committed.size, "totalLines": committed.lines}


def _file_info(
    info: GraphQLResolveInfo, task: TaskRecord, stream: StreamName, chunk: Chunk | None
) -> dict[str, Any] | None:
    if chunk is None:
        return None
    token = state_of(info).signer.sign(ChunkGrant(task.id, stream, chunk.start, chunk.end))
    base_url: str = info.context["base_url"]
    return {
        "offsets": {"start": chunk.start, "end": chunk.end},
        "lines": {"start": chunk.first_line, "end": chunk.last_line},
        "file": f"{base_url}/files/{token}",
    }


@task_type.field("exportFileFromOffset")
def resolve_file_from_offset(
    task: TaskRecord, info: GraphQLResolveInfo, streamType: str, offset: int
) -> Any:
    stream = StreamName(streamType)
    return _file_info(info, task, stream, state_of(info).engine.chunk(task.id, stream,
                                                                    offset=offset))


@task_type.field("exportFileFromLine")
def resolve_file_from_line(
    task: TaskRecord, info: GraphQLResolveInfo, streamType: str, line: int
) -> Any:
    stream = StreamName(streamType)
    return _file_info(info, task, stream, state_of(info).engine.chunk(task.id, stream, line=line))


# -- export mutations ---------------------------------------------------------------------
# The mutations only translate the wire input into an ExportSpec; the data side checks it
# (selection.py owns the targets and filters, export_query.py the params).

mutation = MutationType()


def _start(info: GraphQLResolveInfo, input: dict[str, Any], kind: ExportKind,
           target_id: str | None, query: Any) -> dict[str, Any]:
    state = state_of(info)
    me = caller_of(info)
    organization = state.workspace.organization()
    spec = ExportSpec(
        kind=kind, target_id=target_id, query=query or [],
        params=dict(input.get("params") or {}), timezone=me.get("timezone"),
        media_base_url=info.context["base_url"], task_name=input.get("taskName"),
        created_by=me["id"], organization_id=organization["id"] if organization else None,
        wire_input=input,
    )
    try:
        task = state.engine.start_export(spec)
    except TaskLimitError as exc:
        raise ApiError(str(exc), "OPERATION_NOT_ALLOWED") from exc
    except ValueError as exc:
        raise bad_input(str(exc)) from exc
    return {"taskId": task.id, "isStreamable": True}


@mutation.field("exportDataRowsInProject")
def resolve_export_project(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    filters = input["filters"]
    return _start(info, input, "project", filters["projectId"],
                  (filters.get("searchQuery") or {}).get("query"))


@mutation.field("exportDataRowsInCatalog")
def resolve_export_catalog(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    return _start(info, input, "catalog", None, input["filters"]["searchQuery"].get("query"))


@mutation.field("exportDataRowsInSlice")
def resolve_export_slice(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    return _start(info, input, "slice", input["filters"]["sliceId"], None)


@mutation.field("exportDataRowsInModelRun")
def resolve_export_model_run(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    return _start(info, input, "model_run", input["filters"]["modelRunId"], None)


@mutation.field("cancelExportTask")
def resolve_cancel(_: Any, info: GraphQLResolveInfo, taskId: str) -> Any:
    engine = state_of(info).engine
    task = engine.tasks.get(taskId)
    if task is None:
        raise bad_input(f"taskId: no task with id {taskId!r}")
    check_task_reader(info, task.created_by, f"taskId: task {taskId}")
    return engine.cancel(taskId)


@mutation.field("deleteExportTaskFiles")
def resolve_delete_files(_: Any, info: GraphQLResolveInfo, taskId: str) -> Any:
    engine = state_of(info).engine
    task = engine.tasks.get(taskId)
    if task is None:
        raise bad_input(f"taskId: no task with id {taskId!r}")
    check_task_reader(info, task.created_by, f"taskId: task {taskId}")
    try:
        return engine.delete_files(taskId)
    except ValueError as exc:
        raise bad_input(str(exc)) from exc
