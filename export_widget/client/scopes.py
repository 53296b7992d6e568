"""The exportable objects: Project, Dataset, Catalog, CatalogSlice, ModelRun, DataRow (+ Batch,
Model for browsing). Each `export()` validates first, then sends the SDK's mutation."""

from __future__ import annotations

import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import graphql as gql
from .filters import search_query
from .params import wire_params
from .task import ExportTask, _fetch_task
from .validation import Scope, validate

if TYPE_CHECKING:
    from .client import Client

_V2_WARNING = "export_v2 is deprecated and will be removed in 7.0; use export()"


class Entity:
    """A server object: `uid`, `name`, and every field the server returned, in snake_case."""

    def __init__(self, client: Client, fields: Mapping[str, Any]) -> None:
        self.client = client
        self.fields = dict(fields)

    @property
    def uid(self) -> str:
        return str(self.fields["id"])

    @property
    def name(self) -> str | None:
        return self.fields.get("name")

    def __getattr__(self, attr: str) -> Any:
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), attr)
        fields = self.__dict__.get("fields", {})
        if camel in fields:
            return fields[camel]
        raise AttributeError(f"{type(self).__name__} has no field {attr!r}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.uid} {self.name!r}>"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.uid == self.uid

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.uid))


def _start_export(client: Client, kind: str, export_input: dict[str, Any],
                  is_export_v2: bool = False) -> ExportTask:
    query, result_field = gql.EXPORT_MUTATIONS[kind]
    data = client._transport.graphql(query, {"input": export_input})
    task_id = data[result_field]["taskId"]
    return ExportTask(client, _fetch_task(client, task_id), is_export_v2=is_export_v2)


def _searchable(client: Client, scope: Scope, filters: Mapping[str, Any] | None,
                params: Mapping[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    validate(scope, params, filters)
    return search_query(filters, client.get_user_timezone), wire_params(scope, params)


class _FilteredExport(Entity, ABC):
    """`export(task_name, filters, params)` and the deprecated `export_v2`, for the scopes
    that take filters; `_export` builds each scope's mutation input."""

    def export(self, task_name: str | None = None, filters: Mapping[str, Any] | None = None,
               params: Mapping[str, Any] | None = None) -> ExportTask:
        return self._export(task_name, filters, params, streamable=True)

    def export_v2(self, task_name: str | None = None, filters: Mapping[str, Any] | None = None,
                  params: Mapping[str, Any] | None = None) -> ExportTask:
        warnings.warn(_V2_WARNING, DeprecationWarning, stacklevel=2)
        return self._export(task_name, filters, params, streamable=False)

    @abstractmethod
    def _export(self, task_name: str | None, filters: Mapping[str, Any] | None,
                params: Mapping[str, Any] | None, *, streamable: bool) -> ExportTask: ...


class Project(_FilteredExport):
    def _export(self, task_name: str | None, filters: Mapping[str, Any] | None,
                params: Mapping[str, Any] | None, *, streamable: bool) -> ExportTask:
        query, wire = _searchable(self.client, "project", filters, params)
        return _start_export(self.client, "project", {
            "taskName": task_name, "isStreamableReady": True,
            "filters": {"projectId": self.uid, "searchQuery": {"scope": None, "query": query}},
            "params": wire, "streamable": streamable}, not streamable)

    def batches(self) -> Iterator[Batch]:
        """The project's batches (cursor-paged on the experimental endpoint, like the SDK)."""
        cursor: str | None = None
        while True:
            data = self.client._transport.graphql(
                gql.GET_PROJECT_BATCHES, {"projectId": self.uid, "from": cursor, "first": 100},
                experimental=True)
            page = (data.get("project") or {}).get("batches") or {}
            for node in page.get("nodes") or []:
                yield Batch(self.client, {**node, "projectId": self.uid})
            cursor = (page.get("pageInfo") or {}).get("endCursor")
            if not cursor or not page.get("nodes"):
                return


class _CatalogLike(_FilteredExport):
    scope: Scope = "catalog"

    def _extra_query(self) -> list[dict[str, Any]]:
        return []

    def _default_name(self) -> str | None:
        return None

    def _export(self, task_name: str | None, filters: Mapping[str, Any] | None,
                params: Mapping[str, Any] | None, *, streamable: bool) -> ExportTask:
        query, wire = _searchable(self.client, self.scope, filters, params)
        return _start_export(self.client, "catalog", {
            "taskName": task_name if task_name is not None else self._default_name(),
            "filters": {"searchQuery": {"scope": None, "query": query + self._extra_query()}},
            "isStreamableReady": True, "params": wire, "streamable": streamable},
            not streamable)


class Dataset(_CatalogLike):
    scope: Scope = "dataset"

    def _extra_query(self) -> list[dict[str, Any]]:
        return [{"ids": [self.uid], "operator": "is", "type": "dataset"}]

    def _default_name(self) -> str | None:
        return f"Export v2: dataset - {self.name}"


class Catalog(_CatalogLike):
    """The whole workspace's data rows; `client.get_catalog()` makes one without a call."""

    scope: Scope = "catalog"

    def __init__(self, client: Client) -> None:
        super().__init__(client, {"id": "catalog", "name": "Catalog"})


class _FilterlessExport(Entity):
    scope: Scope = "slice"
    kind = "slice"
    filter_key = "sliceId"

    def export(self, task_name: str | None = None,
               params: Mapping[str, Any] | None = None) -> ExportTask:
        return self._export(task_name, params, streamable=True)

    def export_v2(self, task_name: str | None = None,
                  params: Mapping[str, Any] | None = None) -> ExportTask:
        warnings.warn(_V2_WARNING, DeprecationWarning, stacklevel=2)
        return self._export(task_name, params, streamable=False)

    def _export(self, task_name: str | None, params: Mapping[str, Any] | None, *,
                streamable: bool) -> ExportTask:
        validate(self.scope, params, None)
        return _start_export(self.client, self.kind, {
            "taskName": task_name, "filters": {self.filter_key: self.uid},
            "isStreamableReady": True, "params": wire_params(self.scope, params),
            "streamable": streamable}, not streamable)


class CatalogSlice(_FilterlessExport):
    scope: Scope = "slice"
    kind = "slice"
    filter_key = "sliceId"


class ModelRun(_FilterlessExport):
    scope: Scope = "model_run"
    kind = "model_run"
    filter_key = "modelRunId"


class Model(Entity):
    def model_runs(self) -> Iterator[ModelRun]:
        skip = 0
        while True:
            data = self.client._transport.graphql(gql.GET_MODEL_RUNS % (skip, 100),
                                                  {"param_0": self.uid})
            page = (data.get("model") or {}).get("modelRuns") or []
            for fields in page:
                yield ModelRun(self.client, fields)
            if len(page) < 100:
                return
            skip += 100


class Batch(Entity):
    pass


class DataRow(Entity):
    @staticmethod
    def export(client: Client, data_rows: Sequence[DataRow | str] | None = None,
               global_keys: Sequence[str] | None = None, task_name: str | None = None,
               params: Mapping[str, Any] | None = None) -> ExportTask:
        """Export the given data rows (objects or ids) or global keys; ids win if both given."""
        return DataRow._export(client, data_rows, global_keys, task_name, params, True)

    @staticmethod
    def export_v2(client: Client, data_rows: Sequence[DataRow | str] | None = None,
                  global_keys: Sequence[str] | None = None, task_name: str | None = None,
                  params: Mapping[str, Any] | None = None) -> ExportTask:
        warnings.warn(_V2_WARNING, DeprecationWarning, stacklevel=2)
        return DataRow._export(client, data_rows, global_keys, task_name, params, False)

    @staticmethod
    def _export(client: Client, data_rows: Sequence[DataRow | str] | None,
                global_keys: Sequence[str] | None, task_name: str | None,
                params: Mapping[str, Any] | None, streamable: bool) -> ExportTask:
        ids = [r.uid if isinstance(r, DataRow) else r for r in data_rows or []
               if isinstance(r, DataRow | str)]
        filters: dict[str, Any] = ({"data_row_ids": ids} if ids else
                                   {"global_keys": list(global_keys) if global_keys else None})
        query, wire = _searchable(client, "data_rows", filters, params)
        count = len(ids) if ids else len(global_keys or [])
        return _start_export(client, "catalog", {
            "taskName": task_name if task_name is not None else f"Export v2: data rows {count}",
            "filters": {"searchQuery": {"scope": None, "query": query}},
            "isStreamableReady": True, "params": wire, "streamable": streamable},
            not streamable)
