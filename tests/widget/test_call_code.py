"""Code both ways: the form as Python (two flavours) and Python back into the form.

No kernel and no server: the parser reads source with `ast`, and the renderer writes it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from export_widget.call_parse import catalog_notes, parse_export_call
from export_widget.call_render import FLAVOURS, render_code
from export_widget.client.validation import (
    BOOL_PARAMS,
    DATE_FILTERS,
    FILTERS_BY_SCOPE,
    MEDIA_TYPES,
    PARAMS_BY_SCOPE,
    SCOPES,
    WORKFLOW_STATUSES,
)
from export_widget.export_request import ExportRequest


def parse(source: str) -> tuple[dict[str, Any], list[str]]:
    parsed = parse_export_call(source)
    return dict(parsed.config), parsed.notes


def notes_naming(notes: list[str], word: str) -> list[str]:
    return [n for n in notes if word in n]


# -- the forms people write -------------------------------------------------------------------


def test_project_export_with_params_and_filters_fills_the_form():
    config, notes = parse('''
import labelbox as lb
client = lb.Client(api_key=KEY)
project = client.get_project("clp1")
export_task = project.export(
    params={"label_details": True, "attachments": False, "performance_details": None},
    filters={"workflow_status": "InReview", "last_activity_at": ["2024-01-01", None]},
)
export_task.wait_till_done()
''')
    assert notes == []
    assert config == {"scope": "project", "target_id": "clp1",
                      "params": {"label_details": True},
                      "filters": {"workflow_status": "InReview",
                                  "last_activity_at": ["2024-01-01", None]}}


def test_getter_chained_into_export_names_scope_and_target():
    for getter, scope in [("get_project", "project"), ("get_dataset", "dataset"),
                          ("get_catalog_slice", "slice"), ("get_model_run", "model_run")]:
        config, notes = parse(f'client.{getter}("x1").export(params={{"attachments": True}})')
        assert (config["scope"], config["target_id"], notes) == (scope, "x1", [])
    config, notes = parse("client.get_catalog().export()")
    assert config == {"scope": "catalog", "params": {}, "filters": {}} and notes == []


def test_export_v2_is_read_and_noted_as_deprecated():
    config, notes = parse('client.get_project("p").export_v2(params={"label_details": True})')
    assert config["params"] == {"label_details": True}
    assert notes_naming(notes, "export_v2") and "deprecated" in notes[0]


def test_data_row_export_takes_ids_or_global_keys():
    config, notes = parse('lb.DataRow.export(client, data_rows=["dr1", "dr2"], '
                          'params={"attachments": True})')
    assert config == {"scope": "data_rows", "params": {"attachments": True},
                      "filters": {"data_row_ids": ["dr1", "dr2"]}} and notes == []
    config, _ = parse('DataRow.export_v2(client, None, ["gk"], "my task")')
    assert config["filters"] == {"global_keys": ["gk"]} and config["task_name"] == "my task"


def test_positional_arguments_follow_the_export_signature():
    config, notes = parse('client.get_project("p").export("nightly", {"workflow_status": '
                          '"Done"}, {"label_details": True})')
    assert config["task_name"] == "nightly"
    assert config["filters"] == {"workflow_status": "Done"}
    assert config["params"] == {"label_details": True} and notes == []


def test_names_bound_earlier_are_followed():
    config, notes = parse('''
PROJECT_ID = "clp9"
params = dict(label_details=True, **{"attachments": True})
filters = lb.ProjectExportFilters({"batch_ids": BATCHES})
BATCHES = ["b1"]
with lb.Client() as client:
    task = client.get_project(PROJECT_ID).export(params=params, filters=filters)
''')
    assert config["target_id"] == "clp9"
    assert config["params"] == {"label_details": True, "attachments": True}
    # BATCHES is bound after the filters dict but before the call: it is read at the call.
    assert config["filters"] == {"batch_ids": ["b1"]} and notes == []


def test_media_type_override_from_the_sdk_enum_or_a_string():
    for text in ["lb.MediaType.Video", "MediaType.Video", 'MediaType("VIDEO")', '"VIDEO"']:
        config, notes = parse(f'client.get_dataset("d").export(params={{"media_type_override": '
                              f'{text}}})')
        assert config["params"] == {"media_type_override": "VIDEO"}, text
        assert notes == []
    config, _ = parse('client.get_dataset("d").export(params={"media_type_override": '
                      'lb.MediaType.Geospatial_Tile})')
    assert config["params"] == {"media_type_override": "TMS_GEO"}


def test_bare_receiver_name_gives_the_scope_and_asks_for_the_target():
    config, notes = parse('model_run.export(params={"predictions": True})')
    assert config["scope"] == "model_run" and "target_id" not in config
    assert notes_naming(notes, "target_id: `model_run`")
    config, notes = parse('my_dataset.export()')
    assert config["scope"] == "dataset" and notes_naming(notes, "choose the dataset")


# -- what the form cannot express ---------------------------------------------------------------


@pytest.mark.parametrize(("source", "named"), [
    ('client.get_project("p").export(params={"label_details": flag()})',
     "params.label_details: `flag()` is not a literal"),
    ('client.get_project("p").export(params={"media_attributes": True})',
     "params.media_attributes: not an export parameter"),
    ('client.get_project("p").export(params={"predictions": True})',
     "params.predictions: not a parameter of project exports"),
    ('client.get_project("p").export(params={"label_details": "yes"})',
     "params.label_details: expects True or False"),
    ('client.get_project("p").export(filters={"search_query": []})',
     "filters.search_query: not an export filter"),
    ('client.get_dataset("d").export(filters={"workflow_status": "Done"})',
     "filters.workflow_status: not a filter of dataset exports"),
    ('client.get_catalog_slice("s").export(filters={"global_keys": ["a"]})',
     "filters: slice export() takes no filters"),
    ('client.get_project("p").export(**kwargs)', "`**kwargs`: unpacked arguments"),
    ('client.get_project("p").export(params=build_params())',
     "params: `build_params()` is not a dict literal"),
    ('client.get_project(pid).export()', "target_id: `pid` is not a literal id"),
    ('client.get_project("p").export(timeout=5)', "timeout: not an argument"),
    ('client.get_project("p").export(filters={"last_activity_at": "2024-01-01"})',
     "filters.last_activity_at: expects a [start, end] pair"),
    ('client.get_project("p").export("a", None, None, 4)', "argument 4 (`4`)"),
    ('client.get_project("p").export(params={"media_type_override": lb.MediaType.Jpeg})',
     "params.media_type_override: `lb.MediaType.Jpeg` is not a literal"),
    ('a = client.get_project("p").export()\nb = client.get_dataset("d").export()',
     "2 export calls; the form shows the first (line 1)"),
])
def test_what_the_form_cannot_express_is_named(source: str, named: str):
    _config, notes = parse(source)
    assert notes_naming(notes, named), notes


def test_one_computed_value_loses_only_its_key():
    config, notes = parse('client.get_project("p").export(params={"label_details": x, '
                          '"attachments": True})')
    assert config["params"] == {"attachments": True} and len(notes) == 1


@pytest.mark.parametrize(("source", "message"), [
    ("project.export(", "code: line 1"),
    ("print('hello')", "code: no export call found"),
    ("thing.export()", "cannot tell what `thing.export` exports"),
])
def test_code_without_a_readable_export_call_raises(source: str, message: str):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_export_call(source)


def test_the_parser_never_runs_the_code(tmp_path):
    marker = tmp_path / "ran"
    parse(f'open({str(marker)!r}, "w").write("x")\n'
          f'client.get_project(open({str(marker)!r}, "w").name).export()')
    assert not marker.exists()


def test_catalog_notes_name_ids_the_workspace_does_not_have():
    catalog = {"projects": [{"id": "p1", "name": "P"}], "datasets": [], "slices": [],
               "model_runs": [{"id": "r1", "name": "R", "model_name": "M"}],
               "batches": {"p1": [{"id": "b1", "name": "B"}]}}
    config: Any = {"scope": "project", "target_id": "p1",
                   "filters": {"batch_ids": ["b1", "b9"]}, "params": {}}
    assert catalog_notes(config, catalog) == [
        "filters.batch_ids: not batches of this project: b9"]
    config = {"scope": "catalog", "params": {"model_run_ids": ["r1", "r7"]}}
    assert catalog_notes(config, catalog) == ["params.model_run_ids: not in this workspace: r7"]
    config = {"scope": "dataset", "target_id": "d0"}
    assert catalog_notes(config, catalog)[0].startswith("target_id: no dataset 'd0'")


# -- the renderer ---------------------------------------------------------------------------


def test_sdk_flavour_is_labelbox_code_with_the_media_type_enum():
    request = ExportRequest.from_config({
        "scope": "project", "target_id": "p1",
        "params": {"label_details": True, "media_type_override": "PDF"}})
    text = render_code(request, "sdk", endpoint="http://127.0.0.1:9/graphql")
    assert text.startswith("import labelbox as lb\n")
    assert "client = lb.Client(" in text
    assert 'endpoint="http://127.0.0.1:9/graphql"' in text
    assert 'rest_endpoint="http://127.0.0.1:9/api/v1"' in text
    assert '"media_type_override": lb.MediaType.Document' in text
    assert "export_task.wait_till_done()" in text
    assert "api_key" not in text.replace("# the API key comes from LABELBOX_API_KEY", "")


def test_client_flavour_uses_this_projects_client():
    request = ExportRequest.from_config({"scope": "data_rows",
                                         "filters": {"global_keys": ["k"]}})
    text = render_code(request, "client")
    assert text.splitlines()[0] == "from export_widget.client import Client, DataRow"
    assert "client = Client()" in text
    assert 'task = DataRow.export(client, global_keys=["k"], params={})' in text


def test_unknown_flavour_is_refused_by_name():
    with pytest.raises(ValueError, match="flavour: expects one of client, sdk"):
        render_code(ExportRequest.from_config({}), "r")  # type: ignore[arg-type]


# -- the round trip -------------------------------------------------------------------------

ids = st.lists(st.text(min_size=1, max_size=12).filter(str.strip), min_size=1, max_size=4)
dates = st.one_of(st.none(), st.sampled_from(["2024-01-01", "2024-03-15 12:00:00",
                                              "2024-06-30T23:59:59+0530"]))


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    """A form config of any scope, with any params and filters that scope shows (valid or
    not: the form can hold an invalid value while it shows the error)."""
    scope = draw(st.sampled_from(SCOPES))
    params: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(PARAMS_BY_SCOPE[scope]), unique=True)):
        if key in BOOL_PARAMS:
            params[key] = draw(st.booleans())
        elif key == "media_type_override":
            params[key] = draw(st.sampled_from(MEDIA_TYPES))
        else:
            params[key] = draw(st.lists(st.text(max_size=10), max_size=3))
    filters: dict[str, Any] = {}
    keys = FILTERS_BY_SCOPE[scope]
    for key in draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []:
        if key in DATE_FILTERS:
            filters[key] = [draw(dates), draw(dates)]
        elif key == "workflow_status":
            filters[key] = draw(st.sampled_from(["", *WORKFLOW_STATUSES]))
        else:
            filters[key] = draw(ids)
    config: dict[str, Any] = {"scope": scope, "params": params, "filters": filters}
    if scope not in ("catalog", "data_rows"):
        config["target_id"] = draw(st.text(min_size=1, max_size=25).filter(str.strip))
    if draw(st.booleans()):
        config["task_name"] = draw(st.text(max_size=30))
    return config


@settings(max_examples=400, deadline=None)
@given(config=configs(), flavour=st.sampled_from(FLAVOURS),
       endpoint=st.sampled_from([None, "http://127.0.0.1:8000/graphql"]))
def test_form_to_code_to_form_is_the_identity(config: dict[str, Any], flavour: Any,
                                              endpoint: str | None):
    request = ExportRequest.from_config(config)
    parsed = parse_export_call(render_code(request, flavour, endpoint))
    assert ExportRequest.from_config(parsed.config) == request
    assert parsed.notes == []
