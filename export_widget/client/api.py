"""`ExportApi`: every GraphQL operation of the export protocol, one method each.

The objects users hold (scopes, `ExportTask`, `Stream`) call this and nothing lower; it owns
the `Transport` and the one piece of state the protocol needs, the key's user (task lookups
are scoped by user id, as in the SDK).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from ..jsontypes import Json
from . import graphql as gql
from .errors import LabelboxError, ResourceNotFoundError
from .transport import ChunkInfo, Transport

PAGE = 100


class StreamType(enum.Enum):
    RESULT = "RESULT"
    ERRORS = "ERRORS"


@dataclass(frozen=True)
class Header:
    """The committed (or final) size of one stream."""

    total_size: int
    total_lines: int


class HasApi(Protocol):
    """What the SDK-shaped static calls (`ExportTask.get_task(client, ...)`) need of a client."""

    @property
    def api(self) -> ExportApi: ...


class ExportApi:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._user: Json | None = None

    def execute(self, query: str, variables: Json | None = None, *,
                experimental: bool = False) -> Json:
        return self.transport.graphql(query, variables, experimental=experimental)

    # --- the user ---

    def user(self) -> Json:
        """The key's user (fetched once, like the SDK)."""
        if self._user is None:
            self._user = dict(self.execute(gql.GET_USER)["user"])
        return self._user

    def user_timezone(self) -> str:
        user = self.execute(gql.CURRENT_USER_TIMEZONE).get("user") or {}
        return str(user.get("timezone") or "UTC")

    def organization_id(self) -> str:
        return str(self.execute(gql.GET_ORGANIZATION)["organization"]["id"])

    # --- objects ---

    def project(self, uid: str) -> Json:
        return self._one(gql.GET_PROJECT, "project", uid, "project")

    def dataset(self, uid: str) -> Json:
        return self._one(gql.GET_DATASET, "dataset", uid, "dataset")

    def model_run(self, uid: str) -> Json:
        return self._one(gql.GET_MODEL_RUN, "modelRun", uid, "model run")

    def model(self, uid: str) -> Json:
        return self._one(gql.GET_MODEL, "model", uid, "model")

    def catalog_slice(self, uid: str) -> Json:
        found = self.execute(gql.GET_SAVED_QUERY, {"id": uid}).get("getSavedQuery")
        if not found:
            raise ResourceNotFoundError(f"catalog slice {uid!r} not found")
        return dict(found)

    def _one(self, query: str, field: str, uid: str, what: str) -> Json:
        found = self.execute(query, {"param_0": uid}).get(field)
        if not found:
            raise ResourceNotFoundError(f"{what} {uid!r} not found")
        return dict(found)

    # --- listings ---

    def projects(self) -> Iterator[Json]:
        return self._paged(gql.GET_PROJECTS, lambda d: d.get("projects"), {"param_0": False})

    def datasets(self) -> Iterator[Json]:
        return self._paged(gql.GET_DATASETS, lambda d: d.get("datasets"), {"param_0": False})

    def models(self) -> Iterator[Json]:
        return self._paged(gql.GET_MODELS, lambda d: d.get("models"), None)

    def model_runs(self, model_id: str) -> Iterator[Json]:
        return self._paged(gql.GET_MODEL_RUNS, lambda d: (d.get("model") or {}).get("modelRuns"),
                           {"param_0": model_id})

    def catalog_slices(self) -> list[Json]:
        return list(self.execute(gql.GET_CATALOG_SLICES).get("catalogSavedQueries") or [])

    def project_batches(self, project_id: str) -> Iterator[Json]:
        """Cursor-paged on the experimental endpoint, like the SDK."""
        cursor: str | None = None
        while True:
            data = self.execute(gql.GET_PROJECT_BATCHES,
                                {"projectId": project_id, "from": cursor, "first": PAGE},
                                experimental=True)
            page = (data.get("project") or {}).get("batches") or {}
            yield from page.get("nodes") or []
            cursor = (page.get("pageInfo") or {}).get("endCursor")
            if not cursor or not page.get("nodes"):
                return

    def _paged(self, query: str, items: Callable[[Json], list[Json] | None],
               variables: Json | None) -> Iterator[Json]:
        # Offset paging: the SDK formats skip/first into the operation text.
        skip = 0
        while True:
            page = items(self.execute(query % (skip, PAGE), variables)) or []
            yield from page
            if len(page) < PAGE:
                return
            skip += PAGE

    # --- tasks ---

    def start_export(self, kind: str, export_input: Json) -> str:
        """Send the export mutation of `kind`; returns the new task's id. As a mutation it
        is not repeated once sent (see `Transport`): that would start a second export."""
        query, field = gql.EXPORT_MUTATIONS[kind]
        data = self.execute(query, {"input": export_input})
        return str(data[field]["taskId"])

    def get_task(self, task_id: str) -> Json:
        """The task's fields, found among the user's created tasks (the SDK's lookup)."""
        found = list(self._paged(gql.GET_USER_CREATED_TASKS,
                                 lambda d: (d.get("user") or {}).get("createdTasks"),
                                 {"param_0": task_id, "param_1": str(self.user()["id"])}))
        if len(found) != 1:
            raise ResourceNotFoundError(f"export task {task_id!r} not found")
        return dict(found[0])

    def cancel_task(self, task_id: str) -> str | None:
        data = self.execute(gql.CANCEL_EXPORT_TASK, {"taskId": task_id})
        status = (data.get("cancelExportTask") or {}).get("status")
        return str(status) if status else None

    # --- export files ---

    def header(self, task_id: str, stream_type: StreamType) -> Header | None:
        """The stream's size, or None when the server has none (yet)."""
        data = self.execute(gql.GET_EXPORT_METADATA_HEADER,
                            {"where": {"id": task_id}, "streamType": stream_type.value})
        header = (data.get("task") or {}).get("exportMetadataHeader")
        return Header(int(header["totalSize"]), int(header["totalLines"])) if header else None

    def header_so_far(self, task_id: str, stream_type: StreamType) -> Header | None:
        """`header` of a task that may still run: None where the server has none for a
        running task (Labelbox's own does not answer one)."""
        try:
            return self.header(task_id, stream_type)
        except LabelboxError:
            return None

    def file_from_offset(self, task_id: str, stream_type: StreamType, offset: int
                         ) -> ChunkInfo | None:
        """The chunk holding byte `offset` (sent as a string, like the SDK)."""
        return self._file(gql.GET_EXPORT_FILE_FROM_OFFSET, "exportFileFromOffset",
                          {"where": {"id": task_id}, "streamType": stream_type.value,
                           "offset": str(offset)})

    def file_from_line(self, task_id: str, stream_type: StreamType, line: int
                       ) -> ChunkInfo | None:
        return self._file(gql.GET_EXPORT_FILE_FROM_LINE, "exportFileFromLine",
                          {"where": {"id": task_id}, "streamType": stream_type.value,
                           "line": line})

    def _file(self, query: str, field: str, variables: Json) -> ChunkInfo | None:
        info = (self.execute(query, variables).get("task") or {}).get(field)
        if not info:
            return None
        offsets, lines = info["offsets"], info["lines"]
        return ChunkInfo(int(offsets["start"]), int(offsets["end"]), int(lines["start"]),
                         int(lines["end"]), str(info["file"]))

    def download(self, info: ChunkInfo,
                 refetch: Callable[[int], ChunkInfo | None] | None = None) -> Iterator[bytes]:
        """The bytes of one chunk as they arrive (see `Transport.iter_chunk`)."""
        return self.transport.iter_chunk(info, refetch)
