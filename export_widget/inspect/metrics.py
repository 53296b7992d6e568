"""Model-run metrics: predictions against ground truth, per row and feature, matched by IoU.

For each row of a model-run export (or a catalog export with `model_run_ids`), a run's
ground-truth objects (`labels`) and predicted objects (`predictions`) with an area, boxes,
polygons and masks, are matched within each feature (the object's `name`): pairs are taken
greedily by IoU, highest first, each object used once; a pair at or above the threshold is a
true positive, a prediction left over a false positive, a ground truth left over a false
negative. Precision is TP / (TP + FP), recall TP / (TP + FN) (None when undefined).

Class confusions match ground truth and predictions of a row across features in the same way:
`confusion.loc[truth, predicted]` counts the pairs, "(missed)" the ground truth nothing
predicted, and "(none)" the predictions that match no ground truth.

Points and lines have no area and are left out (their count is in `skipped`). Mask pixels
come from `masks`, a function from the annotation's `mask`/`composite_mask` dict to a boolean
array; two masks pointing at the same file and colour are the same mask without loading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .geometry import BoolArray, Ring, box_iou, box_ring, mask_iou, polygons_iou
from .rows import RowSource

MaskLoader = Callable[[Mapping[str, Any]], BoolArray]
MISSED = "(missed)"
NONE = "(none)"
FEATURE_COLUMNS = ["model_run", "feature", "ground_truth", "predictions", "tp", "fp", "fn",
                   "precision", "recall"]
MATCH_COLUMNS = ["model_run", "data_row_id", "global_key", "feature", "outcome", "iou",
                 "truth_feature_id", "prediction_feature_id"]


@dataclass(frozen=True)
class _Shape:
    feature: str
    feature_id: str | None
    kind: str  # "box" | "polygon" | "mask"
    value: Any


@dataclass
class RunMetrics:
    """DataFrames: `features` (TP/FP/FN, precision, recall per feature), `confusion`
    (truth x predicted) and `matches` (one line per object decision)."""

    iou: float
    features: Any
    confusion: Any
    matches: Any
    skipped: int

    def __iter__(self) -> Iterator[Any]:
        return iter((self.features, self.confusion, self.matches))


def model_run_metrics(source: Any, iou: float = 0.5, masks: MaskLoader | None = None,
                      model_run: str | None = None) -> RunMetrics:
    """Metrics of the predictions in `source` (a history entry, spool, path or rows).

    `model_run` picks one run by id or name when the rows hold several."""
    import pandas as pd

    if not isinstance(iou, int | float) or not 0.0 < float(iou) <= 1.0:
        raise ValueError(f"iou: a threshold in (0, 1], got {iou!r}")
    matcher = _Matcher(masks)
    matches: list[dict[str, Any]] = []
    confusion: Counter[tuple[str, str]] = Counter()
    skipped = 0
    runs_seen = 0
    for _line, row in RowSource(source).iter():
        data_row = row.get("data_row") or {}
        for run_id, run in _runs(row):
            name = str(run.get("name") or run_id)
            if model_run is not None and model_run not in (run_id, name):
                continue
            runs_seen += 1
            truth, n_skip_t = _shapes(run.get("labels") or [])
            preds, n_skip_p = _shapes(run.get("predictions") or [])
            skipped += n_skip_t + n_skip_p
            base = {"model_run": name, "data_row_id": data_row.get("id"),
                    "global_key": data_row.get("global_key")}
            for feature in dict.fromkeys([s.feature for s in (*truth, *preds)]):
                t = [s for s in truth if s.feature == feature]
                p = [s for s in preds if s.feature == feature]
                for ti, pi, value in matcher.greedy(t, p, iou):
                    outcome = "tp" if ti is not None and pi is not None else (
                        "fn" if ti is not None else "fp")
                    matches.append({**base, "feature": feature, "outcome": outcome,
                                    "iou": value,
                                    "truth_feature_id": t[ti].feature_id if ti is not None
                                    else None,
                                    "prediction_feature_id": p[pi].feature_id
                                    if pi is not None else None})
            for ti, pi, _value in matcher.greedy(truth, preds, iou):
                confusion[(truth[ti].feature if ti is not None else NONE,
                           preds[pi].feature if pi is not None else MISSED)] += 1
    if model_run is not None and runs_seen == 0:
        raise ValueError(f"model_run: no run {model_run!r} in these rows")
    match_frame = pd.DataFrame(matches, columns=MATCH_COLUMNS)
    return RunMetrics(iou=float(iou), features=_per_feature(match_frame),
                      confusion=_confusion_frame(confusion), matches=match_frame,
                      skipped=skipped)


def _runs(row: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for model in (row.get("experiments") or {}).values():
        yield from (model.get("runs") or {}).items()


def _shapes(labels: list[Mapping[str, Any]]) -> tuple[list[_Shape], int]:
    shapes: list[_Shape] = []
    skipped = 0
    for label in labels:
        for obj in (label.get("annotations") or {}).get("objects") or []:
            shape = _shape(obj)
            if shape is None:
                skipped += 1
            else:
                shapes.append(shape)
    return shapes, skipped


def _shape(obj: Mapping[str, Any]) -> _Shape | None:
    feature, fid = str(obj.get("name")), obj.get("feature_id")
    if isinstance(obj.get("bounding_box"), dict):
        return _Shape(feature, fid, "box", obj["bounding_box"])
    if isinstance(obj.get("polygon"), list):
        ring: Ring = [(float(p["x"]), float(p["y"])) for p in obj["polygon"]]
        return _Shape(feature, fid, "polygon", [ring])
    for key in ("mask", "composite_mask"):
        if isinstance(obj.get(key), dict):
            return _Shape(feature, fid, "mask", obj[key])
    return None


class _Matcher:
    def __init__(self, masks: MaskLoader | None) -> None:
        self._masks = masks
        self._cache: dict[str, BoolArray] = {}

    def iou(self, a: _Shape, b: _Shape) -> float:
        if a.kind == b.kind == "box":
            return box_iou(a.value, b.value)
        if a.kind == "mask" or b.kind == "mask":
            if a.kind != b.kind:
                return 0.0
            if _mask_identity(a.value) == _mask_identity(b.value):
                return 1.0
            return mask_iou(self._mask(a.value), self._mask(b.value))
        return polygons_iou(_rings(a), _rings(b))

    def _mask(self, ref: Mapping[str, Any]) -> BoolArray:
        key = repr(_mask_identity(ref))
        if key not in self._cache:
            if self._masks is None:
                raise ValueError("masks: two different mask files need their pixels; pass "
                                 "masks=<function from the mask dict to a boolean array>")
            self._cache[key] = self._masks(ref)
        return self._cache[key]

    def greedy(self, truth: list[_Shape], preds: list[_Shape], threshold: float
               ) -> Iterator[tuple[int | None, int | None, float | None]]:
        """(truth index, prediction index, IoU) per decision; a None side is unmatched."""
        pairs = sorted(((self.iou(t, p), ti, pi) for ti, t in enumerate(truth)
                        for pi, p in enumerate(preds)), key=lambda x: (-x[0], x[1], x[2]))
        used_t: set[int] = set()
        used_p: set[int] = set()
        for value, ti, pi in pairs:
            if value < threshold:
                break
            if ti in used_t or pi in used_p:
                continue
            used_t.add(ti)
            used_p.add(pi)
            yield ti, pi, value
        for ti in range(len(truth)):
            if ti not in used_t:
                yield ti, None, None
        for pi in range(len(preds)):
            if pi not in used_p:
                yield None, pi, None


def _rings(shape: _Shape) -> list[Ring]:
    return [box_ring(shape.value)] if shape.kind == "box" else list(shape.value)


def _mask_identity(ref: Mapping[str, Any]) -> tuple[str, Any]:
    color = ref.get("color_rgb")
    return urlsplit(str(ref.get("url", ""))).path, tuple(color) if color else None


def _per_feature(matches: Any) -> Any:
    import pandas as pd

    rows = []
    for (run, feature), group in matches.groupby(["model_run", "feature"], sort=True):
        counts = group["outcome"].value_counts()
        tp, fp, fn = (int(counts.get(k, 0)) for k in ("tp", "fp", "fn"))
        rows.append({"model_run": run, "feature": feature, "ground_truth": tp + fn,
                     "predictions": tp + fp, "tp": tp, "fp": fp, "fn": fn,
                     "precision": tp / (tp + fp) if tp + fp else None,
                     "recall": tp / (tp + fn) if tp + fn else None})
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def _confusion_frame(counts: Counter[tuple[str, str]]) -> Any:
    import pandas as pd

    truths = sorted({t for t, _p in counts} - {NONE}) + ([NONE] if any(
        t == NONE for t, _p in counts) else [])
    preds = sorted({p for _t, p in counts} - {MISSED}) + ([MISSED] if any(
        p == MISSED for _t, p in counts) else [])
    frame = pd.DataFrame(0, index=pd.Index(truths, name="truth"),
                         columns=pd.Index(preds, name="predicted"), dtype="int64")
    for (t, p), n in counts.items():
        frame.loc[t, p] = n
    return frame
