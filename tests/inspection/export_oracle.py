"""A plain-Python reading of export rows, written independently of the SQL, to check it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from export_widget.spool import Spool

Row = dict[str, Any]


@dataclass
class Export:
    """One finished export: its spool, the bytes the server sent, and the parsed rows."""

    spool: Spool
    sent: bytes
    rows: list[Row]

ANSWER_KEYS = (("radio_answer", "radio"), ("conversational_radio_answer", "radio"),
               ("checklist_answers", "checklist"),
               ("conversational_checklist_answers", "checklist"),
               ("text_answer", "text"), ("conversational_text_answer", "text"))


def labels(rows: list[Row]) -> Iterator[tuple[int, str, str, Row, Row]]:
    """(line, source, project or run id, project or run entry, label) in export order."""
    for line, row in enumerate(rows):
        for pid, project in (row.get("projects") or {}).items():
            for label in project["labels"]:
                yield line, "project", pid, project, label
        for model in (row.get("experiments") or {}).values():
            for rid, run in model["runs"].items():
                for label in run.get("labels", []):
                    yield line, "ground_truth", rid, run, label
                for label in run.get("predictions", []):
                    yield line, "prediction", rid, run, label


def objects(annotations: Row) -> list[tuple[int | None, Row]]:
    out: list[tuple[int | None, Row]] = [(None, o) for o in annotations.get("objects", [])]
    for frame, entry in (annotations.get("frames") or {}).items():
        out += [(int(frame), o) for o in entry["objects"].values()]
    return out


def answers(annotations: Row) -> list[tuple[str, str, str | None]]:
    """(classification name, answer, parent feature id) for every answer, nested included."""
    out: list[tuple[str, str, str | None]] = []

    def visit(c: Row, parent: str | None) -> None:
        for key, kind in ANSWER_KEYS:
            value = c.get(key)
            if value is None:
                continue
            if kind == "text":
                out.append((c["name"], value["content"], parent))
                continue
            for a in value if kind == "checklist" else [value]:
                out.append((c["name"], a["name"], parent))
                for nested in a.get("classifications", []):
                    visit(nested, a["feature_id"])

    roots: list[tuple[Row, str | None]] = [(c, None) for c in
                                           annotations.get("classifications", [])]
    for entry in (annotations.get("frames") or {}).values():
        roots += [(c, None) for c in entry.get("classifications", [])]
    for _frame, o in objects(annotations):
        roots += [(c, o["feature_id"]) for c in o.get("classifications", [])]
    for c, parent in roots:
        visit(c, parent)
    return out
