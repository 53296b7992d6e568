"""Which params and filters each export scope accepts, and the rules they must pass.

`field_errors` is pure and cheap: the widget calls it on every form change, and `export()`
calls `validate` (which raises the first message) before any network call. Messages name
the field first, then keep the official SDK's wording where it has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

Scope = Literal["project", "dataset", "catalog", "slice", "model_run", "data_rows"]
SCOPES: tuple[Scope, ...] = ("project", "dataset", "catalog", "slice", "model_run", "data_rows")

ID_FILTER_LIMIT = 2_000  # SDK: SEARCH_LIMIT_PER_EXPORT_V2
PARAM_ID_LIMIT = 30  # SDK: EXPORT_LIMIT, for project_ids / model_run_ids
WORKFLOW_STATUSES: tuple[str, ...] = ("ToLabel", "InReview", "InRework", "Done")
MEDIA_TYPES: tuple[str, ...] = (
    "AUDIO", "CONVERSATIONAL", "DICOM", "PDF", "TMS_GEO", "HTML", "IMAGE",
    "LLM_PROMPT_CREATION", "LLM_PROMPT_RESPONSE_CREATION", "TEXT", "TMS_SIMPLE", "UNKNOWN",
    "UNSUPPORTED", "VIDEO", "POINT_CLOUD", "LLM",
)
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z")
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

_DATA_ROW_PARAMS = ("attachments", "embeddings", "metadata_fields", "data_row_details",
                    "media_type_override")
_LABEL_PARAMS = ("project_details", "label_details", "performance_details",
                 "interpolated_frames")
_CATALOG_ONLY = ("project_ids", "model_run_ids", "all_projects", "all_model_runs")

# The parameter table of the export overview: a param is valid only where it says so.
# `predictions` belongs to model runs alone (SDK 7.x also sends includePredictions for
# catalog scopes; we always send it false there), and model runs take interpolated_frames.
PARAMS_BY_SCOPE: dict[Scope, tuple[str, ...]] = {
    "project": _DATA_ROW_PARAMS + _LABEL_PARAMS,
    "dataset": _DATA_ROW_PARAMS + _LABEL_PARAMS + _CATALOG_ONLY,
    "catalog": _DATA_ROW_PARAMS + _LABEL_PARAMS + _CATALOG_ONLY,
    "slice": _DATA_ROW_PARAMS + _LABEL_PARAMS + _CATALOG_ONLY,
    "data_rows": _DATA_ROW_PARAMS + _LABEL_PARAMS + _CATALOG_ONLY,
    "model_run": (*_DATA_ROW_PARAMS, "interpolated_frames", "predictions", "model_run_details"),
}

DATE_FILTERS: tuple[str, ...] = ("last_activity_at", "label_created_at")
ID_FILTERS: dict[str, str] = {  # filter key -> the SDK's type name (used in its messages)
    "data_row_ids": "data_row_id",
    "global_keys": "global_key",
    "batch_ids": "batch",
}
# For "data_rows" the two id lists are DataRow.export's `data_rows` / `global_keys` arguments.
FILTERS_BY_SCOPE: dict[Scope, tuple[str, ...]] = {
    "project": ("last_activity_at", "label_created_at", "workflow_status", "batch_ids",
                "global_keys", "data_row_ids"),
    "dataset": ("last_activity_at", "label_created_at", "global_keys", "data_row_ids"),
    "catalog": ("last_activity_at", "label_created_at", "global_keys", "data_row_ids"),
    "slice": (),
    "model_run": (),
    "data_rows": ("global_keys", "data_row_ids"),
}
ALL_PARAMS: tuple[str, ...] = tuple(dict.fromkeys(p for ps in PARAMS_BY_SCOPE.values() for p in ps))
ALL_FILTERS: tuple[str, ...] = tuple(
    dict.fromkeys(f for fs in FILTERS_BY_SCOPE.values() for f in fs)
)
BOOL_PARAMS: tuple[str, ...] = tuple(
    p for p in ALL_PARAMS if p not in ("media_type_override", "project_ids", "model_run_ids")
)

_DATE_HINT = ('        Format must be "YYYY-MM-DD" or "YYYY-MM-DD hh:mm:ss" or ISO 8061 format '
              '"YYYY-MM-DDThh:mm:ss±hhmm"')


def params_for(scope: str) -> tuple[str, ...]:
    """The params valid for `scope` (raises ValueError on an unknown scope)."""
    return PARAMS_BY_SCOPE[_scope(scope)]


def filters_for(scope: str) -> tuple[str, ...]:
    """The filters valid for `scope` (raises ValueError on an unknown scope)."""
    return FILTERS_BY_SCOPE[_scope(scope)]


def field_errors(
    scope: str, params: Mapping[str, Any] | None, filters: Mapping[str, Any] | None
) -> dict[str, str]:
    """Field name -> message for every invalid param or filter; empty when all is valid.

    Raises `TypeError` when `params` or `filters` is not a dict (or None)."""
    sc = _scope(scope)
    for name, given in (("params", params), ("filters", filters)):
        if given is not None and not isinstance(given, Mapping):
            raise TypeError(f"{name}: expects a dict, got {type(given).__name__} {given!r}")
    errors: dict[str, str] = {}
    for key, value in (params or {}).items():
        message = _param_error(sc, key, value)
        if message:
            errors[key] = f"{key}: {message}"
    for key, message in _filter_errors(sc, filters or {}).items():
        errors.setdefault(key, f"{key}: {message}")
    return errors


def validate(scope: str, params: Mapping[str, Any] | None,
             filters: Mapping[str, Any] | None) -> None:
    """Raise `ValueError` with the first message from `field_errors`, if any."""
    errors = field_errors(scope, params, filters)
    if errors:
        raise ValueError(next(iter(errors.values())))


def media_type_value(value: Any) -> str | None:
    """The wire string for a media type given as a string or a (labelbox) MediaType enum."""
    if value is None:
        return None
    raw = getattr(value, "value", value)
    return raw if isinstance(raw, str) else None


def parse_date(value: str) -> datetime:
    """Parse one of the three accepted date formats; ValueError with the SDK text otherwise."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            pass
    raise ValueError(f"Incorrect format for: {value}.\n{_DATE_HINT}")


def _scope(scope: str) -> Scope:
    if scope not in SCOPES:
        raise ValueError(f"scope: expects one of {', '.join(SCOPES)}, got {scope!r}")
    return scope


def _where_valid(key: str, by_scope: Mapping[Scope, tuple[str, ...]]) -> str:
    scopes = [s for s, keys in by_scope.items() if key in keys]
    return ", ".join(scopes)


def _param_error(scope: Scope, key: str, value: Any) -> str | None:
    if key not in ALL_PARAMS:
        valid = ", ".join(PARAMS_BY_SCOPE[scope])
        return f"unknown parameter; {scope} exports accept: {valid}"
    if key not in PARAMS_BY_SCOPE[scope]:
        return (f"not a parameter of {scope} exports (valid for "
                f"{_where_valid(key, PARAMS_BY_SCOPE)} exports)")
    if value is None:
        return None
    if key in BOOL_PARAMS:
        if not isinstance(value, bool):
            return f"expects True or False, got {value!r}"
        return None
    if key == "media_type_override":
        mt = media_type_value(value)
        if mt not in MEDIA_TYPES:
            return f"expects one of {', '.join(MEDIA_TYPES)}, got {value!r}"
        return None
    # project_ids / model_run_ids
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return f"expects a list of id strings, got {value!r}"
    if len(value) > PARAM_ID_LIMIT:
        return f"cannot exceed {PARAM_ID_LIMIT} items, got {len(value)}"
    return None


def _filter_errors(scope: Scope, filters: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key in filters:
        if key not in ALL_FILTERS:
            valid = ", ".join(FILTERS_BY_SCOPE[scope]) or "no filters"
            errors[key] = f"unknown filter; {scope} exports accept: {valid}"
        elif key not in FILTERS_BY_SCOPE[scope]:
            where = _where_valid(key, FILTERS_BY_SCOPE)
            errors[key] = f"not a filter of {scope} exports (valid for {where} exports)"
    if filters.get("data_row_ids") is not None and filters.get("global_keys") is not None:
        for key in ("data_row_ids", "global_keys"):
            errors.setdefault(
                key, "data_rows and global_keys cannot both be present in export filters")
    if scope == "data_rows" and not filters.get("data_row_ids") and not filters.get("global_keys"):
        errors.setdefault("data_row_ids", "data_rows and global_keys cannot both be empty")
    for key in DATE_FILTERS:
        if key in filters and key not in errors:
            message = _date_range_error(filters[key])
            if message:
                errors[key] = message
    for key, type_name in ID_FILTERS.items():
        if key in filters and key not in errors and filters[key] is not None:
            message = _id_list_error(filters[key], type_name)
            if message:
                errors[key] = message
    status = filters.get("workflow_status")
    if status and "workflow_status" not in errors:
        if not isinstance(status, str):
            errors["workflow_status"] = "`workflow_status` filter expects a string."
        elif status not in WORKFLOW_STATUSES:
            # The SDK's message forgets ToLabel, which it accepts.
            errors["workflow_status"] = (
                "`workflow_status` filter expects one of 'ToLabel', 'InReview', 'InRework', "
                f"or 'Done', got {status!r}."
            )
    return errors


def _date_range_error(value: Any) -> str | None:
    if not value:  # None or [] means "no filter", as in the SDK
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        return f"expects a [start, end] pair (either may be None), got {value!r}"
    parsed: list[datetime | None] = []
    for bound in value:
        if bound is None or bound == "":
            parsed.append(None)
            continue
        if not isinstance(bound, str):
            return f"dates must be strings, got {bound!r}"
        try:
            parsed.append(parse_date(bound))
        except ValueError as exc:
            return str(exc)
    start, end = parsed
    if start is not None and end is not None and _comparable(start) > _comparable(end):
        return f"start {value[0]!r} is after end {value[1]!r}"
    return None


def _comparable(moment: datetime) -> datetime:
    # A naive bound sits next to an ISO one only when the whole range is sent as UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _id_list_error(value: Any, type_name: str) -> str | None:
    if not isinstance(value, list):
        return f"{type_name} filter expects a list."
    if len(value) == 0:
        return f"{type_name} filter expects a non-empty list."
    if len(value) > ID_FILTER_LIMIT:
        return f"{type_name} filter only supports a max of {ID_FILTER_LIMIT} items."
    if not all(isinstance(v, str) and v for v in value):
        return f"{type_name} filter expects non-empty strings."
    return None
