"""Write what an export holds: NDJSON (the server's bytes), the label table (CSV or
Parquet), and image labels as COCO JSON.

Every writer takes a source (a spool or an NDJSON file) and, optionally, the line numbers to
keep (the matches of a search); it writes to a path or a binary file object and returns a
small summary.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .lines import Source, chunks, snapshot
from .table import Grain, borrow, iter_tables, labels_table

TableFormat = Literal["csv", "parquet"]
Dest = str | os.PathLike[str] | IO[bytes]
# A mask reference (`{"url"}` or `{"url", "color_rgb"}`) -> its boolean pixels; the kernel's
# `export_widget.masks.MaskLoader` is one (it fetches over HTTP, which this module does not).
LoadMask = Callable[[Mapping[str, Any]], Any]
_COPY_BLOCK = 1 << 20
COCO_KINDS = ("ImageBoundingBox", "ImagePolygon", "ImageSegmentationMask")


@contextmanager
def _opened(dest: Dest) -> Iterator[IO[bytes]]:
    if isinstance(dest, str | os.PathLike):
        with open(dest, "wb") as f:
            yield f
    else:
        yield dest


# -- NDJSON -------------------------------------------------------------------------------


def write_ndjson(source: Source, dest: Dest, lines: Sequence[int] | None = None) -> int:
    """The committed lines, byte for byte as the server sent them; returns bytes written.

    With `lines`, only those lines (each with its newline), in the order given.
    """
    snap = snapshot(source)
    written = 0
    with _opened(dest) as out, open(snap.data_path, "rb") as data:
        if lines is None:
            left = snap.byte_size()
            while left > 0:
                block = data.read(min(_COPY_BLOCK, left))
                if not block:
                    raise OSError(f"source: {snap.data_path} is shorter than its index says")
                out.write(block)
                written += len(block)
                left -= len(block)
            return written
        for line in lines:
            if not 0 <= line < snap.count:
                raise IndexError(f"lines: {line} is not in 0..{snap.count - 1}")
            begin = snap.start_of(line)
            end = int(snap.ends(line, line + 1)[0])
            data.seek(begin)
            raw = data.read(end - begin)
            if not raw.endswith(b"\n"):
                raw += b"\n"  # only the last line of a plain file can lack it
            out.write(raw)
            written += len(raw)
    return written


# -- the label table ----------------------------------------------------------------------


def _keep(table: pa.Table, lines: pa.Array | None) -> pa.Table:
    if lines is None:
        return table
    return table.filter(pc.is_in(table.column("line"), value_set=lines))


def write_table(source: Source, dest: Dest, *, grain: Grain = "label",
                format: TableFormat = "csv", lines: Sequence[int] | None = None) -> int:
    """The records at `grain` as CSV or Parquet, written chunk by chunk; returns the count."""
    if format not in ("csv", "parquet"):
        raise ValueError(f"format: must be csv or parquet, got {format!r}")
    keep = None if lines is None else pa.array(np.asarray(lines, dtype=np.int64))
    count = 0
    writer: Any = None
    with _opened(dest) as out:
        try:
            for part in iter_tables(source, grain):
                part = _keep(part, keep)
                if writer is None:
                    writer = _table_writer(out, part.schema, format)
                else:
                    part = part.cast(writer.schema)
                writer.write_table(part)
                count += part.num_rows
            if writer is None:  # no lines: still a valid file with the header
                empty = labels_table(source, grain, stop=0)
                writer = _table_writer(out, empty.schema, format)
                writer.write_table(empty)
        finally:
            if writer is not None:
                writer.close()
    return count


def _table_writer(out: IO[bytes], schema: pa.Schema, format: TableFormat) -> Any:
    if format == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(out, schema)
    import pyarrow.csv as pcsv

    return pcsv.CSVWriter(out, schema)


# -- COCO ---------------------------------------------------------------------------------

_COCO_IMAGES = """
SELECT line, data_row_id, global_key, external_id, row_data, width, height
FROM rows WHERE media_type = 'IMAGE' ORDER BY line
"""
_COCO_OBJECTS = """
SELECT line, source, label_id, ov.feature_id AS feature_id, ov.name AS name,
       ov.feature_schema_id AS schema_id, ov.annotation_kind AS kind,
       [ov.bounding_box.left, ov.bounding_box.top, ov.bounding_box.width,
        ov.bounding_box.height] AS box,
       list_transform(ov.polygon, lambda p: [p.x, p.y]) AS polygon,
       coalesce(ov.mask.url, ov.composite_mask.url) AS mask_url,
       ov.composite_mask.color_rgb AS color
FROM _objects
WHERE media_type = 'IMAGE' AND frame IS NULL AND ov.annotation_kind IN {kinds}
  AND source IN {sources}
ORDER BY line, source_order, li, oi
"""


def write_coco(source: Source, dest: Dest, *, lines: Sequence[int] | None = None,
               sources: Sequence[str] = ("project", "ground_truth"),
               load_mask: LoadMask | None = None) -> dict[str, int]:
    """Image rows and their boxes, polygons and masks as one COCO JSON document.

    Categories are the features, by schema id. Masks need `load_mask` (the export holds only
    their URLs; `export_widget.masks.MaskLoader()` fetches them); without it they are counted
    in `masks_skipped`.
    Images get `id = line + 1`, so a COCO image leads back to its row.
    """
    import orjson

    allowed = {"project", "ground_truth", "prediction"}
    bad = [s for s in sources if s not in allowed]
    if bad or not sources:
        raise ValueError(f"sources: each must be one of {', '.join(sorted(allowed))}, "
                         f"got {list(sources)!r}")
    keep = None if lines is None else pa.array(np.asarray(lines, dtype=np.int64))
    doc: dict[str, Any] = {"info": {"description": "export-widget COCO export"},
                           "images": [], "annotations": [], "categories": []}
    categories: dict[str, int] = {}
    summary = {"images": 0, "annotations": 0, "masks_skipped": 0}
    sql = _COCO_OBJECTS.format(kinds=_sql_tuple(COCO_KINDS), sources=_sql_tuple(sources))
    snap = snapshot(source)
    with borrow() as tables:
        for chunk in chunks(snap):
            tables.load(chunk)
            images = _keep(tables.sql(_COCO_IMAGES).to_arrow_table(), keep).to_pylist()
            sizes = {}
            for img in images:
                doc["images"].append({
                    "id": img["line"] + 1, "file_name": img["global_key"] or img["data_row_id"],
                    "width": img["width"], "height": img["height"], "coco_url": img["row_data"],
                    "data_row_id": img["data_row_id"], "global_key": img["global_key"],
                    "line": img["line"]})
                sizes[img["line"]] = (img["width"], img["height"])
            objects = _keep(tables.sql(sql).to_arrow_table(), keep).to_pylist()
            for obj in objects:
                if obj["line"] not in sizes:
                    continue
                ann = _coco_annotation(obj, sizes[obj["line"]], load_mask)
                if ann is None:
                    summary["masks_skipped"] += 1
                    continue
                cat = categories.setdefault(obj["schema_id"] or obj["name"], len(categories) + 1)
                if cat > len(doc["categories"]):
                    doc["categories"].append({"id": cat, "name": obj["name"],
                                              "supercategory": "",
                                              "feature_schema_id": obj["schema_id"]})
                ann.update({"id": len(doc["annotations"]) + 1, "image_id": obj["line"] + 1,
                            "category_id": cat, "iscrowd": 0, "label_id": obj["label_id"],
                            "feature_id": obj["feature_id"], "source": obj["source"]})
                doc["annotations"].append(ann)
    summary["images"] = len(doc["images"])
    summary["annotations"] = len(doc["annotations"])
    with _opened(dest) as out:
        out.write(orjson.dumps(doc))
    return summary


def _sql_tuple(values: Sequence[str]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _coco_annotation(obj: dict[str, Any], size: tuple[int | None, int | None],
                     load_mask: LoadMask | None) -> dict[str, Any] | None:
    from pycocotools import mask as masks

    kind = obj["kind"]
    if kind == "ImageBoundingBox":
        x, y, w, h = obj["box"]
        return {"bbox": [x, y, w, h], "area": w * h,
                "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]]}
    if kind == "ImagePolygon":
        points = obj["polygon"] or []
        if points and points[0] == points[-1]:
            points = points[:-1]  # the export closes rings; COCO rings are implicit
        flat = [float(c) for p in points for c in p]
        xs, ys = flat[0::2], flat[1::2]
        return {"bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
                "area": _shoelace(xs, ys), "segmentation": [flat]}
    width, height = size
    if load_mask is None or obj["mask_url"] is None or not width or not height:
        return None
    ref: dict[str, Any] = {"url": obj["mask_url"]}
    if obj.get("color"):
        ref["color_rgb"] = obj["color"]
    bitmap = fit_mask(np.asarray(load_mask(ref), dtype=bool), (width, height))
    rle = masks.encode(np.asfortranarray(bitmap))
    area = float(masks.area(rle))
    bbox = [float(v) for v in masks.toBbox(rle)]
    rle["counts"] = rle["counts"].decode("ascii")
    return {"bbox": bbox, "area": area, "segmentation": rle}


def _shoelace(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    return abs(sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))) / 2


def fit_mask(pixels: np.ndarray[Any, np.dtype[np.bool_]], size: tuple[int, int]
             ) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Mask pixels as a 0/1 array of the image's `size` (width, height): a mask stored at
    another resolution is scaled to the image (nearest neighbour)."""
    from PIL import Image

    bitmap: np.ndarray[Any, np.dtype[np.uint8]] = pixels.astype(np.uint8)
    if bitmap.shape != (size[1], size[0]):
        scaled = Image.fromarray(bitmap * 255).resize(size, Image.Resampling.NEAREST)
        bitmap = (np.asarray(scaled) > 0).astype(np.uint8)
    return bitmap
