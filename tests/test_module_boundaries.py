"""Module boundaries in `export_widget/`: no import cycle, no private name used across modules.

Read from the source with `ast`, so lazy imports inside functions and `TYPE_CHECKING` imports
count too: a cycle hidden in a function is still a cycle for whoever reads the code.
A private name is `_x` (not a dunder). It may be used as `self._x` / `cls._x` (or on
`super()`), never imported from another module or read off another object.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import export_widget

ROOT = Path(export_widget.__file__).parent

# Library attributes that are public API despite their underscore (namedtuple, SQLAlchemy Row).
PUBLIC_UNDERSCORED = frozenset({"_mapping", "_asdict", "_replace", "_make"})


@dataclass(frozen=True)
class Module:
    name: str
    tree: ast.Module
    is_package: bool


def _modules() -> dict[str, Module]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        found[name] = Module(name, ast.parse(path.read_text("utf-8"), str(path)), is_package)
    return found


MODULES = _modules()


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _base(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    package = package if module.is_package else package[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join(package + ([node.module] if node.module else []))


def _imports(module: Module) -> Iterator[tuple[str, ast.ImportFrom | ast.Import]]:
    """(imported module, node) for every import of a package module."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "export_widget":
                    yield alias.name, node
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, node)
            if base.split(".")[0] != "export_widget":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), node


def _private_uses(module: Module) -> Iterator[str]:
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and _base(module, node).startswith("export_widget"):
            for alias in node.names:
                if _private(alias.name):
                    yield f"{module.name}:{node.lineno} imports {alias.name}"
        elif (isinstance(node, ast.Attribute) and _private(node.attr)
              and node.attr not in PUBLIC_UNDERSCORED):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
                    and owner.func.id == "super"):
                continue
            yield f"{module.name}:{node.lineno} reads {ast.unparse(node)}"


def import_graph() -> dict[str, list[str]]:
    return {name: sorted({target for target, _ in _imports(m) if target in MODULES})
            for name, m in MODULES.items()}


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing
    itself), by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    return found


def test_the_checks_see_the_package_and_find_what_they_look_for() -> None:
    graph = import_graph()
    assert "export_widget.client.api" in graph["export_widget.client.client"]
    assert "export_widget.client.client" in graph["export_widget.client"]  # the __init__
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["a"]}) == [["a"]] and cycles({"a": ["b"], "b": []}) == []
    sample = Module("export_widget.x", ast.parse(
        "from .y import _hidden\nfrom . import y\nprint(y._state, self._mine)\n"), False)
    assert list(_private_uses(sample)) == ["export_widget.x:1 imports _hidden",
                                           "export_widget.x:3 reads y._state"]


def test_no_import_cycle_in_the_package() -> None:
    assert cycles(import_graph()) == []


def test_no_private_name_used_across_modules() -> None:
    assert [use for m in MODULES.values() for use in _private_uses(m)] == []
