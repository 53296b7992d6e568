"""Overlap of two annotations of the same feature: IoU of boxes, polygons, masks, spans.

Boxes and spans are exact. Polygons (and a polygon against a box) are sampled at the centres
of a 512-cell grid over their joint bounds: within about 1% of the exact figure, with no
geometry engine to install. Masks compare boolean
arrays; decoding the mask image is the caller's job (the kernel holds the bytes).

`iou_of(kind, coordinates, kind, coordinates)` takes shapes as `inspect.shapes` writes them,
so the preview and model-run comparisons score predictions the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]
Ring = list[Point]
BoolArray = npt.NDArray[np.bool_]

BOX_KINDS = frozenset({"bounding_box", "document_box"})
AREA_KINDS = frozenset({"bounding_box", "document_box", "polygon", "geo_polygon", "geo_box"})
SPAN_KINDS = frozenset({"text_span", "message_span"})
_GRID = 512  # samples on the long side of the joint bounds


def box_iou(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """IoU of two `{left, top, width, height}` boxes."""
    ix = min(a["left"] + a["width"], b["left"] + b["width"]) - max(a["left"], b["left"])
    iy = min(a["top"] + a["height"], b["top"] + b["height"]) - max(a["top"], b["top"])
    inter = max(0.0, ix) * max(0.0, iy)
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def span_iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """IoU of two character spans whose ends are inclusive (as text entities store them)."""
    inter = min(a[1], b[1]) - max(a[0], b[0]) + 1
    union = (a[1] - a[0] + 1) + (b[1] - b[0] + 1) - max(0, inter)
    return max(0, inter) / union if union > 0 else 0.0


def set_iou(a: Sequence[str], b: Sequence[str]) -> float:
    """Jaccard index of two id lists (document entities are sets of token ids)."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 0.0


def box_ring(box: Mapping[str, float]) -> Ring:
    left, top = box["left"], box["top"]
    right, bottom = left + box["width"], top + box["height"]
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def _inside(rings: Sequence[Ring], xs: npt.NDArray[np.float64],
            ys: npt.NDArray[np.float64]) -> BoolArray:
    """Even-odd rule over every ring at once, so holes subtract themselves."""
    inside = np.zeros(np.broadcast_shapes(xs.shape, ys.shape), dtype=bool)
    for ring in rings:
        pts = np.asarray(ring, dtype=np.float64)
        x0, y0 = pts[:, 0], pts[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
            if ay == by:
                continue
            crosses = (ay > ys) != (by > ys)
            x_at = ax + (ys - ay) * (bx - ax) / (by - ay)
            inside ^= crosses & (xs < x_at)
    return inside


def polygons_iou(a: Sequence[Ring], b: Sequence[Ring]) -> float:
    """IoU of two areas, each given as rings of (x, y) points (holes as extra rings)."""
    pts = np.asarray([p for ring in (*a, *b) for p in ring], dtype=np.float64)
    if len(pts) == 0:
        return 0.0
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = hi - lo
    if span.max() <= 0:
        return 0.0
    step = float(span.max()) / _GRID
    xs = lo[0] + step * (np.arange(int(np.ceil(span[0] / step)) + 1) + 0.5)
    ys = lo[1] + step * (np.arange(int(np.ceil(span[1] / step)) + 1) + 0.5)
    gx, gy = xs[np.newaxis, :], ys[:, np.newaxis]
    in_a, in_b = _inside(a, gx, gy), _inside(b, gx, gy)
    union = int(np.count_nonzero(in_a | in_b))
    return int(np.count_nonzero(in_a & in_b)) / union if union else 0.0


def mask_iou(a: BoolArray, b: BoolArray) -> float:
    """IoU of two boolean masks of the same size."""
    if a.shape != b.shape:
        raise ValueError(f"mask_iou: masks differ in size, {a.shape} vs {b.shape}")
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else 0.0


def area_rings(kind: str, coordinates: Any) -> list[Ring] | None:
    """The rings of an area shape, or None when the shape has no area (points, lines)."""
    if kind in BOX_KINDS:
        return [box_ring(coordinates)]
    if kind == "polygon":
        return [[(float(x), float(y)) for x, y in coordinates]]
    if kind in ("geo_polygon", "geo_box"):
        return [[(float(x), float(y)) for x, y, *_ in ring] for ring in coordinates]
    return None


def iou_of(kind_a: str, coords_a: Any, kind_b: str, coords_b: Any) -> float | None:
    """IoU of two shapes (`inspect.shapes` kinds and coordinates), None when undefined:
    points and lines have no area, and masks need their pixels (see `mask_iou`)."""
    if kind_a in BOX_KINDS and kind_b in BOX_KINDS:
        return box_iou(coords_a, coords_b)
    if kind_a in SPAN_KINDS and kind_b == kind_a:
        if coords_a.get("message_id") != coords_b.get("message_id"):
            return 0.0
        return span_iou((coords_a["start"], coords_a["end"]), (coords_b["start"], coords_b["end"]))
    if kind_a == kind_b == "document_tokens":
        return set_iou(coords_a["tokens"], coords_b["tokens"])
    ra, rb = area_rings(kind_a, coords_a), area_rings(kind_b, coords_b)
    if ra is None or rb is None:
        return None
    return polygons_iou(ra, rb)
