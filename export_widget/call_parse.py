"""Python source -> the widget's form: read an export call with `ast`, never by running it.

Accepted: `<owner>.export(...)` and `.export_v2(...)` where the owner is
`client.get_project("id")` (or get_dataset, get_catalog, get_catalog_slice, get_model_run),
a name assigned from one of those earlier in the same code, or a bare name such as
`project` (the scope is then read from the name and the target is left to the form); and
`DataRow.export(client, ...)` / `lb.DataRow.export(...)`. Values are read only when they
are literals, names bound to literals in the same code, `dict(...)`, the SDK's TypedDict
constructors (`lb.ProjectExportParams({...})`) or `lb.MediaType.X`.

What the form cannot express (a computed value, an unknown parameter, a filter of another
scope, `**kwargs`, ...) is left out, with a note naming it. Code with no export call at all
raises `ValueError`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from .client import validation
from .client.validation import Scope
from .export_request import ROW_ID_ARGUMENTS, SCOPE_CALLS
from .messages import ExportConfig, Filters

# The getter each scope's object comes from, read off the kernel's one table of scopes.
GETTERS: dict[str, Scope] = {call.getter: cast(Scope, scope)
                             for scope, call in SCOPE_CALLS.items() if call.getter is not None}
TARGETED: frozenset[str] = frozenset(s for s, call in SCOPE_CALLS.items() if call.target)
FILTERLESS: frozenset[str] = frozenset(s for s, call in SCOPE_CALLS.items()
                                       if not call.takes_filters)
# Positional parameters of each export signature (ours and the SDK's agree).
FILTERED_ARGS = ("task_name", "filters", "params")
FILTERLESS_ARGS = ("task_name", "params")
DATA_ROW_ARGS = ("client", *ROW_ID_ARGUMENTS.values(), "task_name", "params")
# A bare receiver name -> its scope, most specific first ("model_run" before "run").
NAME_HINTS: tuple[tuple[str, Scope], ...] = (
    ("model_run", "model_run"), ("modelrun", "model_run"), ("run", "model_run"),
    ("slice", "slice"), ("dataset", "dataset"), ("catalog", "catalog"),
    ("project", "project"),
)
# `labelbox.MediaType` member -> wire value, over SDK 5.x and 7.x (7.x dropped three).
MEDIA_TYPE_MEMBERS: dict[str, str] = {
    "Audio": "AUDIO", "Conversational": "CONVERSATIONAL", "Dicom": "DICOM",
    "Document": "PDF", "Geospatial_Tile": "TMS_GEO", "Html": "HTML", "Image": "IMAGE",
    "LLMPromptCreation": "LLM_PROMPT_CREATION",
    "LLMPromptResponseCreation": "LLM_PROMPT_RESPONSE_CREATION", "Pdf": "PDF",
    "Simple_Tile": "TMS_SIMPLE", "Text": "TEXT", "Tms_Geo": "TMS_GEO",
    "Tms_Simple": "TMS_SIMPLE", "Unknown": "UNKNOWN", "Unsupported": "UNSUPPORTED",
    "Video": "VIDEO", "Point_Cloud": "POINT_CLOUD", "LLM": "LLM",
}
_MAX_NAME_DEPTH = 20  # `a = b`, `b = c`, ...: a cycle or a long chain stops here


@dataclass
class ParsedCall:
    """The form's config read from code, and a note for each part left out."""

    config: ExportConfig
    notes: list[str] = field(default_factory=list)
    line: int = 0  # where the export call starts (1-based)


class _NotLiteral(Exception):
    """A value the parser will not compute; the message shows its source."""


def parse_export_call(source: str) -> ParsedCall:
    """Read the export call in `source` into a form config; ValueError when there is none."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        raise ValueError(f"code: {where}{exc.msg}") from None
    calls = [node for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in ("export", "export_v2")]
    if not calls:
        raise ValueError("code: no export call found; expected `<project, dataset, catalog, "
                         "slice or model run>.export(...)` or `DataRow.export(client, ...)`")
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    call = calls[0]
    reader = _Reader(source, _bindings(tree, (call.lineno, call.col_offset)))
    parsed = reader.read_call(call)
    if len(calls) > 1:
        lines = ", ".join(str(c.lineno) for c in calls[1:])
        parsed.notes.append(f"code: {len(calls)} export calls; the form shows the first "
                            f"(line {call.lineno}), not the one(s) on line {lines}")
    return parsed


def _bindings(tree: ast.Module, before: tuple[int, int]) -> dict[str, ast.expr]:
    """`name = value` assignments above the export call (in any block), the last one wins."""
    assigns = sorted((node for node in ast.walk(tree)
                      if isinstance(node, ast.Assign | ast.AnnAssign)
                      and (node.lineno, node.col_offset) < before
                      and node.value is not None),
                     key=lambda node: (node.lineno, node.col_offset))
    names: dict[str, ast.expr] = {}
    for node in assigns:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and node.value is not None:
                names[target.id] = node.value
    return names


class _Reader:
    def __init__(self, source: str, names: Mapping[str, ast.expr]) -> None:
        self.source = source
        self.names = names
        self.notes: list[str] = []

    # -- the call ---------------------------------------------------------------------------

    def read_call(self, call: ast.Call) -> ParsedCall:
        func = call.func
        assert isinstance(func, ast.Attribute)
        if func.attr == "export_v2":
            self.notes.append("export_v2: deprecated; the form runs export(), which returns "
                              "the same rows")
        scope, target = self._owner(func.value)
        signature = (DATA_ROW_ARGS if scope == "data_rows" else
                     FILTERLESS_ARGS if scope in FILTERLESS else FILTERED_ARGS)
        args = self._arguments(call, signature, scope)
        config: ExportConfig = {"scope": scope, "params": {}, "filters": {}}
        if target:
            config["target_id"] = target
        task_name = self._value_of(args.get("task_name"), "task_name")
        if isinstance(task_name, str) and task_name.strip():
            config["task_name"] = task_name.strip()
        elif task_name is not None and not isinstance(task_name, str):
            self.notes.append(f"task_name: expects a string, got {task_name!r}; left out")
        config["params"] = self._params(scope, args.get("params"))
        config["filters"] = self._filters(scope, args)
        return ParsedCall(config, self.notes, call.lineno)

    def _owner(self, node: ast.expr) -> tuple[Scope, str | None]:
        """The scope and target id of what `.export` is called on."""
        resolved, bare = self._resolve(node), None
        if isinstance(resolved, ast.Name | ast.Attribute):
            bare = _dotted(resolved)
        if bare is not None and bare.split(".")[-1] == "DataRow":
            return "data_rows", None
        if isinstance(resolved, ast.Call) and isinstance(resolved.func, ast.Attribute) \
                and resolved.func.attr in GETTERS:
            scope = GETTERS[resolved.func.attr]
            if scope not in TARGETED:
                return scope, None
            return scope, self._target(resolved, scope)
        name = _dotted(node) or self._text(node)
        for hint, scope in NAME_HINTS:
            if hint in name.lower().replace(".", "_"):
                if scope in TARGETED:
                    getter = next(g for g, s in GETTERS.items() if s == scope)
                    self.notes.append(f"target_id: `{name}` is not assigned from "
                                      f"client.{getter}(...) in this code; choose the "
                                      f"{scope.replace('_', ' ')} in the form")
                return scope, None
        raise ValueError(f"code: cannot tell what `{name}.export` exports; call it on "
                         "client.get_project(...), get_dataset, get_catalog, "
                         "get_catalog_slice, get_model_run or DataRow")

    def _target(self, getter: ast.Call, scope: Scope) -> str | None:
        node: ast.expr | None = getter.args[0] if getter.args else None
        if node is None:
            for kw in getter.keywords:
                if kw.arg and kw.arg.endswith("_id"):
                    node = kw.value
        if node is None:
            self.notes.append(f"target_id: {_dotted(getter.func)}() has no id; choose the "
                              f"{scope.replace('_', ' ')} in the form")
            return None
        try:
            value = self._literal(node)
        except _NotLiteral as exc:
            self.notes.append(f"target_id: `{exc}` is not a literal id; choose the "
                              f"{scope.replace('_', ' ')} in the form")
            return None
        if isinstance(value, str) and value:
            return value
        self.notes.append(f"target_id: expects an id string, got {value!r}; left out")
        return None

    def _arguments(self, call: ast.Call, signature: tuple[str, ...],
                   scope: Scope) -> dict[str, ast.expr]:
        args: dict[str, ast.expr] = {}
        what = "DataRow.export" if scope == "data_rows" else f"{scope} export()"
        for index, node in enumerate(call.args):
            if isinstance(node, ast.Starred):
                self.notes.append(f"`*{self._text(node.value)}`: unpacked arguments cannot "
                                  "be read; left out")
            elif index < len(signature):
                args[signature[index]] = node
            else:
                self.notes.append(f"argument {index + 1} (`{self._text(node)}`): {what} "
                                  f"takes {len(signature)} positional arguments; left out")
        for kw in call.keywords:
            if kw.arg is None:
                self.notes.append(f"`**{self._text(kw.value)}`: unpacked arguments cannot "
                                  "be read; left out")
            elif kw.arg in signature:
                args[kw.arg] = kw.value
            elif kw.arg == "filters":
                self.notes.append(f"filters: {what} takes no filters; left out")
            else:
                self.notes.append(f"{kw.arg}: not an argument of {what}; left out")
        return args

    # -- params and filters -----------------------------------------------------------------

    def _params(self, scope: Scope, node: ast.expr | None) -> dict[str, Any]:
        raw = self._mapping(node, "params")
        valid = validation.params_for(scope)
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in validation.ALL_PARAMS:
                self.notes.append(f"params.{key}: not an export parameter; left out")
            elif key not in valid:
                self.notes.append(f"params.{key}: not a parameter of {scope} exports; "
                                  "left out")
            elif value is None or value is False:
                continue  # unchecked, as the form stores it
            elif key in validation.BOOL_PARAMS:
                if value is True:
                    params[key] = True
                else:
                    self.notes.append(f"params.{key}: expects True or False, got {value!r}; "
                                      "left out")
            elif key == "media_type_override":
                if value in validation.MEDIA_TYPES:
                    params[key] = value
                else:
                    self.notes.append(f"params.{key}: expects one of "
                                      f"{', '.join(validation.MEDIA_TYPES)}, got {value!r}; "
                                      "left out")
            elif _string_list(value):
                if value:
                    params[key] = list(value)
            else:
                self.notes.append(f"params.{key}: expects a list of id strings, got "
                                  f"{value!r}; left out")
        return params

    def _filters(self, scope: Scope, args: Mapping[str, ast.expr]) -> Filters:
        raw: dict[str, Any]
        if scope == "data_rows":
            raw = {}
            for key, argument in ROW_ID_ARGUMENTS.items():
                value = self._value_of(args.get(argument), argument)
                if value is not None:
                    raw[key] = value
        else:
            raw = self._mapping(args.get("filters"), "filters")
        valid = validation.filters_for(scope)
        filters: dict[str, Any] = {}
        for key, value in raw.items():
            label = _filter_label(scope, key)
            if key not in validation.ALL_FILTERS:
                self.notes.append(f"{label}: not an export filter; left out")
            elif key not in valid:
                self.notes.append(f"{label}: not a filter of {scope} exports; left out")
            elif value is None or value == "" or value == []:
                continue  # "no filter", as the form stores it
            elif key in validation.DATE_FILTERS:
                bounds = _date_range(value)
                if bounds is None:
                    self.notes.append(f"{label}: expects a [start, end] pair of date strings "
                                      f"(either may be None), got {value!r}; left out")
                elif any(b is not None for b in bounds):
                    filters[key] = bounds
            elif key == "workflow_status":
                if isinstance(value, str):
                    filters[key] = value
                else:
                    self.notes.append(f"{label}: expects a string, got {value!r}; left out")
            elif _string_list(value):
                filters[key] = list(value)
            else:
                self.notes.append(f"{label}: expects a list of strings, got {value!r}; "
                                  "left out")
        return filters  # type: ignore[return-value]  # keys checked against ALL_FILTERS

    def _mapping(self, node: ast.expr | None, what: str) -> dict[str, Any]:
        """A dict argument read key by key, so one computed value loses only its key."""
        if node is None:
            return {}
        node = self._resolve(node)
        if isinstance(node, ast.Constant) and node.value is None:
            return {}
        items = self._dict_items(node)
        if items is None:
            self.notes.append(f"{what}: `{self._text(node)}` is not a dict literal; left out")
            return {}
        out: dict[str, Any] = {}
        for key, value in items:
            if key is None:
                self.notes.append(f"{what}: a key that is not a string literal; left out")
                continue
            try:
                out[key] = self._literal(value)
            except _NotLiteral as exc:
                self.notes.append(f"{what}.{key}: `{exc}` is not a literal; left out")
        return out

    def _dict_items(self, node: ast.expr) -> list[tuple[str | None, ast.expr]] | None:
        """(key, value node) pairs of a dict display, `dict(...)` or an SDK TypedDict call."""
        node = self._resolve(node)
        if isinstance(node, ast.Dict):
            pairs: list[tuple[str | None, ast.expr]] = []
            for key_node, value in zip(node.keys, node.values, strict=True):
                if key_node is None:  # `**other` inside the display
                    inner = self._dict_items(value)
                    if inner is None:
                        return None
                    pairs.extend(inner)
                    continue
                key = self._resolve(key_node)
                pairs.append((key.value if isinstance(key, ast.Constant)
                              and isinstance(key.value, str) else None, value))
            return pairs
        if isinstance(node, ast.Call) and _is_dict_constructor(node.func) \
                and len(node.args) <= 1:
            pairs = []
            if node.args:
                inner = self._dict_items(node.args[0])
                if inner is None:
                    return None
                pairs.extend(inner)
            for kw in node.keywords:
                if kw.arg is None:
                    inner = self._dict_items(kw.value)
                    if inner is None:
                        return None
                    pairs.extend(inner)
                else:
                    pairs.append((kw.arg, kw.value))
            return pairs
        return None

    # -- values -----------------------------------------------------------------------------

    def _value_of(self, node: ast.expr | None, what: str) -> Any:
        if node is None:
            return None
        try:
            return self._literal(node)
        except _NotLiteral as exc:
            self.notes.append(f"{what}: `{exc}` is not a literal; left out")
            return None

    def _literal(self, node: ast.expr) -> Any:
        node = self._resolve(node)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            return [self._literal(item) for item in node.elts]
        if isinstance(node, ast.Dict) or (isinstance(node, ast.Call)
                                          and _is_dict_constructor(node.func)):
            items = self._dict_items(node)
            if items is None or any(key is None for key, _ in items):
                raise _NotLiteral(self._text(node))
            return {key: self._literal(value) for key, value in items}
        media = self._media_type(node)
        if media is not None:
            return media
        raise _NotLiteral(self._text(node))

    def _media_type(self, node: ast.expr) -> str | None:
        """`MediaType.Video` or `MediaType("VIDEO")` -> "VIDEO"."""
        if isinstance(node, ast.Attribute) and _dotted(node.value).endswith("MediaType"):
            if node.attr in MEDIA_TYPE_MEMBERS:
                return MEDIA_TYPE_MEMBERS[node.attr]
            raise _NotLiteral(self._text(node))
        if isinstance(node, ast.Call) and _dotted(node.func).endswith("MediaType") \
                and len(node.args) == 1 and not node.keywords:
            value = self._literal(node.args[0])
            if isinstance(value, str):
                return value
        return None

    def _resolve(self, node: ast.expr) -> ast.expr:
        """Follow names bound earlier in the code to the expression they were bound to."""
        for _ in range(_MAX_NAME_DEPTH):
            if not isinstance(node, ast.Name) or node.id not in self.names:
                return node
            node = self.names[node.id]
        return node

    def _text(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.source, node) or ast.unparse(node)
        text = " ".join(text.split())
        return text if len(text) <= 60 else text[:57] + "..."


def _dotted(node: ast.expr) -> str:
    """`lb.DataRow` -> "lb.DataRow"; "" for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _is_dict_constructor(func: ast.expr) -> bool:
    # `dict(...)` and the SDK's TypedDicts: ProjectExportParams, DatasetExportFilters, ...
    name = _dotted(func).split(".")[-1]
    return name == "dict" or name.endswith(("ExportParams", "ExportFilters"))


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _date_range(value: Any) -> list[str | None] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(b is None or isinstance(b, str) for b in value):
        return None
    return [b if b else None for b in value]


def _filter_label(scope: Scope, key: str) -> str:
    if scope == "data_rows":
        return ROW_ID_ARGUMENTS.get(key, key)
    return f"filters.{key}"


class FormWarning(UserWarning):
    """Part of an export call that the form cannot express, so it was left out."""


def catalog_notes(config: ExportConfig, catalog: Mapping[str, Any]) -> list[str]:
    """Notes for ids the form cannot show because this workspace has no such object: the
    form's selects list only what the catalog holds."""
    notes: list[str] = []
    scope = config.get("scope")
    lists = {"project": "projects", "dataset": "datasets", "slice": "slices",
             "model_run": "model_runs"}
    known = {key: {str(x.get("id")) for x in catalog.get(key) or []} for key in lists.values()}
    target = config.get("target_id")
    if scope in lists and target and target not in known[lists[scope]]:
        what = str(scope).replace("_", " ")
        notes.append(f"target_id: no {what} {target!r} in this workspace; choose one in "
                     "the form")
    params = config.get("params") or {}
    for key, kind in (("project_ids", "projects"), ("model_run_ids", "model_runs")):
        ids = params.get(key)
        missing = [i for i in ids if i not in known[kind]] if isinstance(ids, list) else []
        if missing:
            notes.append(f"params.{key}: not in this workspace: {', '.join(missing)}")
    batches = (catalog.get("batches") or {}).get(target or "") or []
    known_batches = {str(b.get("id")) for b in batches}
    missing = [b for b in (config.get("filters") or {}).get("batch_ids") or []
               if b not in known_batches]
    if missing:
        notes.append(f"filters.batch_ids: not batches of this project: {', '.join(missing)}")
    return notes
