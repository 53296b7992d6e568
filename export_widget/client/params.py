"""Translate validated params into the wire `params` object of each export mutation.

Key order follows what the SDK sends, so recorded requests compare equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .validation import Scope, media_type_value

_COMMON: tuple[tuple[str, str, Any], ...] = (
    ("mediaTypeOverride", "media_type_override", None),
    ("includeAttachments", "attachments", False),
    ("includeEmbeddings", "embeddings", False),
    ("includeMetadata", "metadata_fields", False),
    ("includeDataRowDetails", "data_row_details", False),
)
_LABEL_SIDE: tuple[tuple[str, str, Any], ...] = (
    ("includeProjectDetails", "project_details", False),
    ("includePerformanceDetails", "performance_details", False),
    ("includeLabelDetails", "label_details", False),
    ("includeInterpolatedFrames", "interpolated_frames", False),
)
_PREDICTIONS = (("includePredictions", "predictions", False),)
_CATALOG_SIDE: tuple[tuple[str, str, Any], ...] = (
    ("projectIds", "project_ids", None),
    ("modelRunIds", "model_run_ids", None),
    ("allProjects", "all_projects", False),
    ("allModelRuns", "all_model_runs", False),
)

WIRE_PARAMS: dict[Scope, tuple[tuple[str, str, Any], ...]] = {
    "project": _COMMON + _LABEL_SIDE,
    "dataset": _COMMON + _LABEL_SIDE + _PREDICTIONS + _CATALOG_SIDE,
    "catalog": _COMMON + _LABEL_SIDE + _PREDICTIONS + _CATALOG_SIDE,
    "data_rows": _COMMON + _LABEL_SIDE + _CATALOG_SIDE,
    "slice": _COMMON + _LABEL_SIDE + _CATALOG_SIDE + _PREDICTIONS,
    "model_run": _COMMON + _PREDICTIONS + (("includeModelRunDetails", "model_run_details", False),),
}
# Model runs accept interpolated_frames (export overview), but the SDK's model-run input has
# no such field: send it only when asked, so default requests stay identical to the SDK's.
_SENT_ONLY_WHEN_SET: dict[Scope, tuple[tuple[str, str], ...]] = {
    "model_run": (("includeInterpolatedFrames", "interpolated_frames"),),
}


def wire_params(scope: Scope, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `params` input object for `scope`, with the SDK's defaults for absent keys."""
    given = params or {}
    wire: dict[str, Any] = {}
    for wire_key, key, default in WIRE_PARAMS[scope]:
        value = given.get(key)
        if key == "media_type_override":
            wire[wire_key] = media_type_value(value)
        elif key in ("project_ids", "model_run_ids"):
            wire[wire_key] = list(value) if value else default
        else:
            wire[wire_key] = bool(value) if value is not None else default
    for wire_key, key in _SENT_ONLY_WHEN_SET.get(scope, ()):
        if given.get(key):
            wire[wire_key] = True
    return wire
