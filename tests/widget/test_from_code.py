"""`ExportWidget.from_code` and `fill_from_code` against the real demo server."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from export_widget.call_parse import FormWarning
from export_widget.client import Client
from export_widget.widget import ExportWidget


def first_project(client: Client) -> str:
    return str(ExportWidget(client).catalog["projects"][0]["id"])


def test_from_code_fills_the_form_and_validates_it(client: Client):
    pid = first_project(client)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        widget = ExportWidget.from_code(
            f'project = client.get_project("{pid}")\n'
            'task = project.export(params={"label_details": True},\n'
            '                      filters={"workflow_status": "Done"})', client)
    assert widget.config == {"scope": "project", "target_id": pid,
                             "params": {"label_details": True},
                             "filters": {"workflow_status": "Done"}}
    assert widget.validation == {}
    assert f'client.get_project("{pid}").export(' in widget.export_code("client")
    assert "import labelbox as lb" in widget.export_code("sdk")


def test_from_code_warns_for_each_part_left_out(client: Client):
    pid = first_project(client)
    with pytest.warns(FormWarning) as caught:
        widget = ExportWidget.from_code(
            f'client.get_project("{pid}").export(params={{"label_details": flag, '
            '"predictions": True}, filters={"batch_ids": ["no-such-batch"]})', client)
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("params.label_details: `flag` is not a literal") for m in messages)
    assert any(m.startswith("params.predictions: not a parameter of project") for m in messages)
    assert any("no-such-batch" in m for m in messages)
    assert widget.config["params"] == {}


def test_from_code_without_an_export_call_raises(client: Client):
    with pytest.raises(ValueError, match="code: no export call found"):
        ExportWidget.from_code("x = 1", client)


def test_the_run_from_parsed_code_exports_rows(client: Client):
    widget = ExportWidget(client)
    run = widget.catalog["model_runs"][0]["id"]
    parsed = widget.read_code(f'lb.Client().get_model_run("{run}").export_v2('
                              'params={"predictions": True})')
    assert parsed.notes == ["export_v2: deprecated; the form runs export(), which returns "
                            "the same rows"]
    widget.start(dict(parsed.config))
    assert widget.wait(120)["state"] == "done"
    assert widget.rows(0, 1)[0]["experiments"]


def replies(widget: ExportWidget) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    widget.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign,assignment,misc]
    return sent


def test_code_trait_follows_the_config(client: Client):
    widget = ExportWidget(client)
    pid = widget.catalog["projects"][0]["id"]
    widget.config = {"scope": "project", "target_id": pid, "params": {"attachments": True}}
    assert set(widget.code) == {"client", "sdk"}
    assert f'task = client.get_project("{pid}").export(' in widget.code["client"]
    assert 'params={"attachments": True}' in widget.code["client"]
    assert widget.code["sdk"].startswith("import labelbox as lb")
    assert f'endpoint="{client.endpoint}"' in widget.code["sdk"]


def test_code_message_returns_the_config_without_setting_it(client: Client):
    widget = ExportWidget(client)
    sent = replies(widget)
    before = dict(widget.config)
    run = widget.catalog["model_runs"][0]["id"]
    widget._on_custom(widget, {"type": "code", "id": "c1", "source":
                               f'client.get_model_run("{run}").export(params={{"predictions": '
                               'True, "label_details": True})'}, [])
    reply = sent[-1]
    assert reply["id"] == "c1" and reply["ok"] is True
    assert reply["config"] == {"scope": "model_run", "target_id": run,
                               "params": {"predictions": True}, "filters": {}}
    assert reply["notes"] == ["params.label_details: not a parameter of model_run exports; "
                              "left out"]
    assert f'get_model_run("{run}")' in reply["code"]["sdk"]
    assert widget.config == before  # the browser applies it: `config` keeps one writer


def test_code_message_says_why_code_cannot_be_read(client: Client):
    widget = ExportWidget(client)
    sent = replies(widget)
    widget._on_custom(widget, {"type": "code", "id": "c2", "source": "project.export("}, [])
    assert sent[-1]["ok"] is False and sent[-1]["message"].startswith("code: line 1")
    widget._on_custom(widget, {"type": "code", "id": "c3", "source": 5}, [])
    assert sent[-1]["message"] == "source: expects the code as a string"
