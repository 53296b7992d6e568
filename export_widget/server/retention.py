"""How long finished exports keep their files: up to an age, a total size, or both.

The engine sweeps its exports directory with `files_to_delete` when a task ends and once a
minute; a task whose files go keeps its record, with a reason saying why its streams are
empty. Running exports are never touched, and the newest finished export always stays
(a size budget smaller than one export must not delete it as it completes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RETENTION_DAYS_ENV = "EXPORT_WIDGET_RETENTION_DAYS"
RETENTION_SIZE_ENV = "EXPORT_WIDGET_RETENTION_SIZE"
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Retention:
    """Keep finished exports' files at most `max_age_days` and `max_total_bytes` in all;
    None is no limit."""

    max_age_days: float | None = None
    max_total_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.max_age_days is not None and not self.max_age_days > 0:
            raise ValueError(f"retention days: must be > 0, got {self.max_age_days}")
        if self.max_total_bytes is not None and self.max_total_bytes < 0:
            raise ValueError(f"retention size: must be >= 0 bytes, got {self.max_total_bytes}")

    @property
    def limited(self) -> bool:
        return self.max_age_days is not None or self.max_total_bytes is not None


@dataclass(frozen=True)
class StoredExport:
    """A finished export's files on disk."""

    task_id: str
    finished_at_ms: int
    size: int


def files_to_delete(
    stored: list[StoredExport], retention: Retention, now_ms: int
) -> dict[str, str]:
    """Task id -> why its files go, oldest first."""
    doomed: dict[str, str] = {}
    newest_first = sorted(stored, key=lambda e: e.finished_at_ms, reverse=True)
    if retention.max_age_days is not None:
        cutoff = now_ms - retention.max_age_days * DAY_MS
        for export in newest_first:
            if export.finished_at_ms < cutoff:
                doomed[export.task_id] = (f"expired: files deleted after "
                                          f"{retention.max_age_days:g} days (retention)")
    if retention.max_total_bytes is not None:
        total = 0
        for position, export in enumerate(newest_first):
            if export.task_id in doomed:
                continue
            total += export.size
            if position > 0 and total > retention.max_total_bytes:
                doomed[export.task_id] = (f"expired: files deleted to keep exports under "
                                          f"{retention.max_total_bytes:,} bytes (retention)")
    return {e.task_id: doomed[e.task_id] for e in reversed(newest_first) if e.task_id in doomed}


def parse_size(text: str) -> int:
    """Bytes from `500000`, `200M`, `10G` or `1.5T` (powers of 1024)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if match is None:
        raise ValueError(f"retention size: expected bytes like 500M or 10G, got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])
