"""The history directory: entries with a manifest and spools, listing, retention, crashes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import orjson
import pytest

from export_widget.history import ENV_HOME, History, default_directory, parse_size
from export_widget.spool import Spool


def make_entry(history, n_rows, task_id=None, status="done", **fields):
    entry = history.create(task_id=task_id, scope="project", target_id="p1",
                           target_name="Street", export_call="client.get_project('p1')"
                           ".export(params={})", **fields)
    entry.rows.append(orjson.dumps({"i": i, "pad": "x" * 50}) for i in range(n_rows))
    entry.finish(status, f"Exported {n_rows} rows.")
    entry.release()
    return entry


def test_manifest_is_on_disk_before_the_first_row(tmp_path):
    history = History(tmp_path)
    entry = history.create(task_id="t1", scope="project", target_id="p1", target_name="P",
                           params={"label_details": True}, filters={"workflow_status": "Done"},
                           export_call="x", endpoint="http://127.0.0.1:1/graphql")
    manifest = orjson.loads((entry.directory / "manifest.json").read_bytes())
    assert manifest["status"] == "running" and manifest["rows"] == 0
    assert manifest["task_id"] == "t1" and manifest["params"] == {"label_details": True}
    assert manifest["started_at"].endswith("Z") and manifest["ended_at"] is None
    assert history.get(entry.id).state == "running"  # the writer holds the lock
    entry.rows.append([b'{"a":1}'])
    entry.finish("done", "ok")
    manifest = orjson.loads((entry.directory / "manifest.json").read_bytes())
    assert (manifest["status"], manifest["rows"], manifest["bytes"]) == ("done", 1, 8)
    assert manifest["ended_at"] is not None
    entry.release()
    assert history.get(entry.id).state == "done"


def test_directories_are_private_and_files_owner_only(tmp_path):
    history = History(tmp_path / "h")
    entry = make_entry(history, 3)
    assert stat.S_IMODE(history.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.directory.stat().st_mode) == 0o700
    for name in ("manifest.json", "rows.ndjson", "rows.idx"):
        assert stat.S_IMODE((entry.directory / name).stat().st_mode) == 0o600, name


def test_listed_newest_first_found_by_entry_or_task_id_and_deleted(tmp_path):
    history = History(tmp_path)
    first = make_entry(history, 5, task_id="task-a")
    time.sleep(0.01)
    second = make_entry(history, 7, task_id="task-b")
    assert [e.id for e in history.entries()] == [second.id, first.id]
    assert history.get("task-a").id == first.id and history.get(second.id).id == second.id
    assert [r["i"] for r in history.get("task-b").iter_rows()] == list(range(7))
    frame = history.frame()
    assert list(frame["task_id"]) == ["task-b", "task-a"] and list(frame["rows"]) == [7, 5]
    assert history.disk_usage() == sum(e.disk_bytes() for e in history.entries()) > 0
    history.delete("task-a")
    assert [e.id for e in history.entries()] == [second.id]
    assert not first.directory.exists()
    with pytest.raises(KeyError, match="no entry or task id 'task-a'"):
        history.get("task-a")


def test_a_running_entry_cannot_be_deleted(tmp_path):
    history = History(tmp_path)
    entry = history.create(task_id="t")
    with pytest.raises(RuntimeError, match="still running"):
        history.delete(entry.id)
    entry.release()


def test_retention_by_count_deletes_the_oldest(tmp_path):
    history = History(tmp_path, max_entries=2)
    made = []
    for n in range(4):
        made.append(make_entry(history, n + 1, task_id=f"t{n}"))
        time.sleep(0.01)
    deleted = history.apply_retention()
    assert deleted == [made[0].id, made[1].id]
    assert [e.task_id for e in history.entries()] == ["t3", "t2"]


def test_retention_by_bytes_deletes_the_oldest_until_under_the_limit(tmp_path):
    sizer = History(tmp_path / "probe")
    one = make_entry(sizer, 100).disk_bytes()
    history = History(tmp_path / "h", max_bytes=int(one * 2.5))
    for n in range(4):
        make_entry(history, 100, task_id=f"t{n}")
        time.sleep(0.01)
    history.apply_retention()
    assert [e.task_id for e in history.entries()] == ["t3", "t2"]
    assert history.disk_usage() <= int(one * 2.5)


def test_retention_never_deletes_a_running_entry_or_the_one_kept(tmp_path):
    history = History(tmp_path, max_entries=1)
    running = history.create(task_id="running")
    time.sleep(0.01)
    newest = make_entry(history, 1, task_id="new")
    assert history.apply_retention(keep=newest) == []
    running.release()
    assert history.apply_retention(keep=newest) == [running.id]


def test_limits_and_directory_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "home"))
    monkeypatch.setenv("EXPORT_WIDGET_HISTORY_MAX_ENTRIES", "3")
    monkeypatch.setenv("EXPORT_WIDGET_HISTORY_MAX_BYTES", "2GiB")
    assert default_directory() == tmp_path / "home" / "history"
    history = History()
    assert history.directory == tmp_path / "home" / "history"
    assert (history.max_entries, history.max_bytes) == (3, 2 * 1024**3)
    monkeypatch.delenv(ENV_HOME)
    assert default_directory().parts[-2:] == ("export-widget", "history")


def test_bad_limits_are_named(tmp_path):
    with pytest.raises(ValueError, match="max_bytes: a number of bytes like 500MB"):
        parse_size("lots", "max_bytes")
    with pytest.raises(ValueError, match="max_entries: must be 1 or more"):
        History(tmp_path / "never", max_entries=0)
    assert not (tmp_path / "never").exists()
    assert parse_size("1.5 GB", "x") == 1_500_000_000 and parse_size(10, "x") == 10


WRITER = textwrap.dedent("""
    import sys, time, orjson
    from export_widget.history import History
    entry = History(sys.argv[1]).create(task_id="killed", scope="project")
    entry.rows.append(orjson.dumps({"i": i}) for i in range(120))
    entry.checkpoint(force=True)
    # A torn write, as a kill between the data and the index write would leave it.
    with open(entry.directory / "rows.ndjson", "ab") as fh:
        fh.write(b'{"i": 120, "half')
    print("ready", flush=True)
    time.sleep(60)
""")


def test_an_entry_whose_writer_was_killed_is_incomplete_with_its_whole_rows(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        history = History(tmp_path)
        assert history.get("killed").state == "running"  # the writer is alive
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
    entry = History(tmp_path).get("killed")
    summary = entry.summary()
    assert (summary["state"], summary["rows"]) == ("incomplete", 120)
    assert [r["i"] for r in entry.iter_rows()] == list(range(120))
    # The new writer cuts the torn line before it appends.
    entry.acquire()
    entry.reopen_for_resume()
    entry.rows.append([b'{"i": 120}'])
    entry.finish("done")
    entry.release()
    raw = (entry.directory / "rows.ndjson").read_bytes()
    assert [orjson.loads(x)["i"] for x in raw.splitlines()] == list(range(121))
    assert History(tmp_path).get("killed").state == "done"


def test_a_second_writer_is_refused(tmp_path):
    history = History(tmp_path)
    entry = history.create(task_id="t")
    with pytest.raises(RuntimeError, match="another process is writing it"):
        History(tmp_path).get(entry.id).acquire()
    entry.release()
    History(tmp_path).get(entry.id).acquire().release()


def test_existing_spool_modes(tmp_path):
    with Spool(tmp_path, name="rows") as spool:
        spool.append([b"a", b"b"])
    with Spool(tmp_path, name="rows", existing="read") as reader:
        assert reader.page(0, 5) == ["a", "b"]
        with pytest.raises(ValueError, match="read-only"):
            reader.append([b"c"])
    with Spool(tmp_path, name="rows", existing="append") as again:
        again.append([b"c"])
        assert again.page(0, 5) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="existing: must be None, 'read' or 'append'"):
        Spool(tmp_path, existing="write")
    assert os.path.getsize(tmp_path / "rows.idx") == 24
