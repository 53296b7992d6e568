"""Video frames between key frames (`includeInterpolatedFrames`).

Boxes move linearly from one key frame to the next, inside each of the feature's segments.
Frame-level classifications stay on their key frames.
"""

from __future__ import annotations

import copy
import itertools

from export_widget.jsontypes import Json

_BOX_KEYS = ("top", "left", "height", "width")


def interpolate_frames(annotations: Json) -> Json:
    """`frames` with every frame of every segment filled in, keys in frame order."""
    frames: dict[str, Json] = annotations.get("frames") or {}
    key_map: dict[str, dict[str, bool]] = annotations.get("key_frame_feature_map") or {}
    segments: dict[str, list[list[int]]] = annotations.get("segments") or {}
    out: dict[int, Json] = {int(k): copy.deepcopy(v) for k, v in frames.items()}
    for feature_id, keys in key_map.items():
        key_frames = sorted(int(k) for k in keys)
        for start, end in segments.get(feature_id, []):
            inside = [k for k in key_frames if start <= k <= end]
            for a, b in itertools.pairwise(inside):
                first = frames[str(a)]["objects"].get(feature_id)
                last = frames[str(b)]["objects"].get(feature_id)
                if first is None or last is None or "bounding_box" not in first:
                    continue
                for f in range(a + 1, b):
                    t = (f - a) / (b - a)
                    obj = copy.deepcopy(first)
                    obj["bounding_box"] = {
                        k: round(first["bounding_box"][k]
                                 + t * (last["bounding_box"][k] - first["bounding_box"][k]), 3)
                        for k in _BOX_KEYS
                    }
                    entry = out.setdefault(f, {"objects": {}, "classifications": []})
                    entry["objects"].setdefault(feature_id, obj)
    return {str(k): out[k] for k in sorted(out)}
