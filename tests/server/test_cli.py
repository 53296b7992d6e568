"""`export-widget serve` from a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from export_widget.cli import main


def test_serve_prints_the_endpoint_and_key_and_answers_with_that_key(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "export_widget.cli", "serve", "--demo", "--port", "0",
         "--api-key", "cli-key", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().split("endpoint:")[1].strip()
        assert process.stdout.readline().split("api key:")[1].strip() == "cli-key"
        assert endpoint.startswith("http://127.0.0.1:") and endpoint.endswith("/graphql")
        ok = httpx.post(endpoint, json={"query": "{organization{name}}"},
                        headers={"Authorization": "Bearer cli-key"})
        assert ok.status_code == 200 and ok.json()["data"]["organization"]["name"]
        refused = httpx.post(endpoint, json={"query": "{organization{name}}"},
                             headers={"Authorization": "Bearer other"})
        assert refused.status_code == 401
        assert (tmp_path / "store.sqlite").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_refuses_bad_options_naming_them(capsys: object) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert main(["serve", "--rows", "5"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "--port: must be between 0 and 65535, got 70000" in err
    assert "--rows: only applies with --demo" in err
