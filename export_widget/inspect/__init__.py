"""Inspection of exported rows: pure functions of rows and spools, no widget, no HTTP."""

from export_widget.inspect.compare import Comparison, compare, compare_exports
from export_widget.inspect.metrics import RunMetrics, model_run_metrics
from export_widget.inspect.rows import RowSource, rows_of

__all__ = ["Comparison", "RowSource", "RunMetrics", "compare", "compare_exports",
           "model_run_metrics", "rows_of"]
