"""The benchmark harness runs end to end at a tiny size and fills every figure of its table.

Timings are never asserted: only that each figure was measured (no FAILED, n/a or skipped
cell) and that the JSON it writes holds the same run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.browser
def test_benchmark_harness_prints_a_full_table_at_1000_rows(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--sizes", "1000", "--out", str(tmp_path / "cache"),
         "--results", str(results), "--sdk-max-seconds", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    table = proc.stdout.split("\nJSON: ")[0].splitlines()
    assert table[0].split()[-2:] == ["1,000", "rows"]
    figures = [line for line in table[2:] if not line.startswith("[")]
    assert len(figures) >= 30
    for line in figures:
        cell = re.split(r"\s{2,}", line.strip())[-1]
        assert cell and not re.match(r"(FAILED|n/a|skipped)", cell), line
        assert re.search(r"\d", cell), line

    saved = json.loads(next(results.glob("bench-*.json")).read_text())
    run = saved["results"]["1000"]
    assert run["errors"] == {}
    assert run["export"]["lines"] == run["widget"]["rows"] == run["stream"]["ours"]["rows"]
    assert run["stream"]["sdk"]["rows"] == run["export"]["lines"]
    assert run["stream"]["live"]["rows"] == run["export"]["lines"]
