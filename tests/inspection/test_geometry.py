"""IoU of boxes, polygons, spans, token sets and masks."""

from __future__ import annotations

import numpy as np
import pytest

from export_widget.inspect.geometry import (
    box_iou,
    iou_of,
    mask_iou,
    polygons_iou,
    set_iou,
    span_iou,
)


def box(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"left": left, "top": top, "width": width, "height": height}


def test_box_iou_of_identical_disjoint_and_half_overlapping_boxes() -> None:
    assert box_iou(box(0, 0, 10, 10), box(0, 0, 10, 10)) == 1.0
    assert box_iou(box(0, 0, 10, 10), box(20, 20, 5, 5)) == 0.0
    assert box_iou(box(0, 0, 10, 10), box(5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_polygon_iou_agrees_with_the_exact_box_iou() -> None:
    a = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]
    assert iou_of("polygon", a, "bounding_box", box(5, 0, 10, 10)) == pytest.approx(1 / 3, abs=0.01)


def test_polygon_iou_of_a_triangle_inside_its_square_is_one_half() -> None:
    square = [[(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)]]
    triangle = [[(0.0, 0.0), (100.0, 0.0), (0.0, 100.0)]]
    assert polygons_iou(square, triangle) == pytest.approx(0.5, abs=0.01)


def test_a_hole_is_not_part_of_the_area() -> None:
    outer = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    hole = [(2.5, 2.5), (7.5, 2.5), (7.5, 7.5), (2.5, 7.5)]
    assert polygons_iou([outer, hole], [outer]) == pytest.approx(0.75, abs=0.01)


def test_geo_polygons_in_degrees_are_compared_at_their_own_scale() -> None:
    a = [[[2.35, 48.86], [2.352, 48.86], [2.352, 48.862], [2.35, 48.862], [2.35, 48.86]]]
    b = [[[2.351, 48.86], [2.353, 48.86], [2.353, 48.862], [2.351, 48.862], [2.351, 48.86]]]
    assert iou_of("geo_box", a, "geo_polygon", b) == pytest.approx(1 / 3, abs=0.01)


def test_span_iou_counts_inclusive_ends() -> None:
    assert span_iou((0, 9), (0, 9)) == 1.0
    assert span_iou((0, 9), (5, 14)) == pytest.approx(5 / 15)
    assert span_iou((0, 4), (5, 9)) == 0.0


def test_message_spans_in_different_messages_do_not_overlap() -> None:
    a = {"message_id": "m0", "start": 0, "end": 3}
    assert iou_of("message_span", a, "message_span", dict(a)) == 1.0
    assert iou_of("message_span", a, "message_span", {**a, "message_id": "m1"}) == 0.0


def test_document_entities_compare_their_token_sets() -> None:
    assert set_iou(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    a = {"page": 1, "tokens": ["a", "b"], "text": "", "boxes": []}
    assert iou_of("document_tokens", a, "document_tokens", a) == 1.0


def test_points_and_lines_have_no_iou() -> None:
    assert iou_of("point", [1.0, 2.0], "point", [1.0, 2.0]) is None
    assert iou_of("polyline", [[0, 0], [1, 1]], "polygon", [[0, 0], [1, 0], [1, 1]]) is None


def test_mask_iou_and_its_size_check() -> None:
    a = np.zeros((4, 4), dtype=bool)
    b = np.zeros((4, 4), dtype=bool)
    a[:2], b[1:3] = True, True
    assert mask_iou(a, b) == pytest.approx(4 / 12)
    with pytest.raises(ValueError, match="mask_iou: masks differ in size"):
        mask_iou(a, np.zeros((2, 2), dtype=bool))
