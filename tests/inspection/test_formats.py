"""Saving what was found: NDJSON byte for byte, the table as CSV and Parquet, COCO JSON."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from export_widget.inspect import find, labels_frame, write_coco, write_ndjson, write_table
from export_widget.inspect.formats import fit_mask
from export_widget.masks import MaskLoader

from .export_oracle import Export, labels, objects


def test_ndjson_is_the_bytes_the_server_sent(catalog_export: Export, tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    written = write_ndjson(catalog_export.spool, path)
    assert path.read_bytes() == catalog_export.sent and written == len(catalog_export.sent)


def test_ndjson_of_matches_keeps_each_line_exact(catalog_export: Export) -> None:
    matches = find(catalog_export.spool, "Reject")
    out = io.BytesIO()
    write_ndjson(catalog_export.spool, out, lines=matches)
    sent = catalog_export.sent.splitlines(keepends=True)
    assert out.getvalue() == b"".join(sent[n] for n in matches)
    with pytest.raises(IndexError, match="lines: 99999 is not in"):
        write_ndjson(catalog_export.spool, io.BytesIO(), lines=[99999])


@pytest.mark.parametrize("grain", ["label", "annotation", "classification"])
def test_parquet_reads_back_as_the_labels_frame(run_export: Export, tmp_path: Path,
                                                grain: str) -> None:
    path = tmp_path / "labels.parquet"
    count = write_table(run_export.spool, path, grain=grain, format="parquet")  # type: ignore[arg-type]
    expected = labels_frame(run_export.spool, grain)  # type: ignore[arg-type]
    assert count == len(expected) > 0
    pd.testing.assert_frame_equal(pd.read_parquet(path), expected)


def test_csv_has_a_header_and_one_line_per_record(catalog_export: Export,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "annotations.csv"
    count = write_table(catalog_export.spool, path, grain="annotation", format="csv")
    back = pd.read_csv(path)
    expected = labels_frame(catalog_export.spool, "annotation")
    assert count == len(back) == len(expected)
    assert list(back.columns) == list(expected.columns)
    assert list(back["feature_id"]) == list(expected["feature_id"])
    assert np.allclose(back["area"].fillna(-1), expected["area"].fillna(-1))


def test_table_of_matches_only(catalog_export: Export, tmp_path: Path) -> None:
    matches = find(catalog_export.spool, sql="FROM rows WHERE media_type = 'TEXT'")
    path = tmp_path / "text.parquet"
    write_table(catalog_export.spool, path, grain="label", format="parquet", lines=matches)
    back = pd.read_parquet(path)
    assert len(back) and set(back["media_type"]) == {"TEXT"}
    assert set(back["line"]) <= set(matches)


def test_an_unknown_table_format_is_refused(image_export: Export) -> None:
    with pytest.raises(ValueError, match="format: must be csv or parquet, got 'xlsx'"):
        write_table(image_export.spool, io.BytesIO(), format="xlsx")  # type: ignore[arg-type]


def test_coco_loads_in_pycocotools_with_the_export_counts(image_export: Export,
                                                          tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    path = tmp_path / "coco.json"
    summary = write_coco(image_export.spool, path, load_mask=MaskLoader())
    coco = COCO(str(path))
    expected = [o for _l, _s, _p, _e, label in labels(image_export.rows)
                for _f, o in objects(label["annotations"])
                if o["annotation_kind"] in ("ImageBoundingBox", "ImagePolygon",
                                            "ImageSegmentationMask")]
    assert summary == {"images": len(image_export.rows), "annotations": len(expected),
                       "masks_skipped": 0}
    assert len(coco.getImgIds()) == len(image_export.rows)
    assert len(coco.getAnnIds()) == len(expected)
    names = {c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert names == {"car", "road", "sky"}
    car = next(o for o in expected if o["name"] == "car")
    ann = next(a for a in coco.dataset["annotations"] if a["feature_id"] == car["feature_id"])
    box = car["bounding_box"]
    assert ann["bbox"] == [box["left"], box["top"], box["width"], box["height"]]
    sky = coco.loadAnns(coco.getAnnIds(catIds=coco.getCatIds(catNms=["sky"])))[0]
    bitmap = coco.annToMask(sky)
    assert bitmap.shape == (480, 640) and bitmap.sum() == sky["area"] > 0
    road = coco.loadAnns(coco.getAnnIds(catIds=coco.getCatIds(catNms=["road"])))[0]
    # The demo road is a trapezoid whose corners each label places: its area is the polygon's.
    polygon = next(o for o in expected if o["feature_id"] == road["feature_id"])["polygon"]
    pts = [(p["x"], p["y"]) for p in polygon]
    area = abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(pts))) / 2
    assert road["area"] == pytest.approx(area)
    image = coco.loadImgs(sky["image_id"])[0]
    assert image["width"] == 640 and image["line"] == sky["image_id"] - 1


def test_coco_of_predictions_without_masks_counts_what_was_skipped(run_export: Export,
                                                                   tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    path = tmp_path / "predictions.json"
    summary = write_coco(run_export.spool, path, sources=["prediction"])
    predictions = [o for _l, source, _r, _e, label in labels(run_export.rows)
                   if source == "prediction" for _f, o in objects(label["annotations"])]
    masks = sum(o["annotation_kind"] == "ImageSegmentationMask" for o in predictions)
    boxes = sum(o["annotation_kind"] in ("ImageBoundingBox", "ImagePolygon")
                for o in predictions)
    assert summary["annotations"] == boxes and summary["masks_skipped"] == masks > 0
    assert {a["source"] for a in COCO(str(path)).dataset["annotations"]} == {"prediction"}
    with pytest.raises(ValueError, match="sources: each must be one of"):
        write_coco(run_export.spool, io.BytesIO(), sources=["labels"])


def test_a_composite_mask_is_read_by_its_colour_and_scaled_to_the_image(
        run_export: Export, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    asked: list[dict[str, object]] = []

    def load(ref: dict[str, object]) -> np.ndarray:
        asked.append(dict(ref))
        pixels = np.zeros((48, 64), dtype=bool)  # a quarter-size mask: the top-left 8x4
        pixels[:4, :8] = True
        return pixels

    path = tmp_path / "masks.coco.json"
    summary = write_coco(run_export.spool, path, sources=["prediction"], load_mask=load)
    assert summary["masks_skipped"] == 0 and asked and all("url" in ref for ref in asked)
    coco = COCO(str(path))
    sky = coco.loadAnns(coco.getAnnIds(catIds=coco.getCatIds(catNms=["sky"])))[0]
    assert sky["area"] == 80 * 40 and sky["bbox"] == [0.0, 0.0, 80.0, 40.0]
    bitmap = fit_mask(np.eye(2, dtype=bool), (4, 4))
    assert bitmap.tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
