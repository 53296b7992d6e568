"""Pure functions of exported rows: no widget, no HTTP. The widget only calls them.

Each module adds its names here (additive): `table` (label records), `query` (find rows),
`formats` (writers).
"""

from __future__ import annotations

from .formats import write_coco, write_ndjson, write_table
from .query import Query, QueryError, Search, find
from .table import GRAINS, Grain, labels_frame, labels_table

__all__ = [
    "GRAINS",
    "Grain",
    "Query",
    "QueryError",
    "Search",
    "find",
    "labels_frame",
    "labels_table",
    "write_coco",
    "write_ndjson",
    "write_table",
]
