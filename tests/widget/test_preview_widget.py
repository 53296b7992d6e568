"""The preview from Python: `select`, `preview`, and the browser's select/preview messages,
against the real demo server, without a kernel."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from export_widget.client import Client
from export_widget.inspect import shapes_of
from export_widget.widget import ExportWidget


class Sent:
    """What the widget sends to the browser, with the buffers of each message."""

    def __init__(self, widget: ExportWidget) -> None:
        self.messages: list[tuple[dict[str, Any], list[bytes]]] = []
        widget.send = self.record  # type: ignore[method-assign,assignment]

    def record(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        self.messages.append((content, list(buffers or [])))

    def wait_for(self, rid: str, timeout: float = 30) -> tuple[dict[str, Any], list[bytes]]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = [m for m in self.messages if m[0].get("id") == rid]
            if found:
                assert len(found) == 1
                return found[0]
            time.sleep(0.01)
        raise AssertionError(f"no reply to {rid}: {[m[0] for m in self.messages]}")


@pytest.fixture(scope="module")
def exported(client: Client) -> Iterator[ExportWidget]:
    """A widget that exported the street project with label details."""
    w = ExportWidget(client)
    pid = next(p["id"] for p in w.catalog["projects"] if p["name"] == "Street Scenes Annotation")
    w.start({"scope": "project", "target_id": pid, "params": {"label_details": True},
             "filters": {}})
    assert w.wait(120)["state"] == "done"
    yield w
    w.close()


def message(widget: ExportWidget, **content: Any) -> None:
    widget._on_custom(widget, content, [])


def labeled_line(widget: ExportWidget) -> int:
    return next(n for n, r in enumerate(widget.rows())
                if any(p["labels"] for p in r["projects"].values()))


def test_select_sets_the_line_and_refuses_lines_that_are_not_there(exported):
    exported.select(3)
    assert exported.selected == 3
    count = len(exported.rows())
    with pytest.raises(ValueError, match=rf"line: must be between 0 and {count - 1}, got {count}"):
        exported.select(count)
    with pytest.raises(ValueError, match="line: must be between 0"):
        exported.select(-1)
    assert exported.selected == 3


def test_select_before_any_export_says_there_are_no_rows(client):
    w = ExportWidget(client)
    with pytest.raises(ValueError, match="line: there are no rows yet, got 0"):
        w.select(0)
    assert w.preview() is None
    w.close()


def test_a_select_message_moves_the_selection_and_names_bad_input(exported):
    sent = Sent(exported)
    message(exported, type="select", id="s1", line=5)
    assert sent.messages[-1][0] == {"type": "select", "id": "s1", "line": 5, "ok": True,
                                    "message": ""}
    assert exported.selected == 5
    message(exported, type="select", id="s2", line=10_000)
    reply = sent.messages[-1][0]
    assert reply["ok"] is False and reply["line"] == 5
    assert reply["message"].startswith("line: must be between 0 and ")
    message(exported, type="select", id="s3", line="two")
    assert sent.messages[-1][0] == {"type": "error", "id": "s3",
                                    "message": "ValueError: line: must be an integer, got 'two'"}


def test_preview_returns_what_is_drawn_with_the_media_facts(exported):
    line = labeled_line(exported)
    preview = exported.preview(line)
    assert preview is not None
    row = exported.rows(line, line + 1)[0]
    assert preview["shapes"] == shapes_of(row)["shapes"]  # no predictions: no mask IoU added
    assert preview["line"] == line and preview["media"]["error"] is None
    kinds = {s["kind"] for s in preview["shapes"]}
    assert kinds == {"bounding_box", "polygon", "polyline", "point", "mask", "relationship"}
    assert all(s["name"] and s["feature"] and s["layer"] and "coordinates" in s
               for s in preview["shapes"])
    exported.select(line)
    assert exported.preview() == preview


def test_a_preview_message_is_answered_by_the_worker_with_the_media_as_buffers(exported):
    line = labeled_line(exported)
    sent = Sent(exported)
    message(exported, type="preview", id="p1", line=line)
    reply, buffers = sent.wait_for("p1")
    assert reply["type"] == "preview" and reply["line"] == line and reply["message"] == ""
    assert reply["preview"] == exported.preview(line)  # Python and the browser agree
    parts = reply["preview"]["media"]["parts"]
    assert [p["index"] for p in parts] == list(range(len(buffers)))
    image = Image.open(io.BytesIO(buffers[0]))
    assert image.size == (reply["preview"]["width"], reply["preview"]["height"])


def test_a_preview_of_a_line_past_the_end_says_so(exported):
    sent = Sent(exported)
    message(exported, type="preview", id="p2", line=9_999)
    reply, buffers = sent.wait_for("p2")
    assert reply["preview"] is None and buffers == []
    assert reply["message"] == "Line 10000 has no row (yet)."


def test_paging_fast_answers_the_newest_request(exported):
    sent = Sent(exported)
    for n in range(8):
        message(exported, type="preview", id=f"fast{n}", line=n)
    reply, _ = sent.wait_for("fast7")
    assert reply["line"] == 7
    answered = [m[0]["id"] for m in sent.messages if m[0].get("type") == "preview"]
    assert answered[-1] == "fast7" and len(answered) <= 8


def test_a_new_export_clears_the_selection(client):
    w = ExportWidget(client)
    pid = next(p["id"] for p in w.catalog["projects"] if p["name"] == "News NER")
    config = {"scope": "project", "target_id": pid, "params": {}, "filters": {}}
    w.start(config)
    w.wait(120)
    w.select(2)
    w.start(config)
    assert w.selected is None
    w.wait(120)
    w.close()
