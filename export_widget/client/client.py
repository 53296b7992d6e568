"""`Client`: the entry point, shaped like the official SDK's for the export calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from .. import __version__
from . import graphql as gql
from .errors import AuthenticationError, ResourceNotFoundError
from .scopes import Catalog, CatalogSlice, Dataset, Model, ModelRun, Project
from .task import ExportTask
from .transport import RetryPolicy, Transport

DEFAULT_ENDPOINT = "https://api.labelbox.com/graphql"
PAGE = 100


class Client:
    """Talks to a Labelbox-protocol export server. Constructing it makes no request.

    `api_key` falls back to `LABELBOX_API_KEY`, `endpoint` to `LABELBOX_ENDPOINT`.
    """

    def __init__(self, api_key: str | None = None, endpoint: str | None = None, *,
                 timeout: float = 60.0, retry: RetryPolicy | None = None) -> None:
        key = api_key or os.environ.get("LABELBOX_API_KEY")
        if not key:
            raise AuthenticationError("Labelbox API key not provided")
        self.endpoint = endpoint or os.environ.get("LABELBOX_ENDPOINT") or DEFAULT_ENDPOINT
        self._transport = Transport(key, self.endpoint, timeout=timeout, retry=retry,
                                    user_agent=f"export-widget {__version__}")
        self._user: dict[str, Any] | None = None

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, query: str, variables: dict[str, Any] | None = None, *,
                experimental: bool = False) -> dict[str, Any]:
        """Run any GraphQL operation; returns its `data`."""
        return self._transport.graphql(query, variables, experimental=experimental)

    # --- the user ---

    def get_user(self) -> dict[str, Any]:
        """The key's user (fetched once, like the SDK)."""
        if self._user is None:
            self._user = self._transport.graphql(gql.GET_USER)["user"]
        return self._user

    def _user_id(self) -> str:
        return str(self.get_user()["id"])

    def get_user_timezone(self) -> str:
        """The user's timezone for naive date filters ("UTC" when unset)."""
        user = self._transport.graphql(gql.CURRENT_USER_TIMEZONE).get("user") or {}
        return str(user.get("timezone") or "UTC")

    # --- single objects ---

    def _one(self, query: str, field: str, uid: str, what: str) -> dict[str, Any]:
        data = self._transport.graphql(query, {"param_0": uid})
        found = data.get(field)
        if not found:
            raise ResourceNotFoundError(f"{what} {uid!r} not found")
        return dict(found)

    def get_project(self, project_id: str) -> Project:
        return Project(self, self._one(gql.GET_PROJECT, "project", project_id, "project"))

    def get_dataset(self, dataset_id: str) -> Dataset:
        return Dataset(self, self._one(gql.GET_DATASET, "dataset", dataset_id, "dataset"))

    def get_model_run(self, model_run_id: str) -> ModelRun:
        return ModelRun(self, self._one(gql.GET_MODEL_RUN, "modelRun", model_run_id,
                                        "model run"))

    def get_model(self, model_id: str) -> Model:
        return Model(self, self._one(gql.GET_MODEL, "model", model_id, "model"))

    def get_catalog(self) -> Catalog:
        return Catalog(self)

    def get_catalog_slice(self, slice_id: str) -> CatalogSlice:
        data = self._transport.graphql(gql.GET_SAVED_QUERY, {"id": slice_id})
        found = data.get("getSavedQuery")
        if not found:
            raise ResourceNotFoundError(f"catalog slice {slice_id!r} not found")
        return CatalogSlice(self, found)

    def get_task(self, task_id: str) -> ExportTask:
        """Re-attach to an export task by id (same as `ExportTask.get_task`)."""
        return ExportTask.get_task(self, task_id)

    # --- listings ---

    def _paged(self, query: str, field: str, variables: dict[str, Any] | None
               ) -> Iterator[dict[str, Any]]:
        skip = 0
        while True:
            page = self._transport.graphql(query % (skip, PAGE), variables).get(field) or []
            yield from page
            if len(page) < PAGE:
                return
            skip += PAGE

    def get_projects(self) -> list[Project]:
        return [Project(self, f) for f in self._paged(gql.GET_PROJECTS, "projects",
                                                      {"param_0": False})]

    def get_datasets(self) -> list[Dataset]:
        return [Dataset(self, f) for f in self._paged(gql.GET_DATASETS, "datasets",
                                                      {"param_0": False})]

    def get_models(self) -> list[Model]:
        return [Model(self, f) for f in self._paged(gql.GET_MODELS, "models", None)]

    def get_catalog_slices(self) -> list[CatalogSlice]:
        data = self._transport.graphql(gql.GET_CATALOG_SLICES)
        return [CatalogSlice(self, f) for f in data.get("catalogSavedQueries") or []]
