"""2,400 hostile inputs to the export mutations: every error names the field and the rule,
none is an internal error, none carries SQL or echoes a huge value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from export_widget.server.runner import LocalServer, start_local_server
from export_widget.server.workspace import Workspace

MUTATIONS = {
    kind: f"""mutation E($input: ExportDataRowsIn{kind}Input!){{
      exportDataRowsIn{kind}(input: $input){{taskId isStreamable}}}}"""
    for kind in ("Project", "Catalog", "Slice", "ModelRun")
}
# Where a message may start: a wire field, a GraphQL coercion naming the variable, or a bound.
NAMED = re.compile(r"^(filters\.|params|taskName|input|variables\.|Variable '\$input'|query: |"
                   r"request body|Too many exports running)")
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b|sqlite|\[SQL|\bWHERE\b|OperationalError",
                 re.IGNORECASE)

ITEM_TYPES = ["data_row_id", "global_key", "batch", "dataset", "task_queue_status",
              "task_queue_not_exist", "data_row_last_activity_at", "labeled_at", "media_type",
              "metadata", "label_color", ""]

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
dates = st.one_of(st.sampled_from(["2024-01-01", "2024-01-01 10:00:00", "2024-13-45",
                                   "2024-01-01T00:00:00+0530", "2024-01-01T00:00:00", ""]),
                  json_value)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


date_value = st.fixed_dictionaries({}, optional={
    "operator": st.one_of(st.sampled_from(["BETWEEN", "GREATER_THAN_OR_EQUAL",
                                           "LESS_THAN_OR_EQUAL", "EQUALS"]), json_value),
    "timezone": st.one_of(st.sampled_from(["UTC", "Europe/Paris", "Mars/Olympus", ""]),
                          json_value),
    "value": st.one_of(dates, st.fixed_dictionaries({}, optional={"min": dates, "max": dates})),
})
ids = st.one_of(st.lists(st.text(max_size=12), max_size=5), json_value,
                st.integers(0, 2_100).map(lambda n: [f"k{i}" for i in range(n)]))
item = st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(ITEM_TYPES), json_value),
    "operator": st.one_of(st.just("is"), json_value),
    "ids": ids,
    "status": st.one_of(st.sampled_from(["InReview", "InRework", "Done", "ToLabel"]),
                        json_value),
    "values": st.one_of(st.lists(st.sampled_from(["IMAGE", "TEXT", "JPEG"]), max_size=3),
                        json_value, st.integers(0, 300).map(_nested)),
    "value": st.one_of(date_value, json_value, st.integers(0, 300).map(_nested)),
    "schemaId": json_value,
})
query = st.one_of(st.lists(st.one_of(item, json_value), max_size=5), json_value)
params = st.one_of(st.none(), json_value, st.dictionaries(
    st.sampled_from(["includeAttachments", "includeEmbeddings", "mediaTypeOverride",
                     "projectIds", "modelRunIds", "allProjects", "includePredictions",
                     "includeModelRunDetails", "unknownParam"]),
    st.one_of(st.booleans(), json_value, st.sampled_from(["IMAGE", "VIDEO"])), max_size=4))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server of its own: the exports the fuzz starts must not crowd other tests'."""
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    with start_local_server(db_url=f"sqlite:///{data_dir / 'store.sqlite'}", demo=True,
                            data_dir=data_dir) as srv:
        yield srv


@pytest.fixture(scope="module")
def http(fuzz_server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_server.base_url, timeout=60, headers={
            "Authorization": f"Bearer {fuzz_server.api_key}"}) as client:
        yield client


@pytest.fixture(scope="module")
def targets(fuzz_server: LocalServer) -> dict[str, list[Any]]:
    workspace = Workspace(fuzz_server.parts.store)
    return {"Project": [p["id"] for p in workspace.projects()[:2]],
            "Slice": [s["id"] for s in workspace.slices()[:2]],
            "ModelRun": [r["id"] for r in workspace.model_runs()[:2]]}


def _input(kind: str, target: Any, query_: Any, params_: Any, name: Any) -> dict[str, Any]:
    search = {"scope": None, "query": query_}
    filters = {"Project": {"projectId": target, "searchQuery": search},
               "Catalog": {"searchQuery": search}, "Slice": {"sliceId": target},
               "ModelRun": {"modelRunId": target}}[kind]
    return {"taskName": name, "filters": filters, "params": params_, "streamable": True}


def _check(http: httpx.Client, kind: str, input_: dict[str, Any]) -> None:
    response = http.post("/graphql", json={"query": MUTATIONS[kind],
                                           "variables": {"input": input_}})
    assert response.status_code in (200, 413), response.text[:500]
    for error in response.json().get("errors") or []:
        message, code = error["message"], error["extensions"]["code"]
        assert code != "INTERNAL_SERVER_ERROR", message
        assert not SQL.search(message), message
        assert NAMED.match(message), message
        assert len(message) <= 1_000, message[:300]


@pytest.mark.slow
@settings(max_examples=2_400, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(MUTATIONS)), pick=st.integers(0, 2),
       query_=query, params_=params,
       name=st.one_of(st.none(), st.text(max_size=20), json_value))
@example(kind="Catalog", pick=0, params_=None, name=None, query_=[
    {"type": "data_row_last_activity_at",
     "value": {"operator": "BETWEEN", "timezone": 5, "value": {"min": "2024-01-01",
                                                               "max": "2024-02-01"}}}])
@example(kind="Project", pick=0, params_=None, name=None,
         query_=[{"type": "task_queue_status", "status": []}])
@example(kind="Catalog", pick=0, params_=None, name=None,
         query_=[{"type": "media_type", "operator": "is", "values": [["IMAGE"], [["TEXT"]]]}])
@example(kind="Catalog", pick=0, params_=None, name=None,
         query_=[{"type": "metadata", "schemaId": "s", "value": _nested(254)}])
@example(kind="Catalog", pick=0, params_=None, name=None, query_=[
    {"type": "global_key", "operator": "is", "ids": [f"k{i}" for i in range(2_000)]}] * 200)
def test_hostile_export_inputs_get_named_errors_never_internal_ones(
    http: httpx.Client, targets: dict[str, list[Any]], kind: str, pick: int, query_: Any,
    params_: Any, name: Any,
) -> None:
    choices = [*targets.get(kind, [None]), "cnope", 7]
    _check(http, kind, _input(kind, choices[pick % len(choices)], query_, params_, name))
