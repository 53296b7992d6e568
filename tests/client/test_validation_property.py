"""Random params and filters either export fine or raise a ValueError naming a field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from export_widget.client import Client, StreamType
from export_widget.client.validation import (
    ALL_FILTERS,
    ALL_PARAMS,
    PARAMS_BY_SCOPE,
    Scope,
    field_errors,
)

from .conftest import finish

dates = st.one_of(st.none(), st.sampled_from([
    "2024-01-01", "2024-03-15 12:00:00", "2024-06-30T23:59:59+0530", "2024-02-01T00:00:00Z",
    "2024-13-01", "2024-01-01T00:00:00", "", "soon"]), st.integers(0, 3))
id_lists: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.lists(st.text(min_size=1, max_size=8), max_size=4), st.just([]),
    st.text(max_size=4))
values = st.one_of(st.booleans(), st.none(), st.integers(-1, 2), st.text(max_size=6),
                   st.sampled_from(["IMAGE", "VIDEO", "JPEG"]),
                   st.lists(st.text(min_size=1, max_size=6), max_size=3),
                   st.just(["p"] * 31))
filter_values: dict[str, Any] = {
    "last_activity_at": st.one_of(st.none(), st.lists(dates, min_size=0, max_size=3)),
    "label_created_at": st.one_of(st.none(), st.lists(dates, min_size=0, max_size=3)),
    "workflow_status": st.one_of(st.none(), st.sampled_from(
        ["ToLabel", "InReview", "InRework", "Done", "Labeled", ""]), st.integers()),
    "batch_ids": id_lists, "global_keys": id_lists, "data_row_ids": id_lists,
    "task_queue_status": st.just("InReview"),
}


@st.composite
def scoped_params(draw: st.DrawFn, scope: Scope) -> dict[str, Any]:
    """Mostly keys of this scope with booleans, so about half the examples really export."""
    own = st.sampled_from(PARAMS_BY_SCOPE[scope])
    keys = st.one_of(own, own, st.sampled_from([*ALL_PARAMS, "media_attributes"]))
    return draw(st.dictionaries(keys, st.one_of(st.booleans(), st.booleans(), values),
                                max_size=3))


filters_st = st.sampled_from([*ALL_FILTERS, "task_queue_status"]).flatmap(
    lambda k: st.fixed_dictionaries({k: filter_values[k]}))
two_filters = st.tuples(filters_st, filters_st).map(lambda t: {**t[0], **t[1]})


SCOPES_WITH_FILTERS: list[Scope] = ["project", "dataset", "catalog"]


@pytest.fixture(scope="module")
def targets(client: Client) -> dict[str, Any]:
    project = min(client.get_projects(), key=lambda p: p.data_row_count)
    dataset = min(client.get_datasets(), key=lambda d: d.row_count)
    return {"project": project, "dataset": dataset, "catalog": client.get_catalog()}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), scope=st.sampled_from(SCOPES_WITH_FILTERS),
       filters=st.one_of(st.just({}), st.just({}), filters_st, two_filters))
def test_random_configs_export_or_name_the_field(targets: dict[str, Any], data: st.DataObject,
                                                 scope: Scope, filters: dict[str, Any]) -> None:
    params = data.draw(scoped_params(scope), label="params")
    errors = field_errors(scope, params, filters)
    target = targets[scope]
    event("rejected" if errors else "exported")
    if errors:
        with pytest.raises(ValueError) as caught:
            target.export(params=params, filters=filters)
        field = str(caught.value).split(":", 1)[0]
        assert field in errors and field in {*params, *filters}
        assert str(caught.value) == errors[field]
    else:
        task = finish(target.export(params=params, filters=filters))
        if task.has_result():
            assert sum(1 for _ in task.get_stream()) == task.get_total_lines(StreamType.RESULT)

