"""What one GraphQL request may cost: body size, query size and shape, input sizes.

Every bound answers with a GraphQL error naming it, before any resolver runs, so a hostile
or careless request gets a message instead of a 500 or an out-of-memory server. The bounds
sit far above what the official SDK sends (its largest request is an export with 2,000 ids;
its deepest selection is three levels) and above the standard introspection query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

from export_widget.server.graphql.context import MAX_PAGE_SIZE

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_QUERY_TOKENS = 20_000
MAX_DEPTH = 15  # introspection's type references nest 13 deep
MAX_FIELDS = 2_000  # selected fields, fragments expanded (introspection selects ~170)
MAX_ALIASES = 50
# Fields an answer may hold: each field counts once per item of every list above it, a
# list holding its `first` argument (or a full page when it has one but it is not given).
MAX_COST = 250_000
MAX_STRING = 10_000  # characters in one input string (names, ids, dates)
MAX_LIST = 2_000  # items in one input list (the SDK's own id limit)
MAX_NESTING = 32  # levels of objects and lists in one input value


class LimitError(Exception):
    """A request over one of the bounds; the message names the bound and the value."""


@dataclass
class _Tally:
    fields: int = 0
    aliases: int = 0
    cost: int = 0


def check_operation(operation: OperationDefinitionNode,
                    fragments: Mapping[str, FragmentDefinitionNode],
                    variables: Mapping[str, Any]) -> None:
    """Raise LimitError when the operation is too deep, too wide or answers too much, or
    holds a literal input over the input bounds."""
    tally = _Tally()
    _walk(operation.selection_set, fragments, variables, tally, depth=1, multiplier=1)
    if tally.aliases > MAX_ALIASES:
        raise LimitError(f"query: at most {MAX_ALIASES} aliases, got {tally.aliases:,}")
    if tally.fields > MAX_FIELDS:
        raise LimitError(f"query: at most {MAX_FIELDS:,} selected fields, got "
                         f"{tally.fields:,} or more")
    if tally.cost > MAX_COST:
        raise LimitError(f"query: the answer could hold {tally.cost:,} fields, at most "
                         f"{MAX_COST:,} are allowed; ask for smaller pages or fewer fields")


def _walk(selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode],
          variables: Mapping[str, Any], tally: _Tally, depth: int, multiplier: int) -> None:
    if depth > MAX_DEPTH:
        raise LimitError(f"query: at most {MAX_DEPTH} levels of nested fields")
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            tally.fields += 1
            tally.aliases += selection.alias is not None
            tally.cost += multiplier
            for argument in selection.arguments or ():
                _check_literal(argument.value, f"query: argument {argument.name.value}", 1)
            if selection.selection_set is not None:
                items = _page_size(selection, variables)
                _walk(selection.selection_set, fragments, variables, tally, depth + 1,
                      multiplier * items)
        elif isinstance(selection, InlineFragmentNode):
            _walk(selection.selection_set, fragments, variables, tally, depth, multiplier)
        elif isinstance(selection, FragmentSpreadNode):
            if tally.fields > MAX_FIELDS:
                return  # fragments spread in fragments grow exponentially: stop early
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                _walk(fragment.selection_set, fragments, variables, tally, depth, multiplier)


def _page_size(field: FieldNode, variables: Mapping[str, Any]) -> int:
    """How many items a field's answer may hold: its `first` argument, or 1."""
    for argument in field.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 1)
            if isinstance(value, VariableNode):
                given = variables.get(value.name.value)
                return max(given, 1) if isinstance(given, int) else MAX_PAGE_SIZE
    return MAX_PAGE_SIZE if field.name.value in _PAGED_FIELDS else 1


# Listings whose `first` defaults to a full page when it is not given.
_PAGED_FIELDS = frozenset({"projects", "datasets", "models", "modelRuns", "createdTasks"})


def _check_literal(value: ValueNode, where: str, nesting: int) -> None:
    if nesting > MAX_NESTING:
        raise LimitError(f"{where}: at most {MAX_NESTING} levels of nested lists and objects")
    if isinstance(value, StringValueNode) and len(value.value) > MAX_STRING:
        raise LimitError(f"{where}: strings hold at most {MAX_STRING:,} characters, got "
                         f"{len(value.value):,}")
    if isinstance(value, ListValueNode):
        if len(value.values) > MAX_LIST:
            raise LimitError(f"{where}: lists hold at most {MAX_LIST:,} items, got "
                             f"{len(value.values):,}")
        for item in value.values:
            _check_literal(item, where, nesting + 1)
    elif isinstance(value, ObjectValueNode):
        for entry in value.fields:
            _check_literal(entry.value, f"{where}.{entry.name.value}", nesting + 1)


def check_variables(variables: Any, where: str = "variables", nesting: int = 1) -> None:
    """Raise LimitError naming the path of the first input value over a bound."""
    if nesting > MAX_NESTING:
        raise LimitError(f"{where}: at most {MAX_NESTING} levels of nested lists and objects")
    if isinstance(variables, int) and not -(2**63) <= variables < 2**64:
        raise LimitError(f"{where}: integers must fit in 64 bits")
    if isinstance(variables, str):
        if len(variables) > MAX_STRING:
            raise LimitError(f"{where}: at most {MAX_STRING:,} characters, got "
                             f"{len(variables):,}")
    elif isinstance(variables, list):
        if len(variables) > MAX_LIST:
            raise LimitError(f"{where}: at most {MAX_LIST:,} items, got {len(variables):,}")
        for position, item in enumerate(variables):
            check_variables(item, f"{where}[{position}]", nesting + 1)
    elif isinstance(variables, dict):
        for key, item in variables.items():
            check_variables(item, f"{where}.{key}", nesting + 1)
