"""What the client repeats: queries and downloads, not an export whose answer was lost; 429s
wait for their Retry-After. Faults come from a real loopback proxy in front of the server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from export_widget.client import Client, LabelboxError, NetworkError, Project, RetryPolicy
from export_widget.server.runner import LocalServer

from .recording_proxy import RecordingProxy

FAST = RetryPolicy(attempts=4, backoff=0.01)
EXPORT = "exportDataRowsInProjectPyApi"
TASKS_PAGE = ("query TasksPage($skip: Int, $first: PageSize)"
              "{user{createdTasks(skip: $skip first: $first){name}}}")


@pytest.fixture
def proxy(server: LocalServer) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(server.base_url)
    yield proxy
    proxy.close()


@pytest.fixture
def via_proxy(server: LocalServer, proxy: RecordingProxy) -> Iterator[Client]:
    with Client(api_key=server.api_key, endpoint=proxy.endpoint, retry=FAST) as c:
        yield c


def _tasks_named(client: Client, name: str) -> int:
    count, skip = 0, 0
    while True:
        page = client.execute(TASKS_PAGE, {"skip": skip, "first": 100})["user"]["createdTasks"]
        count += sum(1 for task in page if task["name"] == name)
        if len(page) < 100:
            return count
        skip += 100


def test_a_lost_export_answer_is_not_sent_again(client: Client, proxy: RecordingProxy,
                                                via_proxy: Client) -> None:
    project = via_proxy.get_project(client.get_projects()[0].uid)
    name = f"lost-{uuid.uuid4().hex[:8]}"
    proxy.drop_answers[EXPORT] = 10
    for _ in range(10):
        with pytest.raises(NetworkError, match="mutation may have run there, so it is not sent"):
            project.export(task_name=name)
    assert proxy.names().count(EXPORT) == 10
    assert _tasks_named(client, name) == 10  # one task per call, not one per try


def test_a_lost_query_answer_is_asked_again(proxy: RecordingProxy, via_proxy: Client) -> None:
    proxy.drop_answers["GetProjectsPyApi"] = 2
    assert via_proxy.get_projects()
    assert proxy.names().count("GetProjectsPyApi") == 3


def test_429_waits_for_retry_after(proxy: RecordingProxy, via_proxy: Client) -> None:
    proxy.rate_limit["GetDatasetsPyApi"] = 1
    started = time.monotonic()
    assert via_proxy.get_datasets()
    assert time.monotonic() - started >= 1.0  # the policy's own backoff is 10 ms
    assert proxy.names().count("GetDatasetsPyApi") == 2


def test_429_on_the_export_is_sent_again_once_and_starts_one_task(
        client: Client, proxy: RecordingProxy, via_proxy: Client) -> None:
    project = via_proxy.get_project(client.get_projects()[0].uid)
    name = f"limited-{uuid.uuid4().hex[:8]}"
    proxy.retry_after = "0"
    proxy.rate_limit[EXPORT] = 2
    task = project.export(task_name=name)
    assert task.name == name
    assert proxy.names().count(EXPORT) == 3
    assert _tasks_named(client, name) == 1


def test_a_retry_after_beyond_the_policy_is_reported_not_waited_for(
        proxy: RecordingProxy, via_proxy: Client) -> None:
    proxy.retry_after = "3600"
    proxy.rate_limit["GetDatasetsPyApi"] = 1
    started = time.monotonic()
    with pytest.raises(LabelboxError, match=r"429 Too Many Requests .*Retry-After: 3600 s"):
        via_proxy.get_datasets()
    assert time.monotonic() - started < 5


class CountingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return super().handle_request(request)


def test_an_export_that_never_left_is_tried_again() -> None:
    counting = CountingTransport()
    with Client(api_key="k", endpoint="http://127.0.0.1:9/graphql", retry=FAST,
                transport=counting) as dead, \
            pytest.raises(NetworkError, match=r"^cannot reach http://127\.0\.0\.1:9/graphql"):
        Project(dead.api, {"id": "p"}).export()
    assert counting.requests == FAST.attempts  # refused connections: nothing was sent
