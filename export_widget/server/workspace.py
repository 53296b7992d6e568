"""Read-side lookups for the GraphQL resolvers.

Every method returns plain dicts keyed by the GraphQL field names the official SDK selects
(docs/protocol.md, "Lookups and listings"), with DateTime values as
`2024-01-01T00:00:00.000Z`, or None when the object does not exist. Listing methods take the
SDK's paging arguments.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from sqlalchemy import Engine, Row, Select, func, select, tuple_

from export_widget.jsontypes import Json
from export_widget.server import store
from export_widget.server.rows.times import ms_to_gql_time

METADATA_KIND = {
    "string": "CustomMetadataString",
    "number": "CustomMetadataNumber",
    "datetime": "CustomMetadataDateTime",
    "enum": "CustomMetadataEnum",
    "option": "CustomMetadataEnumOption",
}


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _times(row: Row[Any]) -> Json:
    return {"createdAt": ms_to_gql_time(row.created_at),
            "updatedAt": ms_to_gql_time(row.updated_at)}


def _creation_order(table: Any) -> tuple[Any, Any]:
    """Listings keep creation order; the id breaks ties between rows created together."""
    return table.c.created_at, table.c.id


def _oldest_first(table: Any) -> Select[Any]:
    return select(table).order_by(*_creation_order(table))


class Workspace:
    """Read-only view of the workspace for the API layer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _one(self, stmt: Any) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(stmt).first()

    def _all(self, stmt: Any) -> list[Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).all())

    # --- organization and users -----------------------------------------------------------

    def organization(self) -> Json | None:
        row = self._one(select(store.organization).limit(1))
        if row is None:
            return None
        return {"id": row.id, "name": row.name, **_times(row)}

    @staticmethod
    def _user(row: Row[Any]) -> Json:
        return {
            "id": row.id, "email": row.email, "name": row.name, "nickname": row.nickname,
            "timezone": row.timezone, "intercomHash": None, "isExternalUser": False,
            "isViewer": False, "picture": None, "lastLoginAt": ms_to_gql_time(row.updated_at),
            "isOrgAdmin": bool(row.is_owner),  # not in the schema: for access checks only
            **_times(row),
        }

    def user(self) -> Json | None:
        """The workspace owner (the user every local API key acts as by default)."""
        row = self._one(select(store.users).order_by(store.users.c.is_owner.desc(),
                                                     store.users.c.created_at).limit(1))
        return None if row is None else self._user(row)

    def user_by_id(self, user_id: str) -> Json | None:
        row = self._one(select(store.users).where(store.users.c.id == user_id))
        return None if row is None else self._user(row)

    def user_by_email(self, email: str) -> Json | None:
        row = self._one(select(store.users).where(store.users.c.email == email))
        return None if row is None else self._user(row)

    def user_by_api_key(self, key: str) -> Json | None:
        stmt = select(store.users).join(
            store.api_keys, store.api_keys.c.user_id == store.users.c.id
        ).where(store.api_keys.c.key_hash == hash_api_key(key))
        row = self._one(stmt)
        return None if row is None else self._user(row)

    def add_api_key(self, key: str, user_id: str | None = None) -> str:
        """Register an API key for a user (the owner by default); returns the user id."""
        if not key:
            raise ValueError("api_key: must be a non-empty string")
        if user_id is None:
            owner = self.user()
            if owner is None:
                raise ValueError("api_key: the workspace has no users yet (seed it first)")
            user_id = str(owner["id"])
        elif self.user_by_id(user_id) is None:
            raise ValueError(f"user_id: no user with id {user_id}")
        h = hash_api_key(key)
        with self.engine.begin() as conn:
            exists = conn.execute(select(store.api_keys.c.key_hash)
                                  .where(store.api_keys.c.key_hash == h)).first()
            if exists is None:
                conn.execute(store.api_keys.insert().values(
                    key_hash=h, user_id=user_id, created_at=0))
        return user_id

    def timezone(self) -> str | None:
        owner = self.user()
        return None if owner is None else owner["timezone"]

    # --- projects, datasets, batches --------------------------------------------------------

    def _project(self, row: Row[Any], count: int) -> Json:
        return {
            "id": row.id, "name": row.name, "description": row.description,
            "autoAuditNumberOfLabels": 1, "autoAuditPercentage": 1.0, "dataRowCount": count,
            "editorTaskType": None, "isBenchmarkEnabled": False, "isConsensusEnabled": False,
            "lastActivityTime": ms_to_gql_time(row.updated_at),
            "allowedMediaType": row.media_type, "mediaType": row.media_type,
            "modelSetupComplete": False, "queueMode": "BATCH", "setupComplete":
            ms_to_gql_time(row.created_at), "uploadType": None, "ontologyId": row.ontology_id,
            **_times(row),
        }

    def _project_counts(self, ids: list[str]) -> dict[str, int]:
        project = store.project_rows.c.project_id
        rows = self._all(select(project, func.count().label("n"))
                         .where(project.in_(ids)).group_by(project))
        return {r.project_id: int(r.n) for r in rows}

    def project(self, project_id: str) -> Json | None:
        row = self._one(select(store.projects).where(store.projects.c.id == project_id))
        if row is None:
            return None
        return self._project(row, self._project_counts([row.id]).get(row.id, 0))

    def projects(self, skip: int = 0, first: int = 100) -> list[Json]:
        rows = self._all(_oldest_first(store.projects).offset(skip).limit(first))
        counts = self._project_counts([r.id for r in rows])
        return [self._project(r, counts.get(r.id, 0)) for r in rows]

    def _dataset(self, row: Row[Any], count: int) -> Json:
        return {"id": row.id, "name": row.name, "description": row.description,
                "rowCount": count, "createdBy": row.created_by, **_times(row)}

    def _dataset_counts(self, ids: list[str]) -> dict[str, int]:
        dataset = store.data_rows.c.dataset_id
        rows = self._all(select(dataset, func.count().label("n"))
                         .where(dataset.in_(ids)).group_by(dataset))
        return {r.dataset_id: int(r.n) for r in rows}

    def dataset(self, dataset_id: str) -> Json | None:
        row = self._one(select(store.datasets).where(store.datasets.c.id == dataset_id))
        if row is None:
            return None
        return self._dataset(row, self._dataset_counts([row.id]).get(row.id, 0))

    def datasets(self, skip: int = 0, first: int = 100) -> list[Json]:
        rows = self._all(_oldest_first(store.datasets).offset(skip).limit(first))
        counts = self._dataset_counts([r.id for r in rows])
        return [self._dataset(r, counts.get(r.id, 0)) for r in rows]

    def batches(self, project_id: str, after: str | None = None, first: int = 100) -> Json:
        """Cursor page of a project's batches: `{nodes, pageInfo{endCursor, hasNextPage}}`.

        The cursor is the last batch id of the previous page; an unknown cursor is an error.
        """
        batches = store.batches
        stmt = select(batches).where(batches.c.project_id == project_id)
        if after:
            cursor = self._one(select(*_creation_order(batches)).where(
                batches.c.id == after, batches.c.project_id == project_id))
            if cursor is None:
                raise ValueError(f"after: no batch {after} in project {project_id}")
            stmt = stmt.where(tuple_(*_creation_order(batches))
                              > tuple_(cursor.created_at, cursor.id))
        rows = self._all(stmt.order_by(*_creation_order(batches)).limit(first + 1))
        page = rows[:first]
        nodes = [{"id": r.id, "name": r.name, "size": r.size, "projectId": r.project_id,
                  "createdBy": r.created_by, **_times(r)} for r in page]
        return {"nodes": nodes, "pageInfo": {"endCursor": page[-1].id if page else None,
                                             "hasNextPage": len(rows) > first}}

    # --- models ------------------------------------------------------------------------------

    def _model(self, row: Row[Any]) -> Json:
        return {"id": row.id, "name": row.name, "ontologyId": row.ontology_id,
                "createdBy": row.created_by, **_times(row)}

    def model(self, model_id: str) -> Json | None:
        row = self._one(select(store.models).where(store.models.c.id == model_id))
        return None if row is None else self._model(row)

    def models(self, skip: int = 0, first: int = 100) -> list[Json]:
        rows = self._all(_oldest_first(store.models).offset(skip).limit(first))
        return [self._model(r) for r in rows]

    def _model_run(self, row: Row[Any]) -> Json:
        meta = orjson.loads(row.training_metadata) if row.training_metadata else None
        return {"id": row.id, "name": row.name, "modelId": row.model_id,
                "createdBy": row.created_by, "trainingMetadata": meta, "modelAppId": None,
                **_times(row)}

    def model_run(self, model_run_id: str) -> Json | None:
        row = self._one(select(store.model_runs).where(store.model_runs.c.id == model_run_id))
        return None if row is None else self._model_run(row)

    def model_runs(self, model_id: str | None = None, skip: int = 0,
                   first: int = 100) -> list[Json]:
        stmt = select(store.model_runs)
        if model_id is not None:
            stmt = stmt.where(store.model_runs.c.model_id == model_id)
        rows = self._all(stmt.order_by(*_creation_order(store.model_runs))
                         .offset(skip).limit(first))
        return [self._model_run(x) for x in rows]

    # --- data rows and metadata ------------------------------------------------------------

    def data_row(self, data_row_id: str) -> Json | None:
        row = self._one(select(store.data_rows).where(store.data_rows.c.id == data_row_id))
        if row is None:
            return None
        return self._data_row(row)

    def _data_row(self, row: Row[Any]) -> Json:
        values, schemas = store.metadata_fields, store.metadata_schemas
        fields = self._all(select(values.c.schema_id, values.c.value, schemas.c.name,
                                  schemas.c.kind)
                           .join(schemas, schemas.c.id == values.c.schema_id)
                           .where(values.c.data_row_pk == row.pk))
        custom = [{"schemaId": f.schema_id, "value": orjson.loads(f.value)} for f in fields]
        metadata_fields = [{"schemaId": f.schema_id, "name": f.name,
                            "value": orjson.loads(f.value), "kind": METADATA_KIND[f.kind]}
                           for f in fields]
        return {
            "id": row.id, "externalId": row.external_id, "globalKey": row.global_key,
            "rowData": row.row_data, "mediaType": row.media_type, "datasetId": row.dataset_id,
            "mediaAttributes": orjson.loads(row.media_attributes),
            "customMetadata": custom, "metadataFields": metadata_fields,
            "createdBy": row.created_by, **_times(row),
        }

    def metadata_ontology(self) -> list[Json]:
        """`customMetadataOntology`: schemas with their enum options."""
        schemas = store.metadata_schemas
        rows = self._all(select(schemas).order_by(schemas.c.name, schemas.c.id))
        options: dict[str, list[Json]] = {}
        for r in rows:
            if r.kind == "option" and r.parent_id:
                options.setdefault(r.parent_id, []).append(
                    {"id": r.id, "name": r.name, "kind": METADATA_KIND["option"],
                     "reserved": bool(r.reserved)})
        return [{"id": r.id, "name": r.name, "kind": METADATA_KIND[r.kind],
                 "reserved": bool(r.reserved), "options": options.get(r.id, [])}
                for r in rows if r.kind != "option"]

    # --- slices ------------------------------------------------------------------------------

    @staticmethod
    def _slice(row: Row[Any]) -> Json:
        return {"id": row.id, "name": row.name, "description": row.description,
                "filter": orjson.loads(row.filter), **_times(row)}

    def slice(self, slice_id: str) -> Json | None:
        row = self._one(select(store.slices).where(store.slices.c.id == slice_id))
        return None if row is None else self._slice(row)

    def slices(self) -> list[Json]:
        return [self._slice(r) for r in self._all(_oldest_first(store.slices))]

    # --- names for UI listings -------------------------------------------------------------

    def catalog_names(self) -> Json:
        """What can be exported, with names: projects (with batches), datasets, slices,
        models with their runs."""
        batches: dict[str, list[Json]] = {}
        for row in self._all(_oldest_first(store.batches)):
            batches.setdefault(row.project_id, []).append({"id": row.id, "name": row.name})
        runs: dict[str, list[Json]] = {}
        for row in self._all(_oldest_first(store.model_runs)):
            runs.setdefault(row.model_id, []).append({"id": row.id, "name": row.name})
        return {
            "projects": [{"id": x.id, "name": x.name, "mediaType": x.media_type,
                          "batches": batches.get(x.id, [])}
                         for x in self._all(_oldest_first(store.projects))],
            "datasets": [{"id": x.id, "name": x.name}
                         for x in self._all(_oldest_first(store.datasets))],
            "slices": [{"id": x.id, "name": x.name}
                       for x in self._all(_oldest_first(store.slices))],
            "models": [{"id": x.id, "name": x.name, "modelRuns": runs.get(x.id, [])}
                       for x in self._all(_oldest_first(store.models))],
        }
