"""Params and filters are checked before any call, with the field named first."""

from __future__ import annotations

import pytest

from export_widget.client.validation import (
    FILTERS_BY_SCOPE,
    ID_FILTER_LIMIT,
    PARAMS_BY_SCOPE,
    SCOPES,
    field_errors,
    validate,
)

KEYS = [f"k{i}" for i in range(ID_FILTER_LIMIT + 1)]


def test_valid_project_config_has_no_errors() -> None:
    params = {"attachments": True, "label_details": False, "media_type_override": "IMAGE"}
    filters = {"workflow_status": "ToLabel", "last_activity_at": ["2024-01-01", None],
               "batch_ids": ["b1"], "global_keys": ["g1"]}
    assert field_errors("project", params, filters) == {}


@pytest.mark.parametrize(("key", "type_name"), [("global_keys", "global_key"),
                                                ("data_row_ids", "data_row_id"),
                                                ("batch_ids", "batch")])
def test_id_filters_cap_at_2000_items(key: str, type_name: str) -> None:
    assert field_errors("project", {}, {key: KEYS[:ID_FILTER_LIMIT]}) == {}
    errors = field_errors("project", {}, {key: KEYS})
    assert errors == {key: f"{key}: {type_name} filter only supports a max of 2000 items."}


def test_id_filters_need_a_non_empty_list() -> None:
    assert field_errors("project", {}, {"batch_ids": []}) == {
        "batch_ids": "batch_ids: batch filter expects a non-empty list."}
    assert field_errors("project", {}, {"batch_ids": "b1"}) == {
        "batch_ids": "batch_ids: batch filter expects a list."}


def test_data_row_ids_and_global_keys_are_exclusive() -> None:
    errors = field_errors("dataset", {}, {"data_row_ids": ["a"], "global_keys": ["b"]})
    assert errors["data_row_ids"] == (
        "data_row_ids: data_rows and global_keys cannot both be present in export filters")
    assert set(errors) == {"data_row_ids", "global_keys"}


@pytest.mark.parametrize("key", ["project_ids", "model_run_ids"])
def test_project_and_model_run_ids_cap_at_30(key: str) -> None:
    assert field_errors("catalog", {key: ["x"] * 30}, {}) == {}
    assert field_errors("catalog", {key: ["x"] * 31}, {}) == {
        key: f"{key}: cannot exceed 30 items, got 31"}


@pytest.mark.parametrize("value", ["2024-01-01", "2024-01-01 10:00:00",
                                   "2024-01-01T10:00:00+0530", "2024-01-01T10:00:00+05:30",
                                   "2024-01-01T10:00:00Z"])
def test_the_three_date_formats_are_accepted(value: str) -> None:
    assert field_errors("project", {}, {"label_created_at": [value, None]}) == {}


@pytest.mark.parametrize("value", ["2024-13-01", "2024-01-01T10:00:00", "01/02/2024", "yesterday"])
def test_other_date_formats_name_the_field_and_the_formats(value: str) -> None:
    message = field_errors("project", {}, {"last_activity_at": [None, value]})["last_activity_at"]
    assert message.startswith(f"last_activity_at: Incorrect format for: {value}.")
    assert '"YYYY-MM-DD" or "YYYY-MM-DD hh:mm:ss"' in message


@pytest.mark.parametrize("value", [["2024-01-01"], ["2024-01-01", None, None], "2024-01-01", 5])
def test_a_date_range_must_be_a_pair(value: object) -> None:
    message = field_errors("project", {}, {"last_activity_at": value})["last_activity_at"]
    assert message.startswith("last_activity_at: expects a [start, end] pair")


def test_a_date_range_must_not_start_after_it_ends() -> None:
    errors = field_errors("dataset", {}, {"label_created_at": ["2024-02-01", "2024-01-01"]})
    assert errors == {"label_created_at":
                      "label_created_at: start '2024-02-01' is after end '2024-01-01'"}
    # Offsets are compared as instants: 10:00+05:30 is 04:30 UTC, before 05:00Z.
    assert field_errors("dataset", {}, {"label_created_at": [
        "2024-01-01T10:00:00+05:30", "2024-01-01T05:00:00Z"]}) == {}


def test_workflow_status_message_names_to_label() -> None:
    message = field_errors("project", {}, {"workflow_status": "Labeled"})["workflow_status"]
    assert message.startswith("workflow_status: `workflow_status` filter expects one of "
                              "'ToLabel', 'InReview', 'InRework', or 'Done'")
    assert field_errors("project", {}, {"workflow_status": 3}) == {
        "workflow_status": "workflow_status: `workflow_status` filter expects a string."}


def test_workflow_status_filter_only_on_project_exports() -> None:
    message = field_errors("dataset", {}, {"workflow_status": "Done"})["workflow_status"]
    assert message == ("workflow_status: not a filter of dataset exports "
                       "(valid for project exports)")


def test_slice_and_model_run_take_no_filters() -> None:
    for scope in ("slice", "model_run"):
        assert "global_keys" in field_errors(scope, {}, {"global_keys": ["a"]})


def test_params_not_valid_for_the_scope_are_rejected() -> None:
    assert field_errors("project", {"predictions": True}, {}) == {
        "predictions": "predictions: not a parameter of project exports "
                       "(valid for model_run exports)"}
    for scope in ("dataset", "catalog", "slice", "data_rows"):
        assert "predictions" in field_errors(scope, {"predictions": True}, {})
    assert "label_details" in field_errors("model_run", {"label_details": True}, {})
    assert field_errors("model_run", {"interpolated_frames": True}, {}) == {}
    assert "project_ids" in field_errors("project", {"project_ids": ["p"]}, {})


def test_unknown_keys_raise_instead_of_being_ignored() -> None:
    message = field_errors("project", {"media_attributes": True}, {})["media_attributes"]
    assert message.startswith("media_attributes: unknown parameter; project exports accept: ")
    assert field_errors("project", {}, {"task_queue_status": "InReview"})[
        "task_queue_status"].startswith("task_queue_status: unknown filter")


def test_include_flags_must_be_booleans() -> None:
    assert field_errors("project", {"attachments": "yes"}, {}) == {
        "attachments": "attachments: expects True or False, got 'yes'"}
    assert field_errors("project", {"attachments": 1}, {})  # 1 is not a bool here


def test_media_type_override_must_be_a_known_type() -> None:
    assert field_errors("project", {"media_type_override": "IMAGE"}, {}) == {}
    assert "media_type_override" in field_errors("project", {"media_type_override": "JPEG"}, {})


def test_media_type_override_accepts_the_sdk_enum() -> None:
    from labelbox import MediaType

    assert field_errors("model_run", {"media_type_override": MediaType.Video}, {}) == {}


def test_data_rows_scope_needs_ids_or_keys() -> None:
    assert field_errors("data_rows", {}, {}) == {
        "data_row_ids": "data_row_ids: data_rows and global_keys cannot both be empty"}
    assert field_errors("data_rows", {}, {"global_keys": ["a"]}) == {}


def test_validate_raises_the_first_message() -> None:
    with pytest.raises(ValueError, match=r"^global_keys: global_key filter only supports"):
        validate("project", {}, {"global_keys": KEYS})


def test_unknown_scope_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^scope: expects one of"):
        field_errors("workspace", {}, {})


def test_every_scope_lists_its_params_and_filters() -> None:
    assert set(PARAMS_BY_SCOPE) == set(SCOPES) == set(FILTERS_BY_SCOPE)
    assert "workflow_status" in FILTERS_BY_SCOPE["project"]
    assert FILTERS_BY_SCOPE["slice"] == FILTERS_BY_SCOPE["model_run"] == ()
    assert "model_run_details" in PARAMS_BY_SCOPE["model_run"]
