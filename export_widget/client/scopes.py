"""The exportable objects: Project, Dataset, Catalog, CatalogSlice, ModelRun, DataRow (+ Batch,
Model for browsing). Each `export()` validates first, then sends the SDK's mutation."""

from __future__ import annotations

import re
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..jsontypes import Json
from .api import ExportApi, HasApi
from .filters import search_query
from .params import wire_params
from .task import ExportTask
from .validation import Scope, validate

_V2_WARNING = "export_v2 is deprecated and will be removed in 7.0; use export()"


class Entity:
    """A server object: `uid`, `name`, and every field the server returned, in snake_case."""

    def __init__(self, api: ExportApi, fields: Mapping[str, Any]) -> None:
        self.api = api
        self.fields: Json = dict(fields)

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


def _start_export(api: ExportApi, kind: str, export_input: Json,
                  is_export_v2: bool = False) -> ExportTask:
    task_id = api.start_export(kind, export_input)
    return ExportTask(api, api.get_task(task_id), is_export_v2=is_export_v2)


def _searchable(api: ExportApi, scope: Scope, filters: Mapping[str, Any] | None,
                params: Mapping[str, Any] | None) -> tuple[list[Json], Json]:
    validate(scope, params, filters)
    return search_query(filters, api.user_timezone), wire_params(scope, params)


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
        query, wire = _searchable(self.api, "project", filters, params)
        return _start_export(self.api, "project", {
            "taskName": task_name, "isStreamableReady": True,
            "filters": {"projectId": self.uid, "searchQuery": {"scope": None, "query": query}},
            "params": wire, "streamable": streamable}, not streamable)

    def batches(self) -> Iterator[Batch]:
        """The project's batches (cursor-paged on the experimental endpoint, like the SDK)."""
        return (Batch(self.api, {**node, "projectId": self.uid})
                for node in self.api.project_batches(self.uid))


class _CatalogLike(_FilteredExport):
    scope: Scope = "catalog"

    def _extra_query(self) -> list[Json]:
        return []

    def _default_name(self) -> str | None:
        return None

    def _export(self, task_name: str | None, filters: Mapping[str, Any] | None,
                params: Mapping[str, Any] | None, *, streamable: bool) -> ExportTask:
        query, wire = _searchable(self.api, self.scope, filters, params)
        return _start_export(self.api, "catalog", {
            "taskName": task_name if task_name is not None else self._default_name(),
            "filters": {"searchQuery": {"scope": None, "query": query + self._extra_query()}},
            "isStreamableReady": True, "params": wire, "streamable": streamable},
            not streamable)


class Dataset(_CatalogLike):
    scope: Scope = "dataset"

    def _extra_query(self) -> list[Json]:
        return [{"ids": [self.uid], "operator": "is", "type": "dataset"}]

    def _default_name(self) -> str | None:
        return f"Export v2: dataset - {self.name}"


class Catalog(_CatalogLike):
    """The whole workspace's data rows; `client.get_catalog()` makes one without a call."""

    scope: Scope = "catalog"

    def __init__(self, api: ExportApi) -> None:
        super().__init__(api, {"id": "catalog", "name": "Catalog"})


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
        return _start_export(self.api, self.kind, {
            "taskName": task_name, "filters": {self.filter_key: self.uid},
            "isStreamableReady": True, "params": wire_params(self.scope, params),
            "streamable": streamable}, not streamable)


class CatalogSlice(_FilterlessExport):
    """A saved catalog query; its export takes no filters."""


class ModelRun(_FilterlessExport):
    scope: Scope = "model_run"
    kind = "model_run"
    filter_key = "modelRunId"


class Model(Entity):
    def model_runs(self) -> Iterator[ModelRun]:
        return (ModelRun(self.api, fields) for fields in self.api.model_runs(self.uid))


class Batch(Entity):
    pass


class DataRow(Entity):
    @staticmethod
    def export(client: HasApi, data_rows: Sequence[DataRow | str] | None = None,
               global_keys: Sequence[str] | None = None, task_name: str | None = None,
               params: Mapping[str, Any] | None = None) -> ExportTask:
        """Export the given data rows (objects or ids) or global keys; ids win if both given."""
        return _export_data_rows(client.api, data_rows, global_keys, task_name, params, True)

    @staticmethod
    def export_v2(client: HasApi, data_rows: Sequence[DataRow | str] | None = None,
                  global_keys: Sequence[str] | None = None, task_name: str | None = None,
                  params: Mapping[str, Any] | None = None) -> ExportTask:
        warnings.warn(_V2_WARNING, DeprecationWarning, stacklevel=2)
        return _export_data_rows(client.api, data_rows, global_keys, task_name, params, False)


def _export_data_rows(api: ExportApi, data_rows: Sequence[DataRow | str] | None,
                      global_keys: Sequence[str] | None, task_name: str | None,
                      params: Mapping[str, Any] | None, streamable: bool) -> ExportTask:
    ids = [r.uid if isinstance(r, DataRow) else r for r in data_rows or []
           if isinstance(r, DataRow | str)]
    filters: Json = ({"data_row_ids": ids} if ids else
                     {"global_keys": list(global_keys) if global_keys else None})
    query, wire = _searchable(api, "data_rows", filters, params)
    count = len(ids) if ids else len(global_keys or [])
    return _start_export(api, "catalog", {
        "taskName": task_name if task_name is not None else f"Export v2: data rows {count}",
        "filters": {"searchQuery": {"scope": None, "query": query}},
        "isStreamableReady": True, "params": wire, "streamable": streamable}, not streamable)
