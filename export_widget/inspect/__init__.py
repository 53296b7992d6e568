"""Inspection of exported rows: pure functions of rows and spools, no widget, no HTTP."""

from export_widget.inspect.compare import Comparison, compare, compare_exports
from export_widget.inspect.geometry import iou_of
from export_widget.inspect.metrics import RunMetrics, model_run_metrics
from export_widget.inspect.rows import RowSource, rows_of
from export_widget.inspect.shapes import RowShapes, Shape, media_kind, shapes_of

__all__ = ["Comparison", "RowShapes", "RowSource", "RunMetrics", "Shape", "compare",
           "compare_exports", "iou_of", "media_kind", "model_run_metrics", "rows_of",
           "shapes_of"]
