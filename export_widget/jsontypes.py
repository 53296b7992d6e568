"""The one alias for JSON data that crosses a boundary (GraphQL answers, export rows, specs)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
"""A JSON object as `orjson`/`json` parse it: string keys, any JSON value."""
