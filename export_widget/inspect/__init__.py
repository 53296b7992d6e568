"""Inspection of exported rows: pure functions of rows and spools, no widget, no HTTP.

Each module adds its names here: `compare`, `metrics`, `rows` (two exports, model-run
metrics), `table` (label records), `query` (find rows), `formats` (writers), `shapes`
(what the preview draws), `geometry` (IoU).
"""

from export_widget.inspect.compare import Comparison, compare, compare_exports
from export_widget.inspect.formats import write_coco, write_ndjson, write_table
from export_widget.inspect.geometry import iou_of
from export_widget.inspect.metrics import RunMetrics, model_run_metrics
from export_widget.inspect.query import Query, QueryError, Search, find
from export_widget.inspect.rows import RowSource, rows_of
from export_widget.inspect.shapes import RowShapes, Shape, media_kind, shapes_of
from export_widget.inspect.table import GRAINS, Grain, labels_frame, labels_table

__all__ = ["GRAINS", "Comparison", "Grain", "Query", "QueryError", "RowShapes", "RowSource",
           "RunMetrics", "Search", "Shape", "compare", "compare_exports", "find", "iou_of",
           "labels_frame", "labels_table", "media_kind", "model_run_metrics", "rows_of",
           "shapes_of", "write_coco", "write_ndjson", "write_table"]
