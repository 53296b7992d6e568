"""Store the outputs that nbval checks, and only those.

    .venv/bin/python scripts/checked_outputs.py notebooks/01_quickstart.ipynb [...]

Runs each notebook in a kernel of this environment, then writes it back with outputs (and an
execution count) kept on the cells marked `# NBVAL_CHECK_OUTPUT`, and stripped everywhere
else. Why both: `pytest --nbval-lax` compares only the marked cells, and it compares nothing
for a cell whose stored copy never ran (no execution count), so a marked cell committed
without its output would pass whatever it printed.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"


def checked(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and MARK in cell.source.splitlines()


def store(path: pathlib.Path, timeout: int) -> int:
    notebook = nbformat.read(path, as_version=4)
    ran = nbformat.from_dict(notebook)
    NotebookClient(ran, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    kept = 0
    for cell, result in zip(notebook.cells, ran.cells, strict=True):
        if cell.cell_type != "code":
            continue
        if checked(cell):
            cell.outputs = result.outputs
            cell.execution_count = result.execution_count
            kept += 1
        else:
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"{path}: {store(path, args.timeout)} checked cell(s) stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
