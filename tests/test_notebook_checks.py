"""The notebooks are stored without outputs, and the teaching ones check their demo facts with
`assert`: `pytest --nbval-lax` runs every cell, so a failing assert fails the run, while an
nbval output mark would compare nothing once the stored output is gone."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def asserts(source: str) -> bool:
    return any(isinstance(node, ast.Assert) for node in ast.walk(ast.parse(source)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path: Path):
    for cell in code_cells(path):
        assert not cell.outputs and cell.execution_count is None, (
            f"{path.name}: clear the outputs and execution counts before committing\n"
            f"{cell.source}")
        assert "NBVAL_CHECK_OUTPUT" not in cell.source, (
            f"{path.name}: an output mark checks nothing without a stored output; assert the "
            f"fact in the cell instead\n{cell.source}")


def test_the_teaching_notebooks_check_their_demo_facts():
    checking = {p.name: sum(asserts(c.source) for c in code_cells(p)) for p in NOTEBOOKS}
    # the export's status, a row's sections, data_row details, params, filters, the task
    assert checking["01_quickstart.ipynb"] >= 6
    # a row of each media type, a model-run row, and what the preview draws of a video row
    assert checking["05_media_types.ipynb"] >= 10
