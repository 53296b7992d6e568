"""The result table: one row per figure, one column per size, and the target beside it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MB = 1e6
MIB = 2**20


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    target: str
    cell: Callable[[dict[str, Any]], str]
    part: str | None = None  # the sub-measurement it reads, which a size may skip


def _get(result: dict[str, Any], path: str) -> Any:
    value: Any = result
    for key in path.split("."):
        value = value[key]
    return value


def num(path: str, fmt: str = "{:,.0f}", scale: float = 1.0) -> Callable[[dict[str, Any]], str]:
    def cell(result: dict[str, Any]) -> str:
        return fmt.format(_get(result, path) / scale)
    return cell


def ratio(top: str, bottom: str, fmt: str = "{:.2f}x",
          scale: float = 1.0) -> Callable[[dict[str, Any]], str]:
    def cell(result: dict[str, Any]) -> str:
        below = _get(result, bottom)
        return fmt.format(_get(result, top) / below / scale) if below else "inf"
    return cell


def three(path: str, scale: float = 1e3, fmt: str = "{:.1f}") -> Callable[[dict[str, Any]], str]:
    """first / middle / last, in ms."""
    def cell(result: dict[str, Any]) -> str:
        times = _get(result, path)
        return " / ".join(fmt.format(times[k] * scale) for k in ("first", "middle", "last"))
    return cell


def _skipped(result: dict[str, Any], fig: Figure) -> str | None:
    """The reason when the figure's sub-measurement was skipped at this size."""
    section = result.get(fig.section)
    if fig.part is None or not isinstance(section, dict):
        return None
    part = section.get(fig.part)
    return str(part["skipped"]) if isinstance(part, dict) and "skipped" in part else None


def render(figures: Sequence[Figure], sizes: Sequence[int],
           results: dict[int, dict[str, Any]]) -> str:
    """The table as text; a figure whose section failed shows the error's name."""
    header = ["figure", "target", *(f"{size:,} rows" for size in sizes)]
    lines = [header]
    section = None
    for fig in figures:
        if fig.section != section:
            section = fig.section
            lines.append([f"[{section}]", "", *("" for _ in sizes)])
        cells = []
        for size in sizes:
            result = results.get(size, {})
            failed = result.get("errors", {}).get(fig.section)
            if failed:
                cells.append(f"FAILED: {failed[:40]}")
                continue
            skipped = _skipped(result, fig)
            if skipped:
                cells.append(f"skipped {skipped}")
                continue
            try:
                cells.append(fig.cell(result))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("n/a")
        lines.append([f"  {fig.name}", fig.target, *cells])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for i, row in enumerate(lines):
        out.append("  ".join(c.ljust(w) if j < 2 else c.rjust(w)
                             for j, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
