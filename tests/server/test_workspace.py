"""Workspace lookups return what the SDK selects, in its DateTime format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from export_widget.server import store
from export_widget.server.demo.seed import MEDIA
from export_widget.server.store import open_store
from export_widget.server.workspace import Workspace

GQL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def ws(engine: Engine) -> Workspace:
    return Workspace(engine)


def test_empty_store_answers_none(tmp_path: Path) -> None:
    ws = Workspace(open_store(str(tmp_path / "empty.sqlite")))
    assert ws.organization() is None and ws.user() is None and ws.timezone() is None
    assert ws.projects() == [] and ws.project("x") is None


def test_user_and_organization_have_the_sdk_fields(ws: Workspace) -> None:
    user = ws.user()
    assert user is not None
    assert {"createdAt", "email", "intercomHash", "isExternalUser", "isViewer", "nickname",
            "name", "picture", "id", "updatedAt", "lastLoginAt", "timezone"} <= set(user)
    assert user["email"] == "owner@example.com"
    assert ws.timezone() == "America/New_York"
    assert ws.user_by_id(user["id"]) == user
    assert ws.user_by_id("nope") is None
    org = ws.organization()
    assert org is not None and set(org) == {"id", "name", "createdAt", "updatedAt"}
    assert GQL_TIME.match(org["createdAt"]) and GQL_TIME.match(user["updatedAt"])


def test_project_has_the_sdk_fields(ws: Workspace) -> None:
    first = ws.projects()[0]
    project = ws.project(first["id"])
    assert project == first
    sdk = {"autoAuditNumberOfLabels", "autoAuditPercentage", "createdAt", "dataRowCount",
           "description", "editorTaskType", "isBenchmarkEnabled", "isConsensusEnabled",
           "lastActivityTime", "allowedMediaType", "modelSetupComplete", "name", "queueMode",
           "setupComplete", "id", "updatedAt", "uploadType"}
    assert sdk <= set(project)
    assert GQL_TIME.match(project["createdAt"]) and GQL_TIME.match(project["lastActivityTime"])


def test_listings_page_with_skip_and_first(ws: Workspace) -> None:
    every = ws.projects()
    assert len(every) == 9
    assert ws.projects(skip=2, first=3) == every[2:5]
    assert ws.projects(skip=100) == []
    datasets = ws.datasets()
    assert len(datasets) == 8 and ws.datasets(skip=1, first=1) == datasets[1:2]
    assert sum(d["rowCount"] for d in datasets) == sum(m.count for m in MEDIA)
    assert ws.dataset(datasets[0]["id"]) == datasets[0]


def test_batches_cursor_paging(ws: Workspace) -> None:
    pid = ws.projects()[0]["id"]
    page = ws.batches(pid, first=1)
    assert len(page["nodes"]) == 1 and page["pageInfo"]["hasNextPage"]
    rest = ws.batches(pid, after=page["pageInfo"]["endCursor"], first=10)
    assert len(rest["nodes"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    assert ws.batches(pid)["nodes"] == page["nodes"] + rest["nodes"]
    with pytest.raises(ValueError, match="after: no batch"):
        ws.batches(pid, after="missing")


def test_models_and_runs(ws: Workspace) -> None:
    models = ws.models()
    assert {m["name"] for m in models} == {"Street Detector", "Entity Tagger", "Traffic Tracker",
                                           "Land Use Segmenter"}
    for m in models:
        runs = ws.model_runs(m["id"])
        assert runs and all(r["modelId"] == m["id"] for r in runs)
        run = ws.model_run(runs[0]["id"])
        assert run is not None and run["trainingMetadata"]["framework"] == "pytorch"
        assert {"createdAt", "createdBy", "modelId", "name", "trainingMetadata", "id",
                "updatedAt", "modelAppId"} <= set(run)
    assert len(ws.model_runs()) == 5


def test_data_row_with_metadata(ws: Workspace, engine: Engine) -> None:
    with engine.connect() as conn:
        row_id = conn.execute(sa.select(store.data_rows.c.id).where(
            store.data_rows.c.global_key == "street-0003.png")).scalar_one()
    row = ws.data_row(row_id)
    assert row is not None and row["id"] == row_id
    assert row["mediaAttributes"]["mime_type"] == "image/png"
    assert row["rowData"] == "/media/images/street-0003.png"
    fields = {f["name"]: f for f in row["metadataFields"]}
    assert fields["tag"]["value"] == "busy" and fields["tag"]["kind"] == "CustomMetadataString"
    assert fields["weather"]["kind"] == "CustomMetadataEnum"
    assert {"schemaId", "value"} == set(row["customMetadata"][0])
    ontology = {s["name"]: s for s in ws.metadata_ontology()}
    assert {o["name"] for o in ontology["weather"]["options"]} == {"sunny", "cloudy", "rainy"}
    assert ontology["captureDateTime"]["kind"] == "CustomMetadataDateTime"


def test_slices(ws: Workspace) -> None:
    slices = ws.slices()
    assert len(slices) >= 2
    one = ws.slice(slices[0]["id"])
    assert one == slices[0]
    assert set(one) == {"id", "name", "description", "filter", "createdAt", "updatedAt"}
    assert isinstance(one["filter"], list)
    assert ws.slice("nope") is None


def test_api_keys_map_to_users(ws: Workspace) -> None:
    owner = ws.user()
    assert owner is not None
    assert ws.user_by_api_key("k-1") is None
    assert ws.add_api_key("k-1") == owner["id"]
    assert ws.user_by_api_key("k-1") == owner
    reviewer = ws.user_by_email("reviewer@example.com")
    assert reviewer is not None
    ws.add_api_key("k-2", reviewer["id"])
    assert ws.user_by_api_key("k-2") == reviewer
    with pytest.raises(ValueError, match="user_id: no user with id ghost"):
        ws.add_api_key("k-3", "ghost")


def test_catalog_names_for_the_ui(ws: Workspace) -> None:
    names = ws.catalog_names()
    assert {p["name"] for p in names["projects"]} >= {"Street Scenes Annotation", "News NER"}
    assert all(len(p["batches"]) >= 2 for p in names["projects"])
    assert len(names["datasets"]) == 8 and len(names["slices"]) >= 2
    assert sum(len(m["modelRuns"]) for m in names["models"]) == 5
