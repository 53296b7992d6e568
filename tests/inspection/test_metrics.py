"""Model-run metrics against values worked out by hand for a small fixture.

Row 1 (boxes; left, top, width, height):
  truth  car1 (0,0,10,10)  car2 (20,0,10,10)  person (0,20,10,10)
  preds  car  (0,0,10,5)   -> IoU with car1 = 50 / 100 = 0.5 (a hit at >= 0.5)
         car  (50,50,10,10) -> overlaps nothing
         car  (0,20,10,10)  -> exactly on the person (a class confusion)
Row 2 (polygons, masks, a point):
  truth  road square 10x10 at 0,0; building L-shape of area 300 at 100,100;
         sky mask "m1" (top 2 rows of 4x4, 8 px); a pedestrian point
  preds  road 10x8 at 0,0 -> IoU 80 / 100 = 0.8; building 10x10 square inside the L
         -> IoU 100 / 300 = 1/3; sky mask "m2" (top 3 rows, 12 px) -> IoU 8 / 12 = 2/3
"""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from export_widget.history import History
from export_widget.inspect import model_run_metrics


def box(name, left, top, width, height, fid):
    return {"feature_id": fid, "name": name, "annotation_kind": "ImageBoundingBox",
            "bounding_box": {"left": left, "top": top, "width": width, "height": height}}


def poly(name, points, fid):
    ring = [{"x": x, "y": y} for x, y in points]
    return {"feature_id": fid, "name": name, "annotation_kind": "ImagePolygon",
            "polygon": ring + ring[:1]}


def mask(name, url, fid):
    return {"feature_id": fid, "name": name, "annotation_kind": "ImageSegmentationMask",
            "mask": {"url": url}}


def row(rid, truth, preds):
    return {"data_row": {"id": rid, "global_key": f"{rid}.png"},
            "experiments": {"m1": {"name": "Detector", "runs": {"run1": {
                "name": "v1",
                "labels": [{"id": f"{rid}-l", "annotations": {"objects": truth}}],
                "predictions": [{"id": f"{rid}-p", "annotations": {"objects": preds}}]}}}}}


L_SHAPE = [(100, 100), (120, 100), (120, 110), (110, 110), (110, 120), (100, 120)]
ROWS = [
    row("r1",
        [box("car", 0, 0, 10, 10, "t-car1"), box("car", 20, 0, 10, 10, "t-car2"),
         box("person", 0, 20, 10, 10, "t-person")],
        [box("car", 0, 0, 10, 5, "p-car-a"), box("car", 50, 50, 10, 10, "p-car-b"),
         box("car", 0, 20, 10, 10, "p-car-c")]),
    row("r2",
        [poly("road", [(0, 0), (10, 0), (10, 10), (0, 10)], "t-road"),
         poly("building", L_SHAPE, "t-building"), mask("sky", "http://h/m1.png", "t-sky"),
         {"feature_id": "t-ped", "name": "pedestrian", "annotation_kind": "ImagePoint",
          "point": {"x": 1, "y": 1}}],
        [poly("road", [(0, 0), (10, 0), (10, 8), (0, 8)], "p-road"),
         poly("building", [(100, 100), (110, 100), (110, 110), (100, 110)], "p-building"),
         mask("sky", "http://h/m2.png", "p-sky")]),
]


def load_mask(ref):
    pixels = np.zeros((4, 4), dtype=bool)
    pixels[: 2 if ref["url"].endswith("m1.png") else 3] = True
    return pixels


def by_feature(metrics):
    return metrics.features.set_index("feature")


def test_counts_precision_and_recall_per_feature_match_the_hand_computed_values():
    m = model_run_metrics(ROWS, iou=0.5, masks=load_mask)
    f = by_feature(m)
    expect = {  # feature: (ground truth, predictions, tp, fp, fn)
        "car": (2, 3, 1, 2, 1), "person": (1, 0, 0, 0, 1), "road": (1, 1, 1, 0, 0),
        "building": (1, 1, 0, 1, 1), "sky": (1, 1, 1, 0, 0)}
    assert sorted(f.index) == sorted(expect)
    for feature, (gt, pr, tp, fp, fn) in expect.items():
        got = f.loc[feature, ["ground_truth", "predictions", "tp", "fp", "fn"]].tolist()
        assert got == [gt, pr, tp, fp, fn], feature
    assert f.loc["car", "precision"] == pytest.approx(1 / 3)
    assert f.loc["car", "recall"] == pytest.approx(1 / 2)
    assert f.loc["person", "precision"] is None or np.isnan(f.loc["person", "precision"])
    assert f.loc["person", "recall"] == 0
    assert f.loc["building", "precision"] == 0 and f.loc["building", "recall"] == 0
    assert f.loc["road", "precision"] == 1 and f.loc["sky", "recall"] == 1
    assert m.skipped == 1  # the pedestrian point has no area


def test_ious_of_matched_pairs_are_the_hand_computed_ones():
    m = model_run_metrics(ROWS, iou=0.5, masks=load_mask)
    tp = m.matches[m.matches["outcome"] == "tp"].set_index("feature")["iou"]
    assert tp["car"] == pytest.approx(0.5)      # boxes: exact
    assert tp["road"] == pytest.approx(0.8, abs=0.01)   # polygons: sampled
    assert tp["sky"] == pytest.approx(2 / 3)    # masks: pixels


def test_class_confusions_pair_truth_and_predictions_across_features():
    m = model_run_metrics(ROWS, iou=0.5, masks=load_mask)
    c = m.confusion
    assert c.loc["person", "car"] == 1          # the car predicted on the person
    assert c.loc["car", "car"] == 1
    assert c.loc["car", "(missed)"] == 1        # car2
    assert c.loc["(none)", "car"] == 1          # the car on empty road
    assert c.loc["building", "(missed)"] == 1 and c.loc["(none)", "building"] == 1
    assert c.loc["road", "road"] == 1 and c.loc["sky", "sky"] == 1
    assert int(c.to_numpy().sum()) == 8  # 6 truths + 2 unmatched predictions


def test_a_lower_threshold_turns_the_building_into_a_hit():
    f = by_feature(model_run_metrics(ROWS, iou=0.3, masks=load_mask))
    assert f.loc["building", ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
    f = by_feature(model_run_metrics(ROWS, iou=0.9, masks=load_mask))
    assert f.loc["road", ["tp", "fp", "fn"]].tolist() == [0, 1, 1]


def test_same_mask_file_needs_no_pixels_but_two_files_do():
    same = [row("r", [mask("sky", "http://a/m.png", "t")], [mask("sky", "http://b/m.png", "p")])]
    assert by_feature(model_run_metrics(same)).loc["sky", "tp"] == 1
    with pytest.raises(ValueError, match="masks: two different mask files"):
        model_run_metrics(ROWS)


def test_bad_threshold_and_unknown_run_are_named():
    with pytest.raises(ValueError, match=r"iou: a threshold in \(0, 1\]"):
        model_run_metrics(ROWS, iou=1.5)
    with pytest.raises(ValueError, match="model_run: no run 'nope'"):
        model_run_metrics(ROWS, masks=load_mask, model_run="nope")
    assert not model_run_metrics(ROWS, masks=load_mask, model_run="v1").features.empty


def test_metrics_read_a_history_entry(tmp_path):
    history = History(tmp_path)
    entry = history.create(scope="model_run", target_id="run1", target_name="v1")
    entry.rows.append(orjson.dumps(r) for r in ROWS)
    entry.finish("done")
    entry.release()
    m = model_run_metrics(history.get(entry.id), masks=load_mask)
    assert by_feature(m).loc["car", "tp"] == 1
