"""The notebooks' checked outputs can fail: nbval --nbval-lax compares a `# NBVAL_CHECK_OUTPUT`
cell only when its stored copy ran (it has an execution count) and holds the output to
compare; without them the cell passes whatever it prints. scripts/checked_outputs.py stores
exactly those outputs; this test keeps it so."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
MARK = "# NBVAL_CHECK_OUTPUT"


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_cells_carry_the_output_nbval_compares(path: Path):
    for cell in code_cells(path):
        if MARK in cell.source.splitlines():
            assert cell.execution_count is not None and cell.outputs, (
                f"{path.name}: a checked cell without its stored output checks nothing; run "
                f"scripts/checked_outputs.py {path.relative_to(path.parents[1])}\n{cell.source}")
        else:
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}: only checked cells keep outputs\n{cell.source}")


def test_the_teaching_notebooks_check_their_demo_facts():
    checked = {p.name: sum(MARK in c.source for c in code_cells(p)) for p in NOTEBOOKS}
    assert checked["01_quickstart.ipynb"] >= 5
    # a row of each media type, a model-run row, and what the preview draws of a video row
    assert checked["05_media_types.ipynb"] == 10
