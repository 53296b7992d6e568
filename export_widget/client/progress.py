"""Progress bars for script users (`progress=True`): tqdm.auto draws a notebook bar in Jupyter
and text on stderr elsewhere. The numbers come from the task header, as the widget's do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypeVar

from tqdm.auto import tqdm

from .api import Header


class _Line(Protocol):
    @property
    def data(self) -> bytes: ...

    @property
    def last_in_chunk(self) -> bool: ...


L = TypeVar("L", bound=_Line)


def task_bar(task_id: str) -> tqdm:
    """A bar over the server's completion percentage (so its ETA), with rows, bytes and rows
    per second from the stream header in the postfix."""
    return tqdm(total=100, unit="%", desc=f"export {task_id}",
                bar_format="{l_bar}{bar}| {n:.0f}/{total}% [{elapsed}<{remaining}{postfix}]")


def move_task_bar(bar: tqdm, percent: float | None, header: Header | None) -> None:
    if header is not None:
        elapsed = bar.format_dict["elapsed"]
        rate = f", {tqdm.format_sizeof(header.total_lines / elapsed)} rows/s" if elapsed else ""
        size = tqdm.format_sizeof(header.total_size, "B", 1024)
        bar.set_postfix_str(f"{header.total_lines:,} rows, {size}{rate}", refresh=False)
    bar.update(max(0.0, min(100.0, percent or 0.0) - bar.n))


def read_with_bar(lines: Iterator[L], task_id: str, header: Header | None) -> Iterator[L]:
    """`lines` unchanged, counted on a bar of rows (total from the header when known), with
    the bytes read so far against the stream's size."""
    total_bytes = f" of {tqdm.format_sizeof(header.total_size, 'B', 1024)}" if header else ""
    with tqdm(lines, total=header.total_lines if header else None, unit="row",
              desc=f"read {task_id}") as bar:
        read = 0
        for line in bar:
            read += len(line.data) + 1
            if line.last_in_chunk:
                bar.set_postfix_str(f"{tqdm.format_sizeof(read, 'B', 1024)}{total_bytes}",
                                    refresh=False)
            yield line
