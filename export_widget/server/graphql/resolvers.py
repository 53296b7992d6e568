"""Resolvers binding schema.graphql to the workspace and the export engine.

Every resolver reads the API state and the caller (resolved from the API key before
execution) from the context. Workspace lookups return dicts keyed by GraphQL field names,
so most object fields resolve by key. Scalars, task fields and export mutations live in
the context, scalars and tasks modules beside this one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ariadne import ObjectType, QueryType, load_schema_from_path, make_executable_schema
from graphql import GraphQLSchema

from export_widget.server.graphql.context import (
    MAX_PAGE_SIZE,
    ApiError,
    ApiState,
    GraphQLResolveInfo,
    Workspace,
    bad_input,
    caller_of,
    check_task_reader,
    state_of,
)
from export_widget.server.graphql.scalars import SCALARS
from export_widget.server.graphql.tasks import mutation, task_type

__all__ = ["ApiError", "ApiState", "Workspace", "build_schema"]

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")


def _page(items: list[dict[str, Any]], skip: int | None, first: int | None) -> list[Any]:
    start = max(skip or 0, 0)
    count = MAX_PAGE_SIZE if first is None else first
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
    me = caller_of(info)
    if not where or not where.get("id") or where["id"] == me["id"]:
        return me
    return state_of(info).workspace.user_by_id(where["id"])


@query.field("organization")
def resolve_organization(_: Any, info: GraphQLResolveInfo) -> Any:
    return state_of(info).workspace.organization()


def _by_id(method: str) -> Any:
    def resolve(_: Any, info: GraphQLResolveInfo, where: dict[str, Any]) -> Any:
        return getattr(state_of(info).workspace, method)(where["id"])

    return resolve


query.set_field("project", _by_id("project"))
query.set_field("dataset", _by_id("dataset"))
query.set_field("model", _by_id("model"))
query.set_field("modelRun", _by_id("model_run"))
query.set_field("dataRow", _by_id("data_row"))


@query.field("customMetadataOntology")
def resolve_metadata_ontology(_: Any, info: GraphQLResolveInfo) -> Any:
    return state_of(info).workspace.metadata_ontology()


@query.field("getSavedQuery")
def resolve_saved_query(_: Any, info: GraphQLResolveInfo, id: str) -> Any:
    return state_of(info).workspace.slice(id)


@query.field("catalogSavedQueries")
def resolve_saved_queries(_: Any, info: GraphQLResolveInfo) -> Any:
    return state_of(info).workspace.slices()


def _listing(method: str) -> Any:
    def resolve(
        _: Any, info: GraphQLResolveInfo, where: dict[str, Any] | None = None,
        skip: int | None = None, first: int | None = None,
    ) -> Any:
        lookup = getattr(state_of(info).workspace, method)
        size = MAX_PAGE_SIZE if first is None else first
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
    task = state_of(info).engine.tasks.get(where["id"])
    if task is not None:
        check_task_reader(info, task.created_by, f"task {task.id}")
    return task


# -- objects ------------------------------------------------------------------------------

user_type = ObjectType("User")


@user_type.field("createdTasks")
def resolve_created_tasks(
    user: dict[str, Any], info: GraphQLResolveInfo, where: dict[str, Any] | None = None,
    skip: int | None = None, first: int | None = None,
) -> Any:
    check_task_reader(info, user["id"], f"createdTasks of user {user['id']}")
    where = where or {}
    tasks = state_of(info).engine.tasks.list_for_user(
        user["id"], task_id=where.get("id"), skip=skip or 0,
        first=MAX_PAGE_SIZE if first is None else first,
    )
    if where.get("status"):
        tasks = [t for t in tasks if t.status.value == where["status"]]
    return tasks


@user_type.field("organization")
def resolve_user_organization(_user: Any, info: GraphQLResolveInfo) -> Any:
    return state_of(info).workspace.organization()


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
        return state_of(info).workspace.batches(project["id"], after=after,
                                              first=100 if first is None else first)
    except ValueError as exc:
        raise bad_input(str(exc)) from exc


model_type = ObjectType("Model")


@model_type.field("modelRuns")
def resolve_model_runs(
    model: dict[str, Any], info: GraphQLResolveInfo, skip: int | None = None,
    first: int | None = None,
) -> Any:
    return state_of(info).workspace.model_runs(model["id"], skip=max(skip or 0, 0),
                                             first=MAX_PAGE_SIZE if first is None else first)


data_row_type = ObjectType("DataRow")
data_row_type.set_field("customMetadata", lambda obj, _info: obj.get("customMetadata") or [])
data_row_type.set_field("metadataFields", lambda obj, _info: obj.get("metadataFields") or [])


def build_schema() -> GraphQLSchema:
    return make_executable_schema(
        load_schema_from_path(str(SCHEMA_PATH)),
        query, mutation, user_type, project_type, model_type, data_row_type, task_type,
        *SCALARS,
    )
