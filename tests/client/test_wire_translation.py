"""Params and filters become the wire input the SDK sends (spec 2.4, 3.2)."""

from __future__ import annotations

from export_widget.client.filters import search_query, to_utc_iso
from export_widget.client.params import wire_params


def test_project_params_default_to_false_in_the_sdk_order() -> None:
    assert list(wire_params("project", None).items()) == [
        ("mediaTypeOverride", None), ("includeAttachments", False),
        ("includeEmbeddings", False), ("includeMetadata", False),
        ("includeDataRowDetails", False), ("includeProjectDetails", False),
        ("includePerformanceDetails", False), ("includeLabelDetails", False),
        ("includeInterpolatedFrames", False)]


def test_catalog_params_carry_project_and_model_run_ids() -> None:
    wire = wire_params("catalog", {"project_ids": ["p1"], "all_model_runs": True,
                                   "predictions": True, "media_type_override": "VIDEO"})
    assert wire["projectIds"] == ["p1"] and wire["modelRunIds"] is None
    assert wire["allModelRuns"] is True and wire["includePredictions"] is True
    assert wire["mediaTypeOverride"] == "VIDEO"
    assert "includePredictions" not in wire_params("data_rows", None)


def test_model_run_params_are_the_short_set() -> None:
    assert list(wire_params("model_run", {"model_run_details": True})) == [
        "mediaTypeOverride", "includeAttachments", "includeEmbeddings", "includeMetadata",
        "includeDataRowDetails", "includePredictions", "includeModelRunDetails"]


def test_model_run_interpolated_frames_is_sent_only_when_asked() -> None:
    assert "includeInterpolatedFrames" not in wire_params("model_run", None)
    assert wire_params("model_run", {"interpolated_frames": True})[
        "includeInterpolatedFrames"] is True


def test_filters_become_query_items_in_sdk_order() -> None:
    calls: list[int] = []

    def tz() -> str:
        calls.append(1)
        return "Europe/Paris"

    items = search_query({"workflow_status": "ToLabel", "batch_ids": ["b"],
                          "last_activity_at": ["2024-01-01", "2024-02-01 10:00:00"],
                          "label_created_at": [None, "2024-03-01"], "global_keys": ["g"]}, tz)
    assert items == [
        {"type": "data_row_last_activity_at", "value": {
            "operator": "BETWEEN", "timezone": "Europe/Paris",
            "value": {"min": "2024-01-01", "max": "2024-02-01 10:00:00"}}},
        {"type": "labeled_at", "value": {"operator": "LESS_THAN_OR_EQUAL",
                                         "timezone": "Europe/Paris", "value": "2024-03-01"}},
        {"ids": ["g"], "operator": "is", "type": "global_key"},
        {"ids": ["b"], "operator": "is", "type": "batch"},
        {"type": "task_queue_not_exist"},
    ]
    assert len(calls) == 1  # the timezone is asked once per export, not per date filter


def test_workflow_status_other_than_to_label_is_a_status_item() -> None:
    assert search_query({"workflow_status": "InReview"}, lambda: "UTC") == [
        {"type": "task_queue_status", "status": "InReview"}]


def test_iso_dates_keep_their_offset_converted_to_utc() -> None:
    assert to_utc_iso("2050-01-01T00:00:00+0530") == "2049-12-31T18:30:00+0000"
    assert to_utc_iso("2050-01-01") is None
    items = search_query({"last_activity_at": ["2050-01-01T00:00:00+0530", None]},
                         lambda: "Asia/Tokyo")
    assert items == [{"type": "data_row_last_activity_at", "value": {
        "operator": "GREATER_THAN_OR_EQUAL", "timezone": "UTC",
        "value": "2049-12-31T18:30:00+0000"}}]


def test_no_timezone_call_without_date_filters() -> None:
    def tz() -> str:
        raise AssertionError("timezone asked without a date filter")

    assert search_query({"data_row_ids": ["d"]}, tz) == [
        {"ids": ["d"], "operator": "is", "type": "data_row_id"}]
