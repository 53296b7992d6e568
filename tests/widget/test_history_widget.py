"""The widget's history: every export kept on disk, reopened in a fresh kernel, cut off by a
killed kernel and resumed, attached to by task id, listed, compared and deleted from the panel.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from export_widget.client import Client, JsonConverter, StreamType
from export_widget.history import History
from export_widget.server import store as tables
from export_widget.server.runner import LocalServer, start_local_server
from export_widget.widget import ExportWidget


def message(widget: ExportWidget, **content: Any) -> dict[str, Any]:
    sent: list[dict[str, Any]] = []
    widget.send = sent.append  # type: ignore[method-assign,assignment]
    widget._on_custom(widget, content, [])
    assert len(sent) == 1, sent
    return sent[0]


def raw_lines(entry: Any) -> list[bytes]:
    return list(entry.rows.iter_bytes())


def server_lines(client: Client, task_id: str) -> list[str]:
    from export_widget.client.task import ExportTask

    task = ExportTask.get_task(client, task_id)
    return [o.json_str for o in task.get_stream(JsonConverter(), StreamType.RESULT)]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A workspace big enough that an export is still running a few seconds in."""
    directory: Path = tmp_path_factory.mktemp("history-big")
    with start_local_server(db_url=f"sqlite:///{directory / 'store.sqlite'}", demo=True,
                            rows=20_000, data_dir=directory) as srv:
        yield srv


@pytest.fixture(scope="module")
def big_client(big: LocalServer) -> Iterator[Client]:
    with Client(api_key=big.api_key, endpoint=big.endpoint) as c:
        yield c


@pytest.fixture
def client(server: Any) -> Iterator[Client]:
    with Client(api_key=server.api_key, endpoint=server.endpoint) as c:
        yield c


def target(widget: ExportWidget, kind: str, name: str) -> str:
    return next(str(x["id"]) for x in widget.catalog[kind] if x["name"] == name)


def street(widget: ExportWidget) -> dict[str, Any]:
    return {"scope": "project", "target_id": target(widget, "projects", "Street Scenes QA"),
            "params": {"label_details": True, "project_details": True}, "filters": {}}


# -- kept, listed, reopened -------------------------------------------------------------


def test_an_export_is_kept_with_its_manifest(client, tmp_path):
    widget = ExportWidget(client, history=tmp_path)
    widget.start(street(widget))
    final = widget.wait(60)
    entry = widget.entry
    assert entry is not None and final["state"] == "done"
    m = orjson.loads((entry.directory / "manifest.json").read_bytes())
    assert m["task_id"] == final["task_id"] and m["status"] == "done"
    assert (m["rows"], m["bytes"]) == (final["rows"], final["bytes"])
    assert m["scope"] == "project" and m["target_name"] == "Street Scenes QA"
    assert m["endpoint"] == client.endpoint and m["params"] == {"label_details": True,
                                                                "project_details": True}
    assert m["export_call"] == (f"client.get_project({m['target_id']!r}).export("
                                "params={'label_details': True, 'project_details': True})")
    assert m["ended_at"] >= m["started_at"]
    lines = [x.decode() for x in raw_lines(entry)]
    assert lines == server_lines(client, final["task_id"])
    frame = ExportWidget.history(tmp_path)
    assert list(frame["task_id"]) == [final["task_id"]] and list(frame["state"]) == ["done"]
    assert widget.history().equals(frame)


REOPEN = textwrap.dedent("""
    import hashlib, json, sys
    from export_widget.client import Client
    from export_widget.widget import ExportWidget
    endpoint, key, directory, task_id = sys.argv[1:5]
    w = ExportWidget(Client(api_key=key, endpoint=endpoint), history=directory)
    entry = w.reopen(task_id)
    total, lines = w.session.page("result", 0, 10_000)
    digest = hashlib.sha256("\\n".join(lines).encode()).hexdigest()
    print(json.dumps({"entry": entry.id, "total": total, "sha": digest,
                      "state": w.status["state"], "rows": len(w.rows())}))
""")


def test_reopened_in_a_fresh_kernel_the_rows_are_byte_identical(server, client, tmp_path):
    widget = ExportWidget(client, history=tmp_path)
    widget.start(street(widget))
    final = widget.wait(60)
    widget.close()
    expected = server_lines(client, final["task_id"])
    done = subprocess.run([sys.executable, "-c", REOPEN, server.endpoint, server.api_key,
                           str(tmp_path), final["task_id"]],
                          capture_output=True, text=True, timeout=120, check=True)
    report = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert report["total"] == report["rows"] == len(expected) == final["rows"]
    assert report["sha"] == hashlib.sha256("\n".join(expected).encode()).hexdigest()
    assert report["state"] == "done"


def test_reopen_shows_the_entry_in_the_viewer_and_rows(client, tmp_path):
    widget = ExportWidget(client, history=tmp_path)
    widget.start(street(widget))
    first = widget.wait(60)
    first_entry = widget.entry
    widget.start({**street(widget), "params": {}})
    widget.wait(60)
    statuses: list[dict[str, Any]] = []
    widget.observe(lambda ch: statuses.append(ch["new"]), names=["status"])
    assert first_entry is not None
    widget.reopen(first["task_id"])
    assert widget.entry is not None and widget.entry.id == first_entry.id
    assert [s["state"] for s in statuses] == ["queued", "done"]  # the viewer starts over
    assert statuses[-1]["rows"] == first["rows"] and "Opened from history" in \
        statuses[-1]["message"]
    reply = message(widget, type="page", id="p1", stream="result", line=0, n=5)
    assert reply["total"] == first["rows"]
    assert reply["lines"] == [x.decode() for x in raw_lines(first_entry)[:5]]
    assert widget.rows(0, 1)[0]["data_row"]["id"] == orjson.loads(reply["lines"][0])[
        "data_row"]["id"]
    with pytest.raises(KeyError, match="no entry or task id 'nope'"):
        widget.reopen("nope")


def test_retention_deletes_the_oldest_entry(client, tmp_path):
    widget = ExportWidget(client, history=History(tmp_path, max_entries=2))
    tasks = []
    for _ in range(3):
        widget.start({**street(widget), "params": {}})
        tasks.append(widget.wait(60)["task_id"])
    assert list(widget.history()["task_id"]) == [tasks[2], tasks[1]]


# -- cut off by a killed kernel, then resumed ---------------------------------------------

KERNEL = textwrap.dedent("""
    import sys, time
    from export_widget.client import Client
    from export_widget.widget import ExportWidget
    endpoint, key, directory = sys.argv[1:4]
    w = ExportWidget(Client(api_key=key, endpoint=endpoint), history=directory)
    project = next(p["id"] for p in w.catalog["projects"] if p["name"] == "Large Image Project")
    w.start({"scope": "project", "target_id": project, "params": {"label_details": True}})
    while True:
        print(w.status["state"], w.status["rows"], w.status["task_id"], flush=True)
        time.sleep(0.05)
""")


def test_a_killed_kernel_leaves_an_incomplete_entry_that_resumes_to_the_full_rows(
        big, big_client, tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", KERNEL, big.endpoint, big.api_key,
                             str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            state, rows, task_id = line.split()
            if int(rows) >= 1500:
                break
            assert state not in ("done", "failed"), line
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
    history = History(tmp_path)
    entry = history.get(task_id)
    summary = entry.summary()
    assert summary["state"] == "incomplete" and summary["rows"] >= 1500
    assert list(ExportWidget.history(tmp_path)["state"]) == ["incomplete"]

    widget = ExportWidget(big_client, history=tmp_path)
    widget.reopen(task_id)
    assert widget.status["state"] == "failed"
    assert widget.status["message"].startswith("Incomplete: this export was cut off after")
    reply = message(widget, type="resume", id="r1")
    assert reply["ok"] is True, reply
    final = widget.wait(120)
    assert final["state"] == "done", final
    expected = server_lines(big_client, task_id)
    kept = [x.decode() for x in raw_lines(History(tmp_path).get(task_id))]
    assert len(kept) == len(expected) == final["rows"]
    assert kept == expected  # no line twice, none missing, same order
    assert History(tmp_path).get(task_id).state == "done"


def test_resume_of_an_entry_whose_task_the_server_lost_says_so(client, tmp_path):
    history = History(tmp_path)
    entry = history.create(task_id="cgone000000000000000000000", endpoint=client.endpoint,
                           scope="project", target_id="x")
    entry.release()  # as a killed kernel would leave it
    widget = ExportWidget(client, history=history)
    widget.reopen(entry.id)
    reply = message(widget, type="resume", id="r1")
    assert reply["ok"] is False
    assert "the server no longer has it" in reply["message"]


# -- attach by task id --------------------------------------------------------------------


def test_attach_to_a_running_task_started_with_the_official_sdk(big, big_client, tmp_path):
    import labelbox

    lb = labelbox.Client(api_key=big.api_key, endpoint=big.endpoint,
                         rest_endpoint=big.rest_endpoint)
    project = next(p for p in lb.get_projects() if p.name == "Large Image Project")
    task = project.export(params={"label_details": True, "data_row_details": True})
    widget = ExportWidget.attach(task.uid, big_client, history=tmp_path)
    seen: list[dict[str, Any]] = []
    widget.observe(lambda ch: seen.append(ch["new"]), names=["status"])
    final = widget.wait(120)
    assert final["state"] == "done", final
    assert any(s["state"] == "streaming" and s["rows"] < final["rows"] for s in seen), \
        "rows should arrive while the task runs"
    task.wait_till_done()
    expected = [orjson.dumps(o.json) for o in task.get_buffered_stream()]
    kept = raw_lines(widget.entry)
    assert len(kept) == len(expected) == final["rows"]
    assert [orjson.loads(x) for x in kept] == [orjson.loads(x) for x in expected]
    m = widget.entry.manifest if widget.entry else {}
    assert m["origin"] == "attach" and m["task_id"] == task.uid
    assert m["scope"] == "project" and m["target_name"] == "Large Image Project"


def test_attach_refuses_unknown_failed_and_foreign_tasks_with_a_clear_message(
        server, client, tmp_path):
    widget = ExportWidget(client, history=tmp_path)
    reply = message(widget, type="attach", id="a1", task_id="cnosuchtask000000000000000")
    assert reply["ok"] is False
    assert reply["message"].startswith("task_id: no task 'cnosuchtask000000000000000' on ")
    reply = message(widget, type="attach", id="a2", task_id="  ")
    assert reply["message"] == "task_id: paste the id of an export task"
    from export_widget.server import tasks as task_tables
    from export_widget.server.workspace import Workspace

    # Tasks are per user: these two belong to the API key's user, as its own exports do.
    owner = Workspace(server.parts.store).user()["id"]  # the server key is the owner's
    with server.parts.store.begin() as conn:
        for uid, kind, status in (("cfailed00000000000000000000", "export-data-rows",
                                   "FAILED"),
                                  ("cimport00000000000000000000", "bulk-import", "COMPLETE")):
            conn.execute(task_tables.export_tasks.insert().values(
                id=uid, name=None, status=status, completion_percentage=0.0, created_at=1,
                updated_at=1, type=kind, metadata="{}", created_by=owner,
                organization_id=None, scope="project", target_id=None, project_id=None,
                input="{}", failure_reason="disk full" if status == "FAILED" else None,
                result_size=0, result_lines=0, errors_size=0, errors_lines=0))
    reply = message(widget, type="attach", id="a3", task_id="cfailed00000000000000000000")
    assert reply["ok"] is False and "failed on the server: disk full" in reply["message"]
    reply = message(widget, type="attach", id="a4", task_id="cimport00000000000000000000")
    assert reply["ok"] is False and "is a 'bulk-import' task, not an export" in reply["message"]
    assert History(tmp_path).entries() == []  # nothing half-made was left behind


# -- the panel's messages -------------------------------------------------------------------


def test_panel_lists_compares_opens_and_deletes(server, client, tmp_path):
    widget = ExportWidget(client, history=tmp_path)
    config = street(widget)
    widget.start(config)
    a = widget.wait(60)
    pr = tables.project_rows
    with server.parts.store.begin() as conn:
        row = conn.execute(sa.select(pr.c.data_row_pk).where(
            pr.c.project_id == config["target_id"], pr.c.workflow_status == "IN_REVIEW")
        ).scalars().first()
        conn.execute(pr.update().where(pr.c.project_id == config["target_id"],
                                       pr.c.data_row_pk == row).values(workflow_status="DONE"))
    try:
        widget.start(config)
        b = widget.wait(60)
    finally:
        with server.parts.store.begin() as conn:
            conn.execute(pr.update().where(pr.c.project_id == config["target_id"],
                                           pr.c.data_row_pk == row)
                         .values(workflow_status="IN_REVIEW"))
    listed = message(widget, type="history_list", id="h1")
    entries = listed["entries"]
    assert [e["task_id"] for e in entries] == [b["task_id"], a["task_id"]]
    assert listed["current"] == entries[0]["id"] and listed["disk_bytes"] > 0
    ida, idb = entries[1]["id"], entries[0]["id"]

    summary = message(widget, type="compare", id="c1", a=ida, b=idb)["summary"]
    assert {k: v for k, v in summary["counts"].items() if v} == {"workflow_status": 1}
    assert summary["changed_rows"] == 1 and summary["rows_a"] == summary["rows_b"] == a["rows"]
    page = message(widget, type="compare_page", id="c2", a=ida, b=idb, kind=None, line=0, n=25)
    assert page["total"] == 1 and page["rows"][0]["status"] == "changed"
    key = page["rows"][0]["key"]
    none = message(widget, type="compare_page", id="c3", a=ida, b=idb, kind="metadata",
                   line=0, n=25)
    assert none["total"] == 0
    detail = message(widget, type="compare_row", id="c4", a=ida, b=idb, key=key)
    assert [(c["kind"], c["before"], c["after"]) for c in detail["changes"]] == [
        ("workflow_status", "IN_REVIEW", "DONE")]
    assert orjson.loads(detail["row_a"])["data_row"]["id"] == key
    assert orjson.loads(detail["row_b"])["data_row"]["id"] == key
    same = message(widget, type="compare", id="c5", a=ida, b=ida)
    assert same["type"] == "error" and "pick another export" in same["message"]

    opened = message(widget, type="history_open", id="o1", entry=ida)
    assert opened["ok"] is True and widget.entry is not None and widget.entry.id == ida
    deleted = message(widget, type="history_delete", id="d1", entry=idb)
    assert deleted["ok"] is True
    assert [e["id"] for e in message(widget, type="history_list", id="h2")["entries"]] == [ida]
    gone = message(widget, type="history_open", id="o2", entry=idb)
    assert gone["ok"] is False and "no entry or task id" in gone["message"]


def test_panel_metrics_of_a_model_run_export(client, tmp_path):
    widget = ExportWidget(client, history=tmp_path)
    run = next(r for r in widget.catalog["model_runs"] if r["name"] == "baseline-v1")
    widget.start({"scope": "model_run", "target_id": run["id"],
                  "params": {"predictions": True}, "filters": {}})
    assert widget.wait(60)["state"] == "done"
    assert widget.entry is not None
    reply = message(widget, type="metrics", id="m1", entry=widget.entry.id, iou=0.5)
    assert reply["type"] == "metrics", reply
    features = {f["feature"]: f for f in reply["features"]}
    direct = widget.model_run_metrics(widget.entry.id, iou=0.5).features.set_index("feature")
    assert set(features) == set(direct.index) == {"car", "road", "sky"}
    for name, f in features.items():
        assert (f["tp"], f["fp"], f["fn"]) == tuple(int(direct.loc[name, k])
                                                    for k in ("tp", "fp", "fn"))
    c = reply["confusion"]
    assert len(c["counts"]) == len(c["truth"]) and all(len(r) == len(c["predicted"])
                                                       for r in c["counts"])
    assert reply["skipped"] > 0  # points and lines
