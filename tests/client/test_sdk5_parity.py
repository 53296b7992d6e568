"""`with_line` gives what labelbox 5.2.1 (the last SDK with `get_stream`) gives, on the wire too.

5.2.1 lives in its own venv (`.venv-sdk5`, made by scripts/setup.sh); it runs in a subprocess
against a recording proxy in front of the shared server.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from export_widget.client import Client, ExportTask, StreamType
from export_widget.server.runner import LocalServer

from .conftest import finish
from .recording_proxy import Call, RecordingProxy

SDK5_PYTHON = Path(__file__).resolve().parents[2] / ".venv-sdk5" / "bin" / "python"

SDK5_READ = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import labelbox as lb
key, endpoint, task_id, line = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = lb.Client(api_key=key, endpoint=endpoint,
                   rest_endpoint=endpoint.rsplit("/", 1)[0] + "/api/v1")
task = lb.ExportTask.get_task(client, task_id)
out = [{"line": o.current_line, "json": json.loads(o.json_str)}
       for o in task.get_stream(lb.JsonConverter()).with_line(line)]
print(json.dumps({"version": lb.__version__, "rows": out}))
"""


@pytest.fixture(scope="module")
def proxy(server: LocalServer) -> Iterator[RecordingProxy]:
    p = RecordingProxy(server.base_url)
    yield p
    p.close()


@pytest.fixture(scope="module")
def task(client: Client) -> ExportTask:
    text = next(p for p in client.get_projects() if p.allowed_media_type == "TEXT")
    return finish(text.export(params={"data_row_details": True, "label_details": True}))


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.99])
def test_with_line_matches_sdk_5_2_1(proxy: RecordingProxy, server: LocalServer,
                                     task: ExportTask, fraction: float) -> None:
    assert SDK5_PYTHON.exists(), "scripts/setup.sh makes .venv-sdk5 with labelbox 5.2.1"
    line = int((task.get_total_lines(StreamType.RESULT) or 0) * fraction)
    proxy.take()
    done = subprocess.run([str(SDK5_PYTHON), "-c", SDK5_READ, server.api_key, proxy.endpoint,
                           task.uid, str(line)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    sdk = json.loads(done.stdout.strip().splitlines()[-1])
    assert sdk["version"] == "5.2.1"
    sdk_calls = proxy.take()
    with Client(api_key=server.api_key, endpoint=proxy.endpoint) as ours:
        mine = [{"line": o.current_line, "json": o.json}
                for o in ExportTask.get_task(ours, task.uid).get_stream().with_line(line)]
    our_calls = proxy.take()
    assert mine == sdk["rows"] and mine[0]["line"] == line

    def line_calls(calls: list[Call]) -> list[tuple[str, object]]:
        return [(" ".join(c.query.split()), c.variables)
                for c in calls if c.name == "GetExportFileFromLinePyApi"]

    assert line_calls(our_calls) == line_calls(sdk_calls) != []




SDK5_LEGACY = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import labelbox as lb
key, endpoint, missing = sys.argv[1], sys.argv[2], sys.argv[3]
client = lb.Client(api_key=key, endpoint=endpoint,
                   rest_endpoint=endpoint.rsplit("/", 1)[0] + "/api/v1")
task = client.get_catalog().export_v2(filters={"data_row_ids": [missing]})
task.wait_till_done()
print(json.dumps({"uid": task.uid, "result": task.result, "errors": task.errors,
                  "result_url": task.result_url, "errors_url": task.errors_url}))
"""


def test_export_v2_legacy_surface_matches_sdk_5_2_1(server: LocalServer, client: Client) -> None:
    assert SDK5_PYTHON.exists(), "scripts/setup.sh makes .venv-sdk5 with labelbox 5.2.1"
    done = subprocess.run([str(SDK5_PYTHON), "-c", SDK5_LEGACY, server.api_key,
                           server.endpoint, "cl000000000000000000missing"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    sdk = json.loads(done.stdout.strip().splitlines()[-1])
    ours = ExportTask(client.api, client.api.get_task(sdk["uid"]), is_export_v2=True)
    with pytest.warns(DeprecationWarning):
        mine = {"uid": ours.uid, "result": ours.result, "errors": ours.errors,
                "result_url": ours.result_url, "errors_url": ours.errors_url}
    assert mine == sdk and sdk["errors"] and sdk["errors_url"]
