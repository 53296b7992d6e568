"""Overlap of two shapes: IoU of boxes (exact), polygons (sampled) and masks (pixels).

Polygons are compared by sampling cell centres of a 512-cell grid over their joint bounds,
which lands within about 1% of the exact figure with no geometry engine to install. Masks
are boolean arrays; decoding a mask image is the caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]
Ring = list[Point]
BoolArray = npt.NDArray[np.bool_]
_GRID = 512


def box_iou(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """IoU of two `{left, top, width, height}` boxes."""
    ix = min(a["left"] + a["width"], b["left"] + b["width"]) - max(a["left"], b["left"])
    iy = min(a["top"] + a["height"], b["top"] + b["height"]) - max(a["top"], b["top"])
    inter = max(0.0, ix) * max(0.0, iy)
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def box_ring(box: Mapping[str, float]) -> Ring:
    left, top = box["left"], box["top"]
    right, bottom = left + box["width"], top + box["height"]
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def _inside(rings: Sequence[Ring], xs: npt.NDArray[np.float64],
            ys: npt.NDArray[np.float64]) -> BoolArray:
    # Even-odd crossings over all rings, so a hole ring cuts itself out.
    inside = np.zeros(np.broadcast_shapes(xs.shape, ys.shape), dtype=bool)
    for ring in rings:
        n = len(ring)
        for i in range(n):
            (ax, ay), (bx, by) = ring[i], ring[(i + 1) % n]
            if ay == by:
                continue
            crosses = (ay > ys) != (by > ys)
            inside ^= crosses & (xs < ax + (ys - ay) * (bx - ax) / (by - ay))
    return inside


def polygons_iou(a: Sequence[Ring], b: Sequence[Ring]) -> float:
    """IoU of two areas, each a list of rings of (x, y) points."""
    points = [p for ring in (*a, *b) for p in ring]
    if not points:
        return 0.0
    pts = np.asarray(points, dtype=np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = hi - lo
    if float(span.max()) <= 0:
        return 0.0
    step = float(span.max()) / _GRID
    xs = lo[0] + step * (np.arange(int(np.ceil(span[0] / step)) + 1) + 0.5)
    ys = lo[1] + step * (np.arange(int(np.ceil(span[1] / step)) + 1) + 0.5)
    in_a = _inside(a, xs[np.newaxis, :], ys[:, np.newaxis])
    in_b = _inside(b, xs[np.newaxis, :], ys[:, np.newaxis])
    union = int(np.count_nonzero(in_a | in_b))
    return int(np.count_nonzero(in_a & in_b)) / union if union else 0.0


def mask_iou(a: BoolArray, b: BoolArray) -> float:
    """IoU of two boolean masks of the same size."""
    if a.shape != b.shape:
        raise ValueError(f"mask_iou: masks differ in size, {a.shape} vs {b.shape}")
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else 0.0
