"""What one request may cost: over a bound, a GraphQL error naming it (never a 500)."""

from __future__ import annotations

import httpx
import psutil
import pytest
from graphql import get_introspection_query

from export_widget.server.graphql.limits import (
    MAX_ALIASES,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_LIST,
    MAX_NESTING,
    MAX_STRING,
)
from export_widget.server.runner import LocalServer

from .test_api import CATALOG_EXPORT, data, gql


def _error(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code in (200, 413), response.text[:300]
    error = response.json()["errors"][0]
    return error["extensions"]["code"], error["message"]


def test_a_thousand_aliases_are_refused_without_building_the_answer(
    server: LocalServer,
) -> None:
    rss = psutil.Process().memory_info().rss
    fields = " ".join(f"a{i}: projects(first: 1000){{id name description}}" for i in range(1000))
    code, message = _error(gql(server, "{" + fields + "}"))
    assert code == "GRAPHQL_VALIDATION_FAILED"
    assert message == f"query: at most {MAX_ALIASES} aliases, got 1,000"
    assert psutil.Process().memory_info().rss - rss < 50 * 1024 * 1024


def test_an_answer_too_large_to_build_is_refused_naming_the_cost(server: LocalServer) -> None:
    nested = "{models(first: 1000){id modelRuns(first: 1000){id name modelId createdAt}}}"
    code, message = _error(gql(server, nested))
    assert code == "GRAPHQL_VALIDATION_FAILED"
    # models, 1,000 x (id, modelRuns), 1,000 x 1,000 x 4 run fields
    assert message.startswith("query: the answer could hold 4,002,001 fields, at most")


def test_deep_queries_and_fragment_bombs_are_refused(server: LocalServer) -> None:
    deep = "{__schema{types{fields{type" + "{ofType" * 12 + "{name}" + "}" * 12 + "}}}}"
    code, message = _error(gql(server, deep))
    assert (code, message) == ("GRAPHQL_VALIDATION_FAILED",
                               f"query: at most {MAX_DEPTH} levels of nested fields")
    bomb = ["fragment F0 on User {id email}"]
    bomb += [f"fragment F{n} on User {{...F{n - 1} ...F{n - 1}}}" for n in range(1, 20)]
    code, message = _error(gql(server, "{user{...F19}} " + " ".join(bomb)))
    assert code == "GRAPHQL_VALIDATION_FAILED" and "selected fields" in message


def test_a_huge_body_is_refused_with_413_before_it_is_read(server: LocalServer) -> None:
    body = b'{"query": "{user{id}}", "variables": {"x": "' + b"x" * MAX_BODY_BYTES + b'"}}'
    response = httpx.post(server.endpoint, content=body, timeout=30,
                          headers={"Authorization": f"Bearer {server.api_key}",
                                   "Content-Type": "application/json"})
    assert response.status_code == 413
    assert _error(response) == ("BAD_USER_INPUT",
                                f"request body: at most {MAX_BODY_BYTES:,} bytes")


def test_long_strings_long_lists_and_deep_inputs_are_refused_naming_the_path(
    server: LocalServer,
) -> None:
    def export(input_: dict[str, object]) -> tuple[str, str]:
        return _error(gql(server, CATALOG_EXPORT, {"input": input_}))

    base = {"filters": {"searchQuery": {"query": []}}, "streamable": True}
    assert export({**base, "taskName": "n" * 1_000_000}) == (
        "BAD_USER_INPUT",
        f"variables.input.taskName: at most {MAX_STRING:,} characters, got 1,000,000")
    many = {"filters": {"searchQuery": {"query": [
        {"type": "global_key", "operator": "is", "ids": ["k"] * (MAX_LIST + 1)}]}}}
    assert export({**base, **many}) == (
        "BAD_USER_INPUT", f"variables.input.filters.searchQuery.query[0].ids: at most "
                          f"{MAX_LIST:,} items, got {MAX_LIST + 1:,}")
    deep: object = "x"
    for _ in range(254):
        deep = [deep]
    code, message = export({**base, "filters": {"searchQuery": {"query": [
        {"type": "metadata", "schemaId": "s", "value": deep}]}}})
    assert code == "BAD_USER_INPUT"
    assert message.endswith(f"at most {MAX_NESTING} levels of nested lists and objects")
    literal = 'mutation{exportDataRowsInCatalog(input: {taskName: "%s", filters: {searchQuery: \
      {query: []}}}){taskId}}' % ("n" * (MAX_STRING + 1))
    code, message = _error(gql(server, literal))
    assert code == "GRAPHQL_VALIDATION_FAILED"
    assert message.startswith("query: argument input.taskName: strings hold at most")


def test_introspection_and_the_sdks_queries_stay_within_the_bounds(server: LocalServer) -> None:
    schema = data(gql(server, get_introspection_query(descriptions=True)))["__schema"]
    assert any(t["name"] == "Task" for t in schema["types"])
    tasks = """query T($id: ID!){user(where: {id: $id}){createdTasks(skip: 0 first: 100){
      completionPercentage createdAt errors metadata name result status type id updatedAt}}}"""
    user = data(gql(server, "{user{id}}"))["user"]["id"]
    assert isinstance(data(gql(server, tasks, {"id": user}))["user"]["createdTasks"], list)


@pytest.mark.parametrize("variables", [[1], "x", 5])
def test_variables_that_are_not_an_object_are_refused(server: LocalServer,
                                                      variables: object) -> None:
    assert _error(gql(server, "{user{id}}", variables)) == (  # type: ignore[arg-type]
        "BAD_USER_INPUT", "variables: expected an object")
