"""What every resolver shares: the API state, the caller, and the error shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from graphql import GraphQLError
from graphql import GraphQLResolveInfo as _ResolveInfo

from export_widget.server.engine import ExportEngine
from export_widget.server.signing import ChunkSigner

MAX_PAGE_SIZE = 1_000  # the most items one listing page (a PageSize argument) holds

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


@dataclass
class ApiState:
    """What the resolvers share: the workspace, the engine and the signer."""

    workspace: Workspace
    engine: ExportEngine
    signer: ChunkSigner


class ApiError(GraphQLError):
    """A GraphQL error with an `extensions.code` the SDK maps to an exception."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


def bad_input(message: str) -> ApiError:
    return ApiError(message, "BAD_USER_INPUT")


def check_task_reader(info: GraphQLResolveInfo, owner_id: str, what: str) -> None:
    """The one rule for reading tasks: a user reads their own, an organization admin reads
    everyone's; anyone else gets the SDK's authorization error."""
    caller = caller_of(info)
    if caller["id"] != owner_id and not caller.get("isOrgAdmin"):
        raise ApiError(f"{what}: only its creator or an organization admin may read it",
                       "AUTHORIZATION_ERROR")


def state_of(info: GraphQLResolveInfo) -> ApiState:
    state: ApiState = info.context["app"]
    return state


def caller_of(info: GraphQLResolveInfo) -> dict[str, Any]:
    user: dict[str, Any] = info.context["user"]
    return user
