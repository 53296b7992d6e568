"""Inspection of exported rows: pure functions of rows and spools, no widget, no HTTP."""

from export_widget.inspect.geometry import iou_of
from export_widget.inspect.shapes import RowShapes, Shape, media_kind, shapes_of

__all__ = ["RowShapes", "Shape", "iou_of", "media_kind", "shapes_of"]
