"""`Client`: the entry point, shaped like the official SDK's for the export calls."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

import httpx

from ..jsontypes import Json
from .api import ExportApi
from .errors import AuthenticationError
from .scopes import Catalog, CatalogSlice, Dataset, Model, ModelRun, Project
from .task import ExportTask
from .transport import RetryPolicy, Transport

DEFAULT_ENDPOINT = "https://api.labelbox.com/graphql"


def _user_agent() -> str:
    try:
        return f"export-widget {version('export-widget')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "export-widget"


class Client:
    """Talks to a Labelbox-protocol export server. Constructing it makes no request.

    `api_key` falls back to `LABELBOX_API_KEY`, `endpoint` to `LABELBOX_ENDPOINT`.
    `transport` is any `httpx.BaseTransport` (an in-process app, a recording or faulty one);
    `api` holds the protocol's operations for code that wants them without the objects.
    """

    def __init__(self, api_key: str | None = None, endpoint: str | None = None, *,
                 timeout: float = 60.0, retry: RetryPolicy | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        key = api_key or os.environ.get("LABELBOX_API_KEY")
        if not key:
            raise AuthenticationError("Labelbox API key not provided")
        self.endpoint = endpoint or os.environ.get("LABELBOX_ENDPOINT") or DEFAULT_ENDPOINT
        self.api = ExportApi(Transport(key, self.endpoint, timeout=timeout, retry=retry,
                                       user_agent=_user_agent(), transport=transport))

    def close(self) -> None:
        self.api.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def credentials_for(self, url: str) -> dict[str, str]:
        """Headers to fetch `url` with: the API key for this server's own URLs (composite
        masks), nothing for other hosts."""
        return self.api.transport.credentials_for(url)

    def execute(self, query: str, variables: Json | None = None, *,
                experimental: bool = False) -> Json:
        """Run any GraphQL operation; returns its `data`."""
        return self.api.execute(query, variables, experimental=experimental)

    def get_user(self) -> Json:
        """The key's user (fetched once, like the SDK)."""
        return self.api.user()

    def get_user_timezone(self) -> str:
        """The user's timezone for naive date filters ("UTC" when unset)."""
        return self.api.user_timezone()

    def get_project(self, project_id: str) -> Project:
        return Project(self.api, self.api.project(project_id))

    def get_dataset(self, dataset_id: str) -> Dataset:
        return Dataset(self.api, self.api.dataset(dataset_id))

    def get_model_run(self, model_run_id: str) -> ModelRun:
        return ModelRun(self.api, self.api.model_run(model_run_id))

    def get_model(self, model_id: str) -> Model:
        return Model(self.api, self.api.model(model_id))

    def get_catalog(self) -> Catalog:
        return Catalog(self.api)

    def get_catalog_slice(self, slice_id: str) -> CatalogSlice:
        return CatalogSlice(self.api, self.api.catalog_slice(slice_id))

    def get_task(self, task_id: str) -> ExportTask:
        """Re-attach to an export task by id (same as `ExportTask.get_task`)."""
        return ExportTask.get_task(self, task_id)

    def get_projects(self) -> list[Project]:
        return [Project(self.api, f) for f in self.api.projects()]

    def get_datasets(self) -> list[Dataset]:
        return [Dataset(self.api, f) for f in self.api.datasets()]

    def get_models(self) -> list[Model]:
        return [Model(self.api, f) for f in self.api.models()]

    def get_catalog_slices(self) -> list[CatalogSlice]:
        return [CatalogSlice(self.api, f) for f in self.api.catalog_slices()]
