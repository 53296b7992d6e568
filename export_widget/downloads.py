"""Save what an export holds: to a path from Python, or to the browser as a download.

What: `rows` (the whole export), `matches` (the rows the search box found) or `table` (the
label table at a grain, of every row or of the matches). Formats: NDJSON (the server's
bytes), CSV, Parquet, COCO JSON. A download is made in the kernel, in a worker, into a
temporary file, then sent as message buffers in pieces; the browser joins them into a file.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from .inspect.formats import LoadMask, write_coco, write_ndjson, write_table
from .inspect.table import GRAINS, Grain
from .messages import SaveFailed, SavePiece
from .spool import Spool

SaveWhat = Literal["rows", "matches", "table"]
SaveFormat = Literal["ndjson", "csv", "parquet", "coco"]
WHATS: tuple[str, ...] = get_args(SaveWhat)
FORMATS: tuple[str, ...] = get_args(SaveFormat)
_SUFFIXES = {".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv", ".parquet": "parquet",
             ".json": "coco"}
MIME = {"ndjson": "application/x-ndjson", "csv": "text/csv",
        "parquet": "application/vnd.apache.parquet", "coco": "application/json"}
EXTENSION = {"ndjson": ".ndjson", "csv": ".csv", "parquet": ".parquet", "coco": ".coco.json"}
PIECE_BYTES = 1 << 20
PIECES_PER_SECOND = 50  # far below the Jupyter server's 1000 messages a second


def plan(what: str, format: str | None, path: str | os.PathLike[str] | None = None,
         grain: str = "label") -> tuple[SaveWhat, SaveFormat, Grain]:
    """Check a save request; the format defaults from the path's suffix, then from `what`."""
    if what not in WHATS:
        raise ValueError(f"what: must be one of {', '.join(WHATS)}, got {what!r}")
    if format is None and path is not None:
        format = _SUFFIXES.get(Path(path).suffix.lower())
    if format is None:
        format = "csv" if what == "table" else "ndjson"
    if format not in FORMATS:
        raise ValueError(f"format: must be one of {', '.join(FORMATS)}, got {format!r}")
    if what == "table" and format not in ("csv", "parquet"):
        raise ValueError(f"format: the table is saved as csv or parquet, got {format!r}")
    if what != "table" and format in ("csv", "parquet"):
        raise ValueError(f"format: rows are saved as ndjson or coco; use what='table' for "
                         f"{format}")
    if grain not in GRAINS:
        raise ValueError(f"grain: must be one of {', '.join(GRAINS)}, got {grain!r}")
    return what, format, grain  # type: ignore[return-value]


def write(spool: Spool, dest: str | os.PathLike[str] | Any, *, what: SaveWhat,
          format: SaveFormat, grain: Grain = "label", matches: Sequence[int] | None = None,
          load_mask: LoadMask | None = None) -> dict[str, int]:
    """Write one save; `matches` is required for what='matches' and narrows the table."""
    if what == "matches" and matches is None:
        raise ValueError("what: 'matches' needs a search; run one first (w.find or the "
                         "search box)")
    lines = matches if what in ("matches", "table") else None
    if format == "ndjson":
        return {"bytes": write_ndjson(spool, dest, lines=lines)}
    if format == "coco":
        return write_coco(spool, dest, lines=lines, load_mask=load_mask)
    return {"records": write_table(spool, dest, grain=grain, format=format, lines=lines)}


class Downloads:
    """Makes downloads in worker threads and sends them in pieces through `send`."""

    def __init__(self, send: Callable[[dict[str, Any], list[bytes]], None]) -> None:
        self._send = send
        self._count = 0
        self._lock = threading.Lock()

    def start(self, job: Callable[[Path], dict[str, int]], name: str, format: SaveFormat,
              request_id: str) -> str:
        """Make the file in a worker. Pieces carry `request_id`, so the browser can take
        them even if they overtake the reply to its request."""
        with self._lock:
            self._count += 1
            save_id = f"d{self._count}"
        threading.Thread(target=self._run, args=(save_id, request_id, job, name, format),
                         name="export-widget-download", daemon=True).start()
        return save_id

    def _run(self, save_id: str, request_id: str, job: Callable[[Path], dict[str, int]],
             name: str, format: SaveFormat) -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="export-widget-save-") as tmp:
                path = Path(tmp) / name
                job(path)
                self._send_file(save_id, request_id, path, name, format)
        except Exception as exc:  # the browser shows why, instead of waiting forever
            self._send(dict(SaveFailed(type="save_failed", save_id=save_id,
                                       request_id=request_id,
                                       message=f"{type(exc).__name__}: {exc}")), [])

    def _send_file(self, save_id: str, request_id: str, path: Path, name: str,
                   format: SaveFormat) -> None:
        size = path.stat().st_size
        pieces = max(1, -(-size // PIECE_BYTES))
        with path.open("rb") as f:
            for index in range(pieces):
                data = f.read(PIECE_BYTES)
                piece = SavePiece(type="save_piece", save_id=save_id, request_id=request_id,
                                  index=index,
                                  pieces=pieces, size=size, name=name, mime=MIME[format])
                self._send(dict(piece), [data])
                time.sleep(1 / PIECES_PER_SECOND)
