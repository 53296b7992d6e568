"""The test tree's own rules."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).parent


def test_every_test_folder_is_a_package():
    # Packages keep same-named test modules in different folders apart and allow the
    # `from .conftest import ...` imports; `tests/` itself stays on sys.path (rootdir).
    folders = {path.parent for path in TESTS.rglob("test_*.py")} - {TESTS}
    assert sorted(str(folder.relative_to(TESTS)) for folder in folders
                  if not (folder / "__init__.py").exists()) == []
