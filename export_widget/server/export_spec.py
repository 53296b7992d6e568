"""The export the GraphQL side hands to the data side and the engine: one typed record.

The data side checks it and returns a `PreparedExport` (its selection, already resolved and
counted); the engine records the task from it and runs the prepared export, so nothing is
checked or selected twice.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from export_widget.jsontypes import Json

ExportKind = Literal["project", "catalog", "slice", "model_run"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("project", "catalog", "slice", "model_run")

MEDIA_TYPES = frozenset({
    "AUDIO", "CONVERSATIONAL", "DICOM", "PDF", "TMS_GEO", "HTML", "IMAGE",
    "LLM_PROMPT_CREATION", "LLM_PROMPT_RESPONSE_CREATION", "TEXT", "TMS_SIMPLE", "UNKNOWN",
    "UNSUPPORTED", "VIDEO", "POINT_CLOUD", "LLM",
})

# One line of an export: ("row", row_json) or ("error", error_json).
Item = tuple[str, Json]


@dataclass(frozen=True)
class EncodedBatch:
    """A batch of export lines already serialized: each stream's lines as one blob and the
    byte length of each line, in order.

    Serializing is most of an export's work, so it happens where the rows are built (in a
    row process, when there are some); whoever writes the streams only appends bytes.
    """

    result: bytes = b""
    result_lengths: array[int] = field(default_factory=lambda: array("Q"))
    errors: bytes = b""
    error_lengths: array[int] = field(default_factory=lambda: array("Q"))

    @property
    def lines(self) -> int:
        return len(self.result_lengths) + len(self.error_lengths)

    def result_lines(self) -> list[bytes]:
        return split_lines(self.result, self.result_lengths)

    def error_lines(self) -> list[bytes]:
        return split_lines(self.errors, self.error_lengths)


def split_lines(data: bytes, lengths: Sequence[int]) -> list[bytes]:
    """The lines of a blob, given each line's length."""
    lines, position = [], 0
    for length in lengths:
        lines.append(data[position : position + length])
        position += length
    return lines


# What a prepared export yields: items for the engine to serialize, or lines ready to write.
Batch = list[Item] | EncodedBatch


@dataclass(frozen=True)
class ExportSpec:
    """One export: what to select and how to write it, and the task it becomes.

    `target_id` is the project, slice or model run id (None for catalog exports, which
    narrow by query items); `query` is the wire `searchQuery.query` list and `params` the
    wire `params` object (camelCase include* keys); naive filter dates are read in
    `timezone`, and `/media/...` paths are made absolute on `media_base_url`.
    """

    kind: ExportKind
    target_id: str | None = None
    query: list[Any] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    media_base_url: str = ""
    task_name: str | None = None
    created_by: str = ""
    organization_id: str | None = None
    wire_input: dict[str, Any] = field(default_factory=dict)  # kept on the task as sent

    @property
    def project_id(self) -> str | None:
        """The project a project export runs in (its running exports are limited)."""
        return self.target_id if self.kind == "project" else None


class PreparedExport(Protocol):
    """A checked export, ready to run."""

    @property
    def lines(self) -> int:
        """The lines it will write (rows + error items), for progress."""
        ...

    def batches(self) -> Iterator[Batch]:
        """The lines in order. The engine closes the iterator when it stops early (cancel,
        shutdown, a write error), so a generator can drop work it has in flight."""
        ...
