"""The form as an export call: one table of scopes gives the call text and the target rule."""

from __future__ import annotations

import pytest

from export_widget.catalog import empty_catalog
from export_widget.client import validation
from export_widget.export_request import SCOPE_CALLS, ExportRequest


def test_every_client_scope_has_one_row_in_the_scope_table():
    assert set(SCOPE_CALLS) == set(validation.SCOPES)


@pytest.mark.parametrize(("config", "call"), [
    ({"scope": "project", "target_id": "p1", "filters": {"workflow_status": "Done"}},
     "client.get_project('p1').export(filters={'workflow_status': 'Done'}, params={})"),
    ({"scope": "dataset", "target_id": "d1", "task_name": " nightly "},
     "client.get_dataset('d1').export(task_name='nightly', params={})"),
    ({"scope": "catalog", "target_id": "ignored", "params": {"attachments": True}},
     "client.get_catalog().export(params={'attachments': True})"),
    ({"scope": "slice", "target_id": "s1"}, "client.get_catalog_slice('s1').export(params={})"),
    ({"scope": "model_run", "target_id": "m1", "params": {"predictions": True}},
     "client.get_model_run('m1').export(params={'predictions': True})"),
    ({"scope": "data_rows", "filters": {"global_keys": ["a", "b"]}},
     "DataRow.export(client, global_keys=['a', 'b'], params={})"),
    ({"scope": "data_rows", "filters": {"data_row_ids": ["r1"]}},
     "DataRow.export(client, data_rows=['r1'], params={})"),
])
def test_call_text_is_the_export_call_of_each_scope(config, call):
    request = ExportRequest.from_config(config)
    assert request.field_errors() == {}
    assert request.call_text() == call


@pytest.mark.parametrize(("scope", "noun"), [("project", "project"), ("dataset", "dataset"),
                                             ("slice", "slice"), ("model_run", "model run")])
def test_a_scope_with_a_target_asks_for_one(scope, noun):
    errors = ExportRequest.from_config({"scope": scope}).field_errors()
    assert errors["target_id"] == f"target_id: choose a {noun} to export"


def test_an_unknown_scope_is_named():
    request = ExportRequest.from_config({"scope": "galaxy"})
    assert request.field_errors() == {"scope": "scope: expects one of project, dataset, catalog, "
                                                "slice, model_run, data_rows, got 'galaxy'"}
    with pytest.raises(ValueError, match="scope: unknown scope 'galaxy'"):
        request.call_text()


def test_the_catalog_carries_every_rule_the_form_applies():
    catalog = empty_catalog()
    assert catalog["rules"] == {
        "workflow_statuses": ["ToLabel", "InReview", "InRework", "Done"],
        "bool_params": list(validation.BOOL_PARAMS),
        "row_ids_max": 2_000, "param_ids_max": 30}
    targets = {scope: rules["target"] for scope, rules in catalog["scopes"].items()}
    assert targets == {"project": "project", "dataset": "dataset", "catalog": None,
                       "slice": "slice", "model_run": "model run", "data_rows": None}
