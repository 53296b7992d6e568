"""Resolvers binding schema.graphql to the workspace and the export engine.

Every resolver reads `info.context["app"]` (an `ApiState`) and `info.context["user"]`
(the caller, resolved from the API key before execution). Workspace lookups return
dicts keyed by GraphQL field names, so most object fields resolve by key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ariadne import (
    MutationType,
    ObjectType,
    QueryType,
    ScalarType,
    load_schema_from_path,
    make_executable_schema,
)
from graphql import GraphQLError, GraphQLSchema
from graphql import GraphQLResolveInfo as _ResolveInfo

from export_widget.server.engine import Chunk, ExportEngine
from export_widget.server.signing import ChunkGrant, ChunkSigner
from export_widget.server.tasks import StreamName, TaskLimitError, TaskRecord, TaskStatus

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
MAX_PAGE = 1_000
MAX_IDS = 2_000

GraphQLResolveInfo = _ResolveInfo[dict[str, Any]]


class Workspace(Protocol):
    """The read side the resolvers need (implemented by workspace.Workspace)."""

    def organization(self) -> dict[str, Any] | None: ...
    def user_by_id(self, user_id: str) -> dict[str, Any] | None: ...
    def project(self, project_id: str) -> dict[str, Any] | None: ...
    def projects(self, skip: int = 0, first: int = 100) -> list[dict[str, Any]]: ...
    def dataset(self, dataset_id: str) -> dict[str, Any] | None: ...
    def datasets(self, skip: int = 0, first: int = 100) -> list[dict[str, Any]]: ...
    def model(self, model_id: str) -> dict[str, Any] | None: ...
    def models(self, skip: int = 0, first: int = 100) -> list[dict[str, Any]]: ...
    def model_run(self, model_run_id: str) -> dict[str, Any] | None: ...
    def model_runs(
        self, model_id: str | None = None, skip: int = 0, first: int = 100
    ) -> list[dict[str, Any]]: ...
    def data_row(self, data_row_id: str) -> dict[str, Any] | None: ...
    def batches(
        self, project_id: str, after: str | None = None, first: int = 100
    ) -> dict[str, Any]: ...
    def slice(self, slice_id: str) -> dict[str, Any] | None: ...
    def slices(self) -> list[dict[str, Any]]: ...
    def metadata_ontology(self) -> list[dict[str, Any]]: ...


class SpecFactory(Protocol):
    def __call__(
        self, kind: str, target_id: str | None, query: list[dict[str, Any]],
        params: dict[str, Any], timezone: str | None, media_base_url: str,
    ) -> Any: ...


@dataclass
class ApiState:
    """What the resolvers share: the workspace, the engine, the signer, the spec builder."""

    workspace: Workspace
    engine: ExportEngine
    signer: ChunkSigner
    make_spec: SpecFactory


class ApiError(GraphQLError):
    """A GraphQL error with an `extensions.code` the SDK maps to an exception."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


def bad_input(message: str) -> ApiError:
    return ApiError(message, "BAD_USER_INPUT")


# -- scalars ------------------------------------------------------------------------------

datetime_scalar = ScalarType("DateTime")
uint64_scalar = ScalarType("UInt64")
page_size_scalar = ScalarType("PageSize")
json_scalar = ScalarType("JSON")


@datetime_scalar.serializer
def serialize_datetime(value: Any) -> str:
    """Epoch milliseconds or datetimes as `2024-01-01T00:00:00.000Z`, the SDK's format."""
    if isinstance(value, str):
        return str(value)
    moment: datetime
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        raise TypeError(f"DateTime: cannot serialize {type(value).__name__}")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"



@uint64_scalar.serializer
def serialize_uint64(value: Any) -> str:
    # Strings, as Labelbox sends them: JSON numbers lose precision past 2**53.
    return str(int(value))


def parse_uint64(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("UInt64: expected an integer or a string of digits, got a boolean")
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise ValueError(f"UInt64: expected a string of digits, got {value!r}")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        raise ValueError(f"UInt64: expected an integer or a string, got {type(value).__name__}")
    if not 0 <= number < 2**64:
        raise ValueError(f"UInt64: must be between 0 and 2**64-1, got {number}")
    return number


def parse_uint64_literal(node: Any, _variables: Any = None) -> int:
    raw = node.value
    return parse_uint64(raw if node.kind == "string_value" else int(raw))


def parse_page_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"PageSize: expected an integer, got {value!r}")
    if not 0 <= value <= MAX_PAGE:
        raise ValueError(f"PageSize: must be between 0 and {MAX_PAGE}, got {value}")
    return value


def parse_page_size_literal(node: Any, _variables: Any = None) -> int:
    return parse_page_size(int(node.value))


def serialize_page_size(value: Any) -> int:
    return int(value)


uint64_scalar.set_value_parser(parse_uint64)
uint64_scalar.set_literal_parser(parse_uint64_literal)
page_size_scalar.set_value_parser(parse_page_size)
page_size_scalar.set_literal_parser(parse_page_size_literal)
page_size_scalar.set_serializer(serialize_page_size)


# -- helpers ------------------------------------------------------------------------------


def _state(info: GraphQLResolveInfo) -> ApiState:
    state: ApiState = info.context["app"]
    return state


def _me(info: GraphQLResolveInfo) -> dict[str, Any]:
    user: dict[str, Any] = info.context["user"]
    return user


def _page(items: list[dict[str, Any]], skip: int | None, first: int | None) -> list[Any]:
    start = max(skip or 0, 0)
    count = MAX_PAGE if first is None else first
    return items[start : start + count]


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "_not": lambda a, b: a != b,
    "_lt": lambda a, b: a is not None and a < b,
    "_gt": lambda a, b: a is not None and a > b,
    "_lte": lambda a, b: a is not None and a <= b,
    "_gte": lambda a, b: a is not None and a >= b,
}


def _matches(item: dict[str, Any], where: dict[str, Any] | None) -> bool:
    """The SDK's `where` trees: field comparisons (suffixes as in _COMPARE), AND/OR/NOT."""
    if not where:
        return True
    for key, expected in where.items():
        if key == "AND":
            ok = all(_matches(item, sub) for sub in expected)
        elif key == "OR":
            ok = any(_matches(item, sub) for sub in expected)
        elif key == "NOT":
            ok = not any(_matches(item, sub) for sub in expected)
        elif key == "deleted":
            ok = bool(item.get("deleted", False)) == bool(expected)
        else:
            field, _, suffix = key.partition("_")
            compare = _COMPARE.get(f"_{suffix}") if suffix else None
            ok = compare(item.get(field), expected) if compare else item.get(key) == expected
        if not ok:
            return False
    return True


# -- queries ------------------------------------------------------------------------------

query = QueryType()


@query.field("user")
def resolve_user(_: Any, info: GraphQLResolveInfo, where: dict[str, Any] | None = None) -> Any:
    me = _me(info)
    if not where or not where.get("id") or where["id"] == me["id"]:
        return me
    return _state(info).workspace.user_by_id(where["id"])


@query.field("organization")
def resolve_organization(_: Any, info: GraphQLResolveInfo) -> Any:
    return _state(info).workspace.organization()


def _by_id(method: str) -> Any:
    def resolve(_: Any, info: GraphQLResolveInfo, where: dict[str, Any]) -> Any:
        return getattr(_state(info).workspace, method)(where["id"])

    return resolve


query.set_field("project", _by_id("project"))
query.set_field("dataset", _by_id("dataset"))
query.set_field("model", _by_id("model"))
query.set_field("modelRun", _by_id("model_run"))
query.set_field("dataRow", _by_id("data_row"))


@query.field("customMetadataOntology")
def resolve_metadata_ontology(_: Any, info: GraphQLResolveInfo) -> Any:
    return _state(info).workspace.metadata_ontology()


@query.field("getSavedQuery")
def resolve_saved_query(_: Any, info: GraphQLResolveInfo, id: str) -> Any:
    return _state(info).workspace.slice(id)


@query.field("catalogSavedQueries")
def resolve_saved_queries(_: Any, info: GraphQLResolveInfo) -> Any:
    return _state(info).workspace.slices()


def _listing(method: str) -> Any:
    def resolve(
        _: Any, info: GraphQLResolveInfo, where: dict[str, Any] | None = None,
        skip: int | None = None, first: int | None = None,
    ) -> Any:
        lookup = getattr(_state(info).workspace, method)
        size = MAX_PAGE if first is None else first
        where = {k: v for k, v in (where or {}).items() if (k, v) != ("deleted", False)}
        if not where:
            # The SDK always asks for `deleted: false`; nothing here is deleted.
            return lookup(skip=max(skip or 0, 0), first=size)
        return _page([i for i in lookup(skip=0, first=2**31) if _matches(i, where)], skip,
                     first)

    return resolve


query.set_field("projects", _listing("projects"))
query.set_field("datasets", _listing("datasets"))
query.set_field("models", _listing("models"))


@query.field("task")
def resolve_task(_: Any, info: GraphQLResolveInfo, where: dict[str, Any] | None = None) -> Any:
    if not where or not where.get("id"):
        return None
    return _state(info).engine.tasks.get(where["id"])


# -- objects ------------------------------------------------------------------------------

user_type = ObjectType("User")


@user_type.field("createdTasks")
def resolve_created_tasks(
    user: dict[str, Any], info: GraphQLResolveInfo, where: dict[str, Any] | None = None,
    skip: int | None = None, first: int | None = None,
) -> Any:
    where = where or {}
    tasks = _state(info).engine.tasks.list_for_user(
        user["id"], task_id=where.get("id"), skip=skip or 0,
        first=MAX_PAGE if first is None else first,
    )
    if where.get("status"):
        tasks = [t for t in tasks if t.status.value == where["status"]]
    return tasks


@user_type.field("organization")
def resolve_user_organization(_user: Any, info: GraphQLResolveInfo) -> Any:
    return _state(info).workspace.organization()


for _field, _default in (("isExternalUser", False), ("isViewer", False)):
    user_type.set_field(
        _field, lambda obj, _info, f=_field, d=_default: obj.get(f, d)
    )

project_type = ObjectType("Project")


@project_type.field("batches")
def resolve_batches(
    project: dict[str, Any], info: GraphQLResolveInfo, after: str | None = None,
    first: int | None = None,
) -> Any:
    try:
        return _state(info).workspace.batches(project["id"], after=after,
                                              first=100 if first is None else first)
    except ValueError as exc:
        raise bad_input(str(exc)) from exc


model_type = ObjectType("Model")


@model_type.field("modelRuns")
def resolve_model_runs(
    model: dict[str, Any], info: GraphQLResolveInfo, skip: int | None = None,
    first: int | None = None,
) -> Any:
    return _state(info).workspace.model_runs(model["id"], skip=max(skip or 0, 0),
                                             first=MAX_PAGE if first is None else first)


data_row_type = ObjectType("DataRow")
data_row_type.set_field("customMetadata", lambda obj, _info: obj.get("customMetadata") or [])
data_row_type.set_field("metadataFields", lambda obj, _info: obj.get("metadataFields") or [])

# -- tasks --------------------------------------------------------------------------------

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
    committed = _state(info).engine.header(task.id, StreamName(streamType))
    if committed is None:
        return None
    return {"totalSize": committed.size, "totalLines": committed.lines}


def _file_info(
    info: GraphQLResolveInfo, task: TaskRecord, stream: StreamName, chunk: Chunk | None
) -> dict[str, Any] | None:
    if chunk is None:
        return None
    token = _state(info).signer.sign(ChunkGrant(task.id, stream, chunk.start, chunk.end))
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
    return _file_info(info, task, stream, _state(info).engine.chunk(task.id, stream,
                                                                    offset=offset))


@task_type.field("exportFileFromLine")
def resolve_file_from_line(
    task: TaskRecord, info: GraphQLResolveInfo, streamType: str, line: int
) -> Any:
    stream = StreamName(streamType)
    return _file_info(info, task, stream, _state(info).engine.chunk(task.id, stream, line=line))


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
    state = _state(info)
    me = _me(info)
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
    if _state(info).workspace.project(project_id) is None:
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
    if _state(info).workspace.slice(slice_id) is None:
        raise bad_input(f"filters.sliceId: no catalog slice with id {slice_id!r}")
    return _start(info, kind="slice", target_id=slice_id, project_id=None, query_items=[],
                  input=input)


@mutation.field("exportDataRowsInModelRun")
def resolve_export_model_run(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    run_id = input["filters"]["modelRunId"]
    if _state(info).workspace.model_run(run_id) is None:
        raise bad_input(f"filters.modelRunId: no model run with id {run_id!r}")
    return _start(info, kind="model_run", target_id=run_id, project_id=None, query_items=[],
                  input=input)


@mutation.field("cancelExportTask")
def resolve_cancel(_: Any, info: GraphQLResolveInfo, taskId: str) -> Any:
    engine = _state(info).engine
    task = engine.tasks.get(taskId)
    if task is None:
        raise bad_input(f"taskId: no task with id {taskId!r}")
    if task.created_by != _me(info)["id"]:
        raise ApiError(f"taskId: task {taskId} belongs to another user", "AUTHORIZATION_ERROR")
    return engine.cancel(taskId)


def build_schema() -> GraphQLSchema:
    return make_executable_schema(
        load_schema_from_path(str(SCHEMA_PATH)),
        query, mutation, user_type, project_type, model_type, data_row_type, task_type,
        datetime_scalar, uint64_scalar, page_size_scalar, json_scalar,
    )
