"""Task fields (status, header, chunk URLs) and the export mutations."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType

from export_widget.server.engine import Chunk
from export_widget.server.graphql.context import (
    ApiError,
    GraphQLResolveInfo,
    bad_input,
    caller_of,
    state_of,
)
from export_widget.server.signing import ChunkGrant
from export_widget.server.tasks import StreamName, TaskLimitError, TaskRecord, TaskStatus

MAX_IDS = 2_000

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

mutation = MutationType()


def _check_query(query_items: Any) -> list[dict[str, Any]]:
    if query_items is None:
        return []
    items: list[dict[str, Any]] = []
    for position, item in enumerate(query_items):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_input(
                f"filters.searchQuery.query[{position}]: expected an object with a 'type'"
            )
        ids = item.get("ids")
        if ids is not None:
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise bad_input(
                    f"filters.searchQuery.query[{position}].ids: expected a list of strings"
                )
            if len(ids) > MAX_IDS:
                raise bad_input(
                    f"filters.searchQuery.query[{position}].ids: at most {MAX_IDS:,} items, "
                    f"got {len(ids):,}"
                )
        items.append(item)
    return items


def _start(
    info: GraphQLResolveInfo, *, kind: str, target_id: str | None, project_id: str | None,
    query_items: list[dict[str, Any]], input: dict[str, Any],
) -> dict[str, Any]:
    state = state_of(info)
    me = caller_of(info)
    params = dict(input.get("params") or {})
    spec = state.make_spec(kind, target_id, query_items, params, me.get("timezone"),
                           info.context["base_url"])
    organization = state.workspace.organization()
    try:
        task = state.engine.start_export(
            spec,
            name=input.get("taskName"),
            created_by=me["id"],
            organization_id=organization["id"] if organization else None,
            scope=kind,
            target_id=target_id,
            project_id=project_id,
            input=input,
            metadata={"exportScope": kind, "targetId": target_id},
        )
    except TaskLimitError as exc:
        raise ApiError(str(exc), "OPERATION_NOT_ALLOWED") from exc
    except ValueError as exc:
        raise bad_input(str(exc)) from exc
    return {"taskId": task.id, "isStreamable": True}


@mutation.field("exportDataRowsInProject")
def resolve_export_project(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    filters = input["filters"]
    project_id = filters["projectId"]
    if state_of(info).workspace.project(project_id) is None:
        raise bad_input(f"filters.projectId: no project with id {project_id!r}")
    query_items = _check_query((filters.get("searchQuery") or {}).get("query"))
    return _start(info, kind="project", target_id=project_id, project_id=project_id,
                  query_items=query_items, input=input)


@mutation.field("exportDataRowsInCatalog")
def resolve_export_catalog(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    query_items = _check_query(input["filters"]["searchQuery"].get("query"))
    return _start(info, kind="catalog", target_id=None, project_id=None,
                  query_items=query_items, input=input)


@mutation.field("exportDataRowsInSlice")
def resolve_export_slice(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    slice_id = input["filters"]["sliceId"]
    if state_of(info).workspace.slice(slice_id) is None:
        raise bad_input(f"filters.sliceId: no catalog slice with id {slice_id!r}")
    return _start(info, kind="slice", target_id=slice_id, project_id=None, query_items=[],
                  input=input)


@mutation.field("exportDataRowsInModelRun")
def resolve_export_model_run(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    run_id = input["filters"]["modelRunId"]
    if state_of(info).workspace.model_run(run_id) is None:
        raise bad_input(f"filters.modelRunId: no model run with id {run_id!r}")
    return _start(info, kind="model_run", target_id=run_id, project_id=None, query_items=[],
                  input=input)


@mutation.field("cancelExportTask")
def resolve_cancel(_: Any, info: GraphQLResolveInfo, taskId: str) -> Any:
    engine = state_of(info).engine
    task = engine.tasks.get(taskId)
    if task is None:
        raise bad_input(f"taskId: no task with id {taskId!r}")
    if task.created_by != caller_of(info)["id"]:
        raise ApiError(f"taskId: task {taskId} belongs to another user", "AUTHORIZATION_ERROR")
    return engine.cancel(taskId)
