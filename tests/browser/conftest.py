"""JupyterLab 4 + Chromium: the widget as users get it, with a real kernel and comm.

A session-scoped Lab server runs on loopback with its config, runtime, settings and workspace
dirs isolated in a temp dir, serving a scratch copy of the test notebooks.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from chromium_support import need_chromium

ROOT = Path(__file__).parents[2]
ARTIFACTS = ROOT / "artifacts"
TOKEN = "export-widget-test"

SETUP_BIG = """\
import json, pathlib, tempfile
from export_widget import ExportWidget
from export_widget.client import Client
from export_widget.server.runner import start_local_server
d = pathlib.Path(tempfile.mkdtemp(dir="."))  # beside the notebook, in the test's temp dir
srv = start_local_server(db_url=f"sqlite:///{d / 'store.sqlite'}", demo=True, rows=3000, data_dir=d)
w = ExportWidget(Client(api_key=srv.api_key, endpoint=srv.endpoint))
w"""

REPORT = """\
print("KERNEL=" + json.dumps({
    "state": w.status["state"], "rows": w.status["rows"], "config": w.config,
    "kwargs": w.export_kwargs(), "validation": w.validation,
    "line900": w.rows(899, 900)[0]["data_row"]["id"] if w.status["rows"] >= 900 else None}))"""

SETUP_DEMO = """\
import json
from export_widget import ExportWidget
w = ExportWidget()
w"""

REPORT_DEMO = """print("KERNEL=" + json.dumps({"validation": w.validation, "config": w.config}))"""

REPORT_CODE = """\
print("KERNEL=" + json.dumps({"config": w.config, "code": w.code,
                             "run": w.catalog["model_runs"][0]["id"]}))"""
SETUP_PREVIEW = """\
import json, pathlib, tempfile
from export_widget import ExportWidget
from export_widget.client import Client
from export_widget.server.runner import start_local_server
d = pathlib.Path(tempfile.mkdtemp(dir="."))  # beside the notebook, in the test's temp dir
srv = start_local_server(db_url=f"sqlite:///{d / 'store.sqlite'}", demo=True, data_dir=d)
w = ExportWidget(Client(api_key=srv.api_key, endpoint=srv.endpoint))
w"""

REPORT_PREVIEW = """\
p = w.preview()
print("KERNEL=" + json.dumps({
    "state": w.status["state"], "selected": w.selected,
    "media_host": srv.endpoint.rsplit("/graphql", 1)[0],
    "row": w.rows(w.selected, w.selected + 1)[0] if w.selected is not None else None,
    "shapes": p["shapes"] if p else [], "media": p["media"] if p else None}))"""

SETUP_HISTORY = """\
import json, pathlib
from export_widget import ExportWidget
from export_widget.client import Client
from export_widget.server import store as tables
from export_widget.server.runner import start_local_server
home = pathlib.Path("history-home").resolve()  # beside the notebook, in the test's temp dir
srv = start_local_server(db_url=f"sqlite:///{home / 'store.sqlite'}", demo=True, data_dir=home)
w = ExportWidget(Client(api_key=srv.api_key, endpoint=srv.endpoint), history=home / "history")
pid = next(p["id"] for p in w.catalog["projects"] if p["name"] == "Street Scenes QA")
cfg = {"scope": "project", "target_id": pid,
       "params": {"project_details": True, "label_details": True}}
w.start(cfg); w.wait(60)
pr = tables.project_rows
with srv.parts.store.begin() as conn:  # between the two exports: a status moves, a row leaves
    pks = conn.execute(pr.select().where(pr.c.project_id == pid)).all()
    moved = next(r.data_row_pk for r in pks if r.workflow_status == "IN_REVIEW")
    gone = next(r.data_row_pk for r in pks if r.workflow_status == "TO_LABEL")
    conn.execute(pr.update().where(pr.c.project_id == pid, pr.c.data_row_pk == moved)
                 .values(workflow_status="DONE"))
    conn.execute(pr.delete().where(pr.c.project_id == pid, pr.c.data_row_pk == gone))
w.start(cfg); w.wait(60)
run = next(r["id"] for r in w.catalog["model_runs"] if r["name"] == "baseline-v1")
w.start({"scope": "model_run", "target_id": run, "params": {"predictions": True}}); w.wait(60)
w"""

REPORT_HISTORY = """\
print("KERNEL=" + json.dumps({"entry": w.entry.id if w.entry else None,
                              "state": w.status["state"], "rows": w.status["rows"],
                              "entries": list(w.history()["id"])}))"""
SETUP_INSPECT = """\
import hashlib, json, pathlib
from export_widget import ExportWidget
from export_widget.client import Client
from export_widget.server.runner import start_local_server
d = pathlib.Path("inspect-home").resolve()  # beside the notebook, in the test's temp dir
srv = start_local_server(db_url=f"sqlite:///{d / 'store.sqlite'}", demo=True, data_dir=d)
client = Client(api_key=srv.api_key, endpoint=srv.endpoint)
w = ExportWidget(client, history=d / "history")
pid = next(p["id"] for p in w.catalog["projects"] if p["name"] == "Street Scenes Annotation")
w.start({"scope": "project", "target_id": pid, "filters": {},
         "params": {"label_details": True, "project_details": True}})
w.wait(60)
w"""

REPORT_INSPECT = """\
SQL = "FROM labels WHERE workflow_status = 'DONE' AND created_by = 'labeler@example.com'"
spool = w.session.rows
cars = w.labels_frame("annotation").query("feature_name == 'car'")
cars = cars.sort_values("area", ascending=False, kind="stable")
print("KERNEL=" + json.dumps({
    "rows": w.status["rows"], "reject": w.find("reject"), "sql": w.find(sql=SQL),
    "labels": len(w.labels_frame("label")), "annotations": len(w.labels_frame("annotation")),
    "answers": len(w.labels_frame("classification")), "search": w.search,
    "top_car_line": int(cars["line"].iloc[0]),
    "sha256": hashlib.sha256(spool.data_path.read_bytes()[:spool.size]).hexdigest(),
    "coco": w.save(d / "check.coco.json")["annotations"]}))"""

SETUP_RUN = """\
w2 = ExportWidget(client, history=d / "history")
run = next(r for r in w2.catalog["model_runs"] if r["name"] == "baseline-v1")
w2.start({"scope": "model_run", "target_id": run["id"], "params": {"predictions": True},
          "filters": {}})
w2.wait(60)
w2"""

REPORT_RUN = """\
frame = w2.labels_frame("annotation")
picked = frame[(frame["source"] == "prediction") & (frame["feature_name"] == "car")]
picked = picked.sort_values("area", ascending=False, kind="stable")
print("KERNEL=" + json.dumps({"count": len(picked), "top_line": int(picked["line"].iloc[0]),
                              "rows": w2.status["rows"]}))"""

REPORT_STATE = """\
print("KERNEL=" + json.dumps({"state": w.status["state"], "rows": w.status["rows"]}))"""


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_chromium()
    base = tmp_path_factory.mktemp("lab")
    notebooks = base / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "export.ipynb", [SETUP_BIG, REPORT, "w"])
    write_notebook(notebooks / "validation.ipynb", [SETUP_DEMO, REPORT_DEMO])
    write_notebook(notebooks / "notebook7.ipynb", [SETUP_DEMO, REPORT_STATE])
    write_notebook(notebooks / "comfort.ipynb", [SETUP_DEMO, REPORT_CODE])
    write_notebook(notebooks / "preview.ipynb", [SETUP_PREVIEW, REPORT_PREVIEW])
    write_notebook(notebooks / "history.ipynb", [SETUP_HISTORY, REPORT_HISTORY])
    write_notebook(notebooks / "inspect.ipynb", [SETUP_INSPECT, REPORT_INSPECT, SETUP_RUN,
                                                 REPORT_RUN])
    settings = base / "settings"
    news = settings / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               PYTHONPATH=str(ROOT))
    port = _free_port()
    log = (base / "lab.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", "--allow-root", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={notebooks}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited: {(base / 'lab.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError("jupyter lab did not answer /api/status within 60 s")
        time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def lab_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    # Notebook 7.6 itself throws once on load ("reading 'schema'" in its own settings
    # code, with or without our widget): errors raised inside its bundle are not ours.
    page.on("pageerror", lambda e: None if "/static/notebook/" in (e.stack or "")
            else errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "export-widget" in m.text else None)
    ARTIFACTS.mkdir(exist_ok=True)
    yield page
    context.close()
    assert errors == [], f"errors in the page: {errors}"
