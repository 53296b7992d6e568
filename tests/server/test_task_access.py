"""Tasks are read by their creator (and the organization admin) only, as the SDK sees it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import labelbox as lb
import pytest
from lbox.exceptions import AuthorizationError

from export_widget.server.demo.ids import cuid
from export_widget.server.runner import LocalServer
from export_widget.server.tasks import TaskStatus
from export_widget.server.workspace import Workspace

from .test_api import CATALOG_EXPORT, FROM_OFFSET, HEADER, data, gql

CREATED_TASKS = """query T($user: ID!){user(where: {id: $user}){createdTasks(skip: 0 first: 100){
  id status}}}"""
CANCEL = "mutation C($id: ID!){cancelExportTask(taskId: $id){id}}"


def _sdk(server: LocalServer, key: str) -> Any:
    return lb.Client(api_key=key, endpoint=server.endpoint, rest_endpoint=server.rest_endpoint)


@pytest.fixture(scope="module")
def key_of(server: LocalServer) -> Callable[[str], str]:
    """A new API key for a demo user other than the owner (who is the organization admin)."""
    workspace = Workspace(server.parts.store)

    def make(user: str) -> str:
        key = f"{user}-{secrets.token_hex(8)}"
        workspace.add_api_key(key, cuid(7, "user", user))
        return key

    return make


def _export(server: LocalServer, key: str) -> str:
    datasets = Workspace(server.parts.store).datasets()
    news = next(d["id"] for d in datasets if d["name"] == "News Articles")
    out = data(gql(server, CATALOG_EXPORT, {"input": {"filters": {"searchQuery": {"query": [
        {"type": "dataset", "operator": "is", "ids": [news]}]}}, "streamable": True}}, key=key))
    task_id: str = out["exportDataRowsInCatalog"]["taskId"]
    task = server.engine.wait(task_id, timeout=60)
    assert task is not None and task.status is TaskStatus.COMPLETE
    return task_id


def test_another_users_task_cannot_be_headed_downloaded_listed_or_canceled(
    server: LocalServer, key_of: Callable[[str], str]
) -> None:
    owner_task = _export(server, server.api_key)
    owner_id = data(gql(server, "{user{id}}"))["user"]["id"]
    labeler = _sdk(server, key_of("labeler"))
    where = {"where": {"id": owner_task}, "streamType": "RESULT"}
    for query, variables in ((HEADER, where), (FROM_OFFSET, {**where, "offset": "0"}),
                             (CREATED_TASKS, {"user": owner_id}), (CANCEL, {"id": owner_task})):
        with pytest.raises(AuthorizationError, match="only its creator or an organization admin"):
            labeler.execute(query, variables)
    # The owner's own reads still work.
    assert data(gql(server, HEADER, where))["task"]["exportMetadataHeader"]["totalLines"] != "0"


def test_a_user_reads_their_own_tasks_and_the_admin_reads_everyones(
    server: LocalServer, key_of: Callable[[str], str]
) -> None:
    labeler_key, reviewer_key = key_of("labeler"), key_of("reviewer")
    task_id = _export(server, labeler_key)
    where = {"where": {"id": task_id}, "streamType": "RESULT"}
    labeler = _sdk(server, labeler_key)
    assert labeler.execute(HEADER, where)["task"]["exportMetadataHeader"]["totalLines"] != "0"
    mine = labeler.execute(CREATED_TASKS, {"user": cuid(7, "user", "labeler")})
    assert task_id in {t["id"] for t in mine["user"]["createdTasks"]}
    assert data(gql(server, HEADER, where))["task"]["exportMetadataHeader"]  # the admin
    with pytest.raises(AuthorizationError):
        _sdk(server, reviewer_key).execute(HEADER, where)
