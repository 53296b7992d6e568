"""The widget's Python model without a kernel: real server, real client, real spool.

The custom-message handler is driven directly, with `send` captured, as the browser would.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from export_widget.client import (
    Client,
    JsonConverter,
    NetworkError,
    RetryPolicy,
    StreamType,
    validation,
)
from export_widget.client.task import ExportTask
from export_widget.export_request import ExportRequest
from export_widget.server.runner import LocalServer, start_local_server
from export_widget.session import ExportSession
from export_widget.widget import ExportWidget


class Recorder:
    """Captures what the widget sends to the browser, and every status it publishes."""

    def __init__(self, widget: ExportWidget) -> None:
        self.sent: list[dict[str, Any]] = []
        self.statuses: list[tuple[float, dict[str, Any]]] = []
        widget.send = self.sent.append  # type: ignore[method-assign,assignment]
        widget.observe(lambda ch: self.statuses.append((time.monotonic(), ch["new"])),
                       names=["status"])

    def reply(self, rid: str) -> dict[str, Any]:
        found = [m for m in self.sent if m.get("id") == rid]
        assert len(found) == 1, f"expected one reply to {rid}, got {found}"
        return found[0]


def private_server(directory: Path, rows: int = 0) -> LocalServer:
    return start_local_server(db_url=f"sqlite:///{directory / 'store.sqlite'}", demo=True,
                              rows=rows, data_dir=directory)


def message(widget: ExportWidget, **content: Any) -> None:
    widget._on_custom(widget, content, [])


@pytest.fixture
def widget(client: Client) -> ExportWidget:
    return ExportWidget(client)


def project_id(widget: ExportWidget, name_part: str = "") -> str:
    for p in widget.catalog["projects"]:
        if name_part.lower() in p["name"].lower():
            return str(p["id"])
    raise AssertionError(f"no project like {name_part!r} in {widget.catalog['projects']}")


def project_config(widget: ExportWidget, **extra: Any) -> dict[str, Any]:
    pid = project_id(widget, "street")
    return {"scope": "project", "target_id": pid, "params": {"label_details": True},
            "filters": {}, **extra}


def test_catalog_names_every_kind_of_export_target(widget):
    cat = widget.catalog
    assert "error" not in cat
    for key in ("projects", "datasets", "slices", "model_runs"):
        assert cat[key], f"catalog has no {key}"
        assert all(x["id"] and x["name"] for x in cat[key])
    assert all(r["model_name"] for r in cat["model_runs"])
    pid = project_id(widget, "street")
    assert [b["name"] for b in cat["batches"][pid]]
    assert cat["scopes"]["model_run"]["filters"] == []
    assert "workflow_status" in cat["scopes"]["project"]["filters"]
    assert cat["timezone"]


def test_validation_names_each_bad_field(widget):
    widget.config = {
        "scope": "project", "target_id": project_id(widget),
        "params": {"predictions": True},
        "filters": {"global_keys": [f"k{i}" for i in range(2001)],
                    "label_created_at": ["2024-13-01", None],
                    "workflow_status": "Finished"},
    }
    v = widget.validation
    assert set(v) == {"predictions", "global_keys", "label_created_at", "workflow_status"}
    assert v["global_keys"] == "global_keys: global_key filter only supports a max of 2000 items."
    assert v["label_created_at"].startswith("label_created_at: Incorrect format for: 2024-13-01.")
    assert v["predictions"].startswith("predictions: not a parameter of project exports")
    widget.config = project_config(widget)
    assert widget.validation == {}


def test_validation_asks_for_a_target_and_for_rows_to_export(widget):
    widget.config = {"scope": "dataset", "params": {}, "filters": {}}
    assert widget.validation == {"target_id": "target_id: choose a dataset to export"}
    widget.config = {"scope": "data_rows", "params": {}, "filters": {}}
    assert list(widget.validation) == ["data_row_ids"]
    widget.config = {"scope": "dataset", "target_id": widget.catalog["datasets"][0]["id"],
                     "params": {"project_ids": [f"p{i}" for i in range(31)]}, "filters": {}}
    assert widget.validation == {"project_ids": "project_ids: cannot exceed 30 items, got 31"}


def test_empty_lists_and_open_ranges_mean_no_filter(widget):
    widget.config = project_config(widget, filters={
        "global_keys": [], "batch_ids": [], "last_activity_at": [None, None],
        "label_created_at": ["", "2030-01-01"], "workflow_status": ""})
    assert widget.validation == {}
    assert widget.export_kwargs() == {
        "filters": {"label_created_at": [None, "2030-01-01"]}, "params": {"label_details": True}}


def test_start_message_runs_the_export_to_done_and_pages_come_from_the_spool(widget, client):
    rec = Recorder(widget)
    message(widget, type="start", id="s1", config=project_config(widget))
    assert rec.reply("s1") == {"type": "ack", "id": "s1", "action": "start", "ok": True,
                               "message": ""}
    final = widget.wait(timeout=60)
    assert final["state"] == "done"
    states = [s["state"] for _, s in rec.statuses]
    assert states[0] == "queued" and states[-1] == "done"
    assert final["percent"] == 100.0 and final["rows"] > 0 and final["bytes"] > 0
    task = widget.task
    assert task.status == "COMPLETE"
    assert final["rows"] == task.get_total_lines(StreamType.RESULT)
    # The spool holds exactly what the client streams.
    streamed = [o.json_str for o in task.get_stream(JsonConverter(), StreamType.RESULT)]
    assert widget.session is not None
    assert widget.session.rows.page(0, len(streamed) + 5) == streamed
    # A page request is answered from the spool, with the id echoed.
    message(widget, type="page", id="p1", stream="result", line=1, n=3)
    page = rec.reply("p1")
    assert page["total"] == final["rows"] and page["line"] == 1
    assert page["lines"] == streamed[1:4]
    message(widget, type="page", id="p2", stream="result", line=10_000, n=50)
    assert rec.reply("p2")["lines"] == []


def test_rows_and_dataframe_hold_the_exported_rows(widget):
    widget.start(project_config(widget))
    widget.wait(timeout=60)
    rows = widget.rows()
    assert len(rows) == widget.status["rows"]
    assert all(r["data_row"]["id"] for r in rows)
    assert widget.rows(1, 3) == rows[1:3]
    frame = widget.to_pandas()
    assert len(frame) == len(rows) and "data_row.id" in frame.columns


def test_export_kwargs_is_the_exact_export_call(widget, client):
    pid = project_id(widget, "street")
    widget.config = project_config(widget, filters={"workflow_status": "Done"})
    kwargs = widget.export_kwargs()
    assert kwargs == {"filters": {"workflow_status": "Done"}, "params": {"label_details": True}}
    assert widget.export_call() == (f"client.get_project({pid!r}).export(filters="
                                    "{'workflow_status': 'Done'}, params={'label_details': True})")
    direct = client.get_project(pid).export(**kwargs)
    direct.wait_till_done()
    widget.start()
    assert widget.wait(timeout=60)["rows"] == (direct.get_total_lines(StreamType.RESULT) or 0)


def test_a_click_on_export_runs_the_rules_once(widget, monkeypatch):
    """The form's edit validated the config; the start reuses that answer, so between the
    click and the mutation only the client's own check runs."""
    calls: list[str] = []
    real = validation.field_errors

    def counted(scope: str, params: Any, filters: Any) -> dict[str, str]:
        calls.append(scope)
        return real(scope, params, filters)

    monkeypatch.setattr(validation, "field_errors", counted)
    config = project_config(widget)
    widget.config = config  # the form commits as the user edits
    assert len(calls) == 1 and widget.validation == {}
    calls.clear()
    rec = Recorder(widget)
    message(widget, type="start", id="once", config=dict(config))
    assert rec.reply("once")["ok"] is True
    assert widget.wait(timeout=60)["state"] == "done"
    assert calls == ["project"]


def test_a_bad_start_is_refused_with_the_fields_named(widget):
    rec = Recorder(widget)
    bad = project_config(widget, filters={"data_row_ids": ["x"] * 2001})
    message(widget, type="start", id="s2", config=bad)
    reply = rec.reply("s2")
    assert reply["ok"] is False
    assert reply["message"] == "data_row_ids: data_row_id filter only supports a max of 2000 items."
    assert widget.session is None and widget.status["state"] == "idle"


@pytest.fixture(scope="module")
def big_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """A bigger workspace, so an export runs long enough to publish many snapshots."""
    with private_server(tmp_path_factory.mktemp("big"), rows=20_000) as big, \
            Client(api_key=big.api_key, endpoint=big.endpoint) as c:
        yield c


def test_status_updates_come_at_most_ten_a_second(big_client):
    widget = ExportWidget(big_client)
    rec = Recorder(widget)
    widget.start({"scope": "catalog", "params": {"data_row_details": True}, "filters": {}})
    final = widget.wait(timeout=120)
    assert final["state"] == "done" and final["rows"] >= 20_000
    # Each status carries its own time (elapsed_s, to 0.01 s): the observer's clock would
    # also count how late this thread got to see it.
    times = [s["elapsed_s"] for _, s in rec.statuses]
    assert len(times) >= 3
    gaps = [b - a for a, b in itertools.pairwise(times)]  # the final one included
    assert min(gaps) >= 0.09, f"status snapshots {min(gaps):.3f} s apart"
    seqs = [s["seq"] for _, s in rec.statuses]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # Rows were spooled, and pageable, while the export still ran.
    live = [s["rows"] for _, s in rec.statuses[:-1] if s["state"] == "streaming"]
    assert live and 0 < live[0] < final["rows"]


def cancel_on(widget: ExportWidget, states: set[str]) -> None:
    def handler(change: dict[str, Any]) -> None:
        if change["new"]["state"] in states and not widget.session.finished:  # type: ignore[union-attr]
            message(widget, type="cancel", id=f"c-{change['new']['seq']}")

    widget.observe(handler, names=["status"])


HEAVY_CATALOG_PARAMS = {"embeddings": True, "attachments": True, "metadata_fields": True,
                        "data_row_details": True}


def test_cancel_while_streaming_ends_cancelled_and_keeps_what_was_read(big_client):
    widget = ExportWidget(big_client)
    rec = Recorder(widget)
    cancel_on(widget, {"running", "streaming"})
    # Heavy rows, so the server is still building them when the cancel arrives (a bare
    # catalog export of 20,000 rows can finish on the server before the first snapshot).
    widget.start({"scope": "catalog", "params": HEAVY_CATALOG_PARAMS, "filters": {}})
    final = widget.wait(timeout=60)
    assert final["state"] == "cancelled"
    assert next(m["ok"] for m in rec.sent if m.get("action") == "cancel") is True
    assert final["message"].startswith("Cancelled;")
    assert widget.session is not None and final["rows"] == widget.session.rows.count
    assert final["rows"] < 20_000
    time.sleep(0.5)  # the reader has stopped: nothing more lands in the spool
    assert widget.session.rows.count == final["rows"]
    # The server stopped too, instead of building rows nobody reads.
    assert ExportTask.get_task(big_client, widget.task.uid).status == "CANCELED"


def test_resume_after_cancel_reads_the_rest_without_reading_rows_twice(big_client):
    widget = ExportWidget(big_client)
    rec = Recorder(widget)
    cancel_on(widget, {"streaming"})
    # Heavy rows keep the export running past the first snapshots (see above).
    widget.start({"scope": "catalog", "params": HEAVY_CATALOG_PARAMS, "filters": {}})
    cancelled = widget.wait(timeout=60)
    assert cancelled["state"] == "cancelled"
    kept = cancelled["rows"]
    widget.unobserve_all("status")
    widget.observe(lambda ch: rec.statuses.append((time.monotonic(), ch["new"])),
                   names=["status"])
    message(widget, type="resume", id="r1")
    assert rec.reply("r1")["ok"] is True
    final = widget.wait(timeout=60)
    assert final["state"] == "done"
    resumed = [s for _, s in rec.statuses if s["message"].startswith("Resuming")]
    assert resumed and resumed[0]["message"].endswith(f"at line {kept + 1:,}.")
    streamed = [o.json_str for o in widget.task.get_stream(JsonConverter(), StreamType.RESULT)]
    assert widget.session is not None
    assert widget.session.rows.page(0, len(streamed) + 1) == streamed
    message(widget, type="resume", id="r2")
    assert rec.reply("r2") == {"type": "ack", "id": "r2", "action": "resume", "ok": False,
                               "message": "the export is already done"}


def test_resume_without_an_export_is_refused(widget):
    rec = Recorder(widget)
    message(widget, type="resume", id="r0")
    assert rec.reply("r0")["message"] == "no export started"


def test_cancel_before_the_task_exists_ends_cancelled(widget):
    rec = Recorder(widget)
    cancel_on(widget, {"queued"})
    widget.start(project_config(widget))
    final = widget.wait(timeout=60)
    assert final["state"] == "cancelled" and final["rows"] == 0
    assert final["message"].endswith("was created, no rows were read.")
    message(widget, type="cancel", id="late")
    assert rec.reply("late") == {"type": "ack", "id": "late", "action": "cancel", "ok": False,
                                 "message": "No export is running."}


def test_a_cancel_once_the_export_has_ended_is_refused_not_lost(client):
    """The final status waits for its publish slot; a cancel in that wait is refused, so an
    accepted cancel always ends the export cancelled."""
    request = ExportRequest.from_config({"scope": "catalog", "params": {}, "filters": {}})
    session = ExportSession(client, request, publish_interval=5.0)
    session.start()
    deadline = time.monotonic() + 30

    def all_rows_spooled() -> bool:
        if session.task is None:
            return False
        task = ExportTask.get_task(client, session.task.uid)
        return task.status == "COMPLETE" and \
            session.rows.count == task.get_total_lines(StreamType.RESULT)

    while not all_rows_spooled():
        assert time.monotonic() < deadline, "the export did not end"
        time.sleep(0.05)
    time.sleep(0.5)  # the worker has decided "done" and waits for the 5 s slot
    assert session.status["state"] != "done"
    assert session.cancel() is False
    assert session.wait(timeout=30)["state"] == "done"
    session.close()


def test_a_second_start_while_running_is_refused(widget):
    rec = Recorder(widget)
    started = threading.Event()

    def try_again(change: dict[str, Any]) -> None:
        if change["new"]["state"] == "queued" and not started.is_set():
            started.set()
            message(widget, type="start", id="again", config=project_config(widget))

    widget.observe(try_again, names=["status"])
    widget.start(project_config(widget))
    widget.wait(timeout=60)
    assert rec.reply("again")["ok"] is False
    assert rec.reply("again")["message"] == "an export is running; cancel it first"


def test_a_failure_keeps_the_spooled_rows_says_why_and_can_resume(widget, monkeypatch):
    """The connection drops after five rows: the rows stay, the status says what happened."""
    real_open = ExportSession._open_stream

    def flaky(self: ExportSession, kind: str, live: bool, line: int = 0) -> Iterator[Any]:
        def lines() -> Iterator[Any]:
            for i, out in enumerate(real_open(self, kind, live, line)):
                if i == 5:
                    raise NetworkError("connection reset by peer")
                yield out
        return lines()

    monkeypatch.setattr(ExportSession, "_open_stream", flaky)
    widget.start({"scope": "catalog", "params": {}, "filters": {}})
    final = widget.wait(timeout=60)
    assert final["state"] == "failed"
    assert final["rows"] == 5 and len(widget.rows()) == 5
    assert final["message"] == "NetworkError: connection reset by peer. 5 rows kept."
    # The connection is back: resuming reads the rest, from line 6.
    monkeypatch.undo()
    widget.resume()
    assert widget.wait(timeout=60)["state"] == "done"
    streamed = [o.json_str for o in widget.task.get_stream(JsonConverter(), StreamType.RESULT)]
    assert widget.session is not None
    assert widget.session.rows.page(0, len(streamed) + 1) == streamed


def test_a_server_that_is_gone_fails_the_export_with_the_reason(tmp_path):
    srv = private_server(tmp_path)
    c = Client(api_key=srv.api_key, endpoint=srv.endpoint,
               retry=RetryPolicy(attempts=2, backoff=0.01))
    widget = ExportWidget(c)
    srv.stop()
    widget.start({"scope": "catalog", "params": {}, "filters": {}})
    final = widget.wait(timeout=60)
    assert final["state"] == "failed"
    assert final["message"].startswith("NetworkError: cannot reach")


def test_page_requests_are_bounded_and_name_bad_input(widget):
    rec = Recorder(widget)
    message(widget, type="page", id="e1", stream="result", line=0, n=5)
    assert rec.reply("e1")["lines"] == [] and rec.reply("e1")["total"] == 0
    message(widget, type="page", id="e2", stream="result", line="x", n=5)
    assert rec.reply("e2")["type"] == "error"
    message(widget, type="bogus", id="e3")
    assert rec.reply("e3") == {"type": "error", "id": "e3", "message": "type: unknown 'bogus'"}


def test_the_api_key_never_enters_a_trait(widget, server):
    state = widget.get_state()
    assert server.api_key not in repr({k: v for k, v in state.items()
                                       if k not in ("_esm", "_css")})


def scope_config(widget: ExportWidget, scope: str) -> dict[str, Any]:
    cat = widget.catalog
    first = {"project": cat["projects"], "dataset": cat["datasets"], "slice": cat["slices"],
             "model_run": cat["model_runs"]}
    config: dict[str, Any] = {"scope": scope, "params": {"data_row_details": True},
                              "filters": {}}
    if scope in first:
        config["target_id"] = first[scope][0]["id"]
    if scope == "model_run":
        config["params"] = {"predictions": True}
    if scope == "data_rows":
        config["filters"] = {"global_keys": ["street-0004.png", "street-0008.png"]}
    return config


@pytest.mark.parametrize("scope", ["project", "dataset", "catalog", "slice", "model_run",
                                   "data_rows"])
def test_every_scope_exports_what_the_client_exports(widget, scope):
    config = scope_config(widget, scope)
    widget.start(config)
    final = widget.wait(timeout=60)
    assert final["state"] == "done", final
    assert final["rows"] == (widget.task.get_total_lines(StreamType.RESULT) or 0)
    assert final["rows"] > 0
    if scope == "data_rows":
        assert sorted(r["data_row"]["global_key"] for r in widget.rows()) == [
            "street-0004.png", "street-0008.png"]


def test_an_unknown_global_key_gives_no_rows_and_one_error_line(widget):
    rec = Recorder(widget)
    widget.start(project_config(widget, filters={"global_keys": ["no-such-key"]}))
    final = widget.wait(timeout=60)
    assert final["state"] == "done" and final["rows"] == 0 and final["errors"] == 1
    assert final["message"] == "Exported 0 rows and 1 error."
    assert widget.rows() == []
    expected = [o.json_str for o in widget.task.get_stream(JsonConverter(), StreamType.ERRORS)]
    message(widget, type="page", id="err", stream="errors", line=0, n=50)
    reply = rec.reply("err")
    assert reply["total"] == 1 and reply["lines"] == expected
    assert "no-such-key" in reply["lines"][0]


def test_an_export_that_matches_nothing_is_done_with_no_rows(widget):
    widget.start(project_config(widget, filters={"last_activity_at": [None, "1990-01-01"]}))
    final = widget.wait(timeout=60)
    assert final["state"] == "done" and final["rows"] == 0 and final["errors"] == 0
    assert final["message"] == "Exported 0 rows."
    assert widget.rows() == []


def test_a_workspace_that_cannot_be_read_is_reported_in_the_catalog():
    class Unreachable:
        def get_projects(self) -> list[Any]:
            raise NetworkError("cannot reach http://127.0.0.1:9/graphql after 6 tries")

    widget = ExportWidget(Unreachable())
    assert widget.catalog["error"].startswith("NetworkError: cannot reach")
    assert widget.catalog["projects"] == [] and widget.catalog["scopes"]["project"]["params"]


def test_closing_the_widget_cancels_its_export(big_client):
    widget = ExportWidget(big_client)
    busy = ("running", "streaming")
    widget.observe(lambda ch: widget.close() if ch["new"]["state"] in busy else None,
                   names=["status"])
    widget.start({"scope": "catalog", "params": {}, "filters": {}})
    assert widget.session is not None
    final = widget.session.wait(timeout=60)
    assert final["state"] == "cancelled"


def spool_descriptors() -> list[str]:
    """Open descriptors of this process on spool files (deleted files included): exports
    spool into history entries (under EXPORT_WIDGET_HOME in tests), or temp spools."""
    home = os.environ.get("EXPORT_WIDGET_HOME", "//none")
    targets = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # the one listing the directory is gone already
            targets.append(os.readlink(fd))
    return [target for target in targets if "export-widget-spool-" in target
            or (target.startswith(home) and target.endswith((".ndjson", ".idx")))]


def test_a_widget_closes_the_spools_of_every_export_it_ran(client):
    before = len(spool_descriptors())
    widget = ExportWidget(client)
    config = project_config(widget)
    for _ in range(3):
        widget.start(config)
        assert widget.wait(timeout=60)["state"] == "done"
        # Only the latest export's spools (rows and errors: data and index each) stay open.
        assert len(spool_descriptors()) == before + 4
    entry = widget.entry
    widget.close()
    assert len(spool_descriptors()) == before
    # The files stay: the export is kept in the history, no longer locked by this widget.
    assert entry is not None and entry.directory.exists()
    assert widget.history_store.get(entry.id).state == "done"


def test_closing_from_a_status_observer_closes_the_spools_when_the_export_ends(big_client):
    before = len(spool_descriptors())
    widget = ExportWidget(big_client)
    widget.observe(lambda change: widget.close() if change["new"]["state"] == "streaming"
                   else None, names=["status"])
    widget.start({"scope": "catalog", "params": HEAVY_CATALOG_PARAMS, "filters": {}})
    assert widget.session is not None
    assert widget.session.wait(timeout=60)["state"] == "cancelled"
    assert len(spool_descriptors()) == before
