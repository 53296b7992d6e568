"""Find, tabulate and save through the widget's Python API and its messages, on real exports.

Messages are driven through the router as the browser would send them; what the widget
sends back (with buffers) is captured.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from export_widget.client import Client
from export_widget.inspect import find, labels_frame
from export_widget.widget import ExportWidget

from .test_widget import private_server


class Wire:
    """What the widget sent to the browser: (content, buffers) pairs."""

    def __init__(self, widget: ExportWidget) -> None:
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        widget.send = lambda content, buffers=None: self.sent.append(  # type: ignore[method-assign,assignment,misc]
            (content, list(buffers or [])))
        self.widget = widget

    def ask(self, **content: Any) -> dict[str, Any]:
        self.widget._on_custom(self.widget, content, [])
        found = [c for c, _b in self.sent if c.get("id") == content["id"]]
        assert len(found) == 1, found
        return found[0]

    def pushed(self, kind: str) -> list[tuple[dict[str, Any], list[bytes]]]:
        return [(c, b) for c, b in self.sent if c.get("type") == kind]


def until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout} s: {check}")


def project(widget: ExportWidget, name: str) -> str:
    return next(p["id"] for p in widget.catalog["projects"] if p["name"] == name)


@pytest.fixture(scope="module")
def exported(client: Client) -> ExportWidget:
    widget = ExportWidget(client)
    widget.start({"scope": "project", "target_id": project(widget, "Street Scenes Annotation"),
                  "params": {"label_details": True, "project_details": True}, "filters": {}})
    assert widget.wait(timeout=60)["state"] == "done"
    return widget


@pytest.fixture(scope="module")
def run_exported(client: Client) -> ExportWidget:
    widget = ExportWidget(client)
    run = next(r for r in widget.catalog["model_runs"] if r["name"] == "baseline-v1")
    widget.start({"scope": "model_run", "target_id": run["id"],
                  "params": {"predictions": True}, "filters": {}})
    assert widget.wait(timeout=60)["state"] == "done"
    return widget


def test_find_returns_line_numbers_or_a_frame(exported: ExportWidget) -> None:
    spool = exported.session.rows  # type: ignore[union-attr]
    assert exported.find("Reject") == find(spool, "reject") != []
    sql = "FROM annotations WHERE feature_name = 'car' AND area < 10000"
    lines = exported.find(sql=sql)
    assert lines == find(spool, sql=sql) != []
    frame = exported.find(sql=sql, as_frame=True)
    assert list(frame["line"]) == lines
    assert list(frame["data_row.global_key"]) == [exported.rows(n, n + 1)[0]["data_row"][
        "global_key"] for n in lines]


def test_labels_frame_is_the_table_of_the_spool(exported: ExportWidget) -> None:
    spool = exported.session.rows  # type: ignore[union-attr]
    for grain in ("label", "annotation", "classification"):
        pd.testing.assert_frame_equal(exported.labels_frame(grain),  # type: ignore[arg-type]
                                      labels_frame(spool, grain))  # type: ignore[arg-type]


def test_search_box_message_runs_a_search_and_pages_over_matches(exported: ExportWidget) -> None:
    wire = Wire(exported)
    reply = wire.ask(type="find", id="f1", kind="sql",
                     query="FROM labels WHERE workflow_status = 'DONE'")
    assert reply["ok"] and reply["search_id"]
    status = until(lambda: exported.search if exported.search["state"] == "done" else None)
    expected = exported.find(sql="FROM labels WHERE workflow_status = 'DONE'")
    assert status["matches"] == len(expected) and status["total"] == status["scanned"]
    page = wire.ask(type="match_page", id="m1", index=1, n=2)
    assert page["numbers"] == expected[1:3] and page["matches"] == len(expected)
    assert [exported.session.page("result", n, 1)[1][0] for n in page["numbers"]] == \
        page["lines"]  # type: ignore[union-attr]
    # Go to a line while matches are shown: the page starts at the first match from there.
    at = wire.ask(type="match_page", id="m2", line=expected[2] - 1, n=5)
    assert at["index"] == 2 and at["numbers"][0] == expected[2]
    wire.ask(type="find_clear", id="c1")
    assert exported.search["state"] == "idle"


def test_a_malformed_query_is_refused_with_its_reason(exported: ExportWidget) -> None:
    wire = Wire(exported)
    reply = wire.ask(type="find", id="f2", kind="sql", query="FROM labels WHERE (")
    assert reply == {"type": "find", "id": "f2", "ok": False, "search_id": "",
                     "message": 'sql: Parser Error: syntax error at or near "("'}
    reply = wire.ask(type="find", id="f3", kind="text", query="   ")
    assert reply["message"] == "text: must not be empty"


def test_matches_grow_while_the_export_streams(tmp_path_factory: pytest.TempPathFactory
                                               ) -> None:
    with private_server(tmp_path_factory.mktemp("grow"), rows=20_000) as srv, \
            Client(api_key=srv.api_key, endpoint=srv.endpoint) as client:
        widget = ExportWidget(client)
        wire = Wire(widget)
        seen: list[dict[str, Any]] = []
        widget.observe(lambda change: seen.append(change["new"]), names=["search"])
        widget.start({"scope": "project", "target_id": project(widget, "Large Image Project"),
                      "params": {}, "filters": {}})
        until(lambda: widget.session.rows.count > 0)  # type: ignore[union-attr]
        reply = wire.ask(type="find", id="g1", kind="text", query="large-00")
        assert reply["ok"]
        assert widget.wait(timeout=120)["state"] == "done"
        final = until(lambda: widget.search if widget.search["state"] == "done" else None)
        total = widget.session.rows.count  # type: ignore[union-attr]
        assert final["matches"] == final["scanned"] == total >= 20_000
        live = [s["matches"] for s in seen if s["state"] in ("running", "waiting")]
        assert any(0 < m < total for m in live), "no partial match count while streaming"
        assert [s["seq"] for s in seen] == sorted(s["seq"] for s in seen)


def test_table_pages_are_sorted_and_filtered_in_the_kernel(run_exported: ExportWidget
                                                           ) -> None:
    wire = Wire(run_exported)
    first = wire.ask(type="table_page", id="t0", grain="annotation", offset=0, n=10)
    assert first["state"] in ("building", "ready")
    page = until(lambda: (lambda p: p if p["state"] == "ready" else None)(
        wire.ask(type="table_page", id=f"t{time.monotonic()}", grain="annotation", n=10,
                 sort="area", descending=True, filters={"source": "prediction",
                                                        "area": ">= 1000"})))
    frame = run_exported.labels_frame("annotation")
    expected = frame[(frame["source"] == "prediction") & (frame["area"] >= 1000)]
    assert page["matched"] == len(expected) and page["total"] == len(frame)
    names = [c["name"] for c in page["columns"]]
    areas = [row[names.index("area")] for row in page["rows"]]
    assert areas == sorted(expected["area"], reverse=True)[:10]
    assert {c["name"]: c["type"] for c in page["columns"]}["created_at"] == "time"
    lines = [row[names.index("line")] for row in page["rows"]]
    assert all(run_exported.rows(n, n + 1) for n in lines)


def test_a_bad_table_filter_names_the_column_and_the_rule(run_exported: ExportWidget) -> None:
    wire = Wire(run_exported)
    until(lambda: wire.ask(type="table_page", id=f"b{time.monotonic()}", grain="label"
                           )["state"] == "ready")
    reply = wire.ask(type="table_page", id="b1", grain="label", filters={"line": "big"})
    assert reply == {"type": "error", "id": "b1", "message":
                     "ValueError: filters: line takes a number or a comparison such as "
                     "'< 20', got 'big'"}


def test_save_message_sends_the_file_in_pieces(exported: ExportWidget) -> None:
    wire = Wire(exported)
    reply = wire.ask(type="save", id="s1", what="rows", format="ndjson")
    assert reply["ok"] and reply["name"] == "export.ndjson"
    pieces = until(lambda: [p for p in wire.pushed("save_piece")
                            if p[0]["save_id"] == reply["save_id"]] or None)
    until(lambda: len(pieces) == pieces[0][0]["pieces"])
    data = b"".join(b[0] for _c, b in sorted(pieces, key=lambda p: p[0]["index"]))
    spool = exported.session.rows  # type: ignore[union-attr]
    assert data == spool.data_path.read_bytes()[:spool.size]
    refused = wire.ask(type="save", id="s2", what="table", format="coco")
    assert refused["message"] == "format: the table is saved as csv or parquet, got 'coco'"


def test_save_table_of_matches_as_parquet_download(exported: ExportWidget) -> None:
    wire = Wire(exported)
    exported.finder.clear()
    wire.ask(type="find", id="q", kind="text", query="IN_REWORK")
    until(lambda: exported.search["state"] == "done")
    reply = wire.ask(type="save", id="s3", what="table", format="parquet", grain="label",
                     only_matches=True)
    piece = until(lambda: [p for p in wire.pushed("save_piece")
                           if p[0]["save_id"] == reply["save_id"]] or None)
    assert piece[0][0]["pieces"] == 1 and piece[0][0]["mime"] == "application/vnd.apache.parquet"
    back = pd.read_parquet(io.BytesIO(piece[0][1][0]))
    assert len(back) and set(back["workflow_status"]) == {"IN_REWORK"}


def test_save_to_a_path_from_python(exported: ExportWidget, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    spool = exported.session.rows  # type: ignore[union-attr]
    assert exported.save(tmp_path / "rows.ndjson")["bytes"] == spool.size
    assert (tmp_path / "rows.ndjson").read_bytes() == spool.data_path.read_bytes()[:spool.size]
    summary = exported.save(tmp_path / "labels.coco.json")
    coco = COCO(str(tmp_path / "labels.coco.json"))
    assert summary["annotations"] == len(coco.getAnnIds()) > 0 and summary["masks_skipped"] == 0
    count = exported.save(tmp_path / "annotations.csv", what="table", grain="annotation")
    assert count["records"] == len(pd.read_csv(tmp_path / "annotations.csv"))
    with pytest.raises(ValueError, match="format: must be one of ndjson, csv, parquet, coco"):
        exported.save(tmp_path / "x.xlsx", format="xlsx")
