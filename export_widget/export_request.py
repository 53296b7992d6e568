"""The widget's form as one export call: which object to export, and with which arguments.

`SCOPE_CALLS` is the one table of scopes on the kernel side: how the client gets the object
that exports (or `DataRow.export` for rows by id), whether the scope needs a chosen target,
and whether its `export()` takes filters. `call_text`, `run` and the target check read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .client import validation


@dataclass(frozen=True)
class ScopeCall:
    getter: str | None  # the Client method returning the exporting object; None: DataRow.export
    target: str | None  # what the form asks the user to choose, e.g. "model run"; None: nothing
    takes_filters: bool  # whether that object's export() has a `filters` argument


SCOPE_CALLS: dict[str, ScopeCall] = {
    "project": ScopeCall("get_project", "project", takes_filters=True),
    "dataset": ScopeCall("get_dataset", "dataset", takes_filters=True),
    "catalog": ScopeCall("get_catalog", None, takes_filters=True),
    "slice": ScopeCall("get_catalog_slice", "slice", takes_filters=False),
    "model_run": ScopeCall("get_model_run", "model run", takes_filters=False),
    # The id lists are DataRow.export's own `data_rows` / `global_keys` arguments.
    "data_rows": ScopeCall(None, None, takes_filters=False),
}
ROW_ID_ARGUMENTS = {"data_row_ids": "data_rows", "global_keys": "global_keys"}


@dataclass(frozen=True)
class ExportRequest:
    """A normalized export: what to call and with which arguments.

    Normalizing drops what means "no filter" in the form: unchecked boxes, empty lists,
    empty strings and date ranges open at both ends.
    """

    scope: str
    target_id: str | None
    task_name: str | None
    params: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ExportRequest:
        scope = str(config.get("scope") or "project")
        call = SCOPE_CALLS.get(scope)
        target = config.get("target_id") if call is not None and call.target else None
        params = {key: value for key, value in dict(config.get("params") or {}).items()
                  if value not in (None, False, "", [])}
        filters: dict[str, Any] = {}
        for key, value in dict(config.get("filters") or {}).items():
            if key in validation.DATE_FILTERS and isinstance(value, list | tuple):
                bounds = [bound if bound not in ("", None) else None for bound in value]
                if any(bound is not None for bound in bounds):
                    filters[key] = bounds
            elif value not in (None, "", []):
                filters[key] = list(value) if isinstance(value, list | tuple) else value
        name = str(config.get("task_name") or "").strip() or None
        return cls(scope, str(target) if target else None, name, params, filters)

    def field_errors(self) -> dict[str, str]:
        """Field -> message, from the client's validators plus the target check."""
        return dict(self._errors)

    @cached_property
    def _errors(self) -> dict[str, str]:
        # Computed once per request: the widget validates a config when it changes and
        # starts that same request, so one click never runs the rules twice on this side.
        try:
            errors = validation.field_errors(self.scope, self.params, self.filters)
        except ValueError as exc:
            return {"scope": str(exc)}
        target = self._call.target
        if target and not self.target_id:
            errors = {"target_id": f"target_id: choose a {target} to export", **errors}
        return errors

    @property
    def _call(self) -> ScopeCall:
        try:
            return SCOPE_CALLS[self.scope]
        except KeyError:
            raise ValueError(f"scope: unknown scope {self.scope!r}") from None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the export call (see `call_text`)."""
        kwargs: dict[str, Any] = {}
        if self._call.getter is None:
            for key, argument in ROW_ID_ARGUMENTS.items():
                if self.filters.get(key):
                    kwargs[argument] = list(self.filters[key])
        if self.task_name:
            kwargs["task_name"] = self.task_name
        if self._call.takes_filters and self.filters:
            kwargs["filters"] = dict(self.filters)
        kwargs["params"] = dict(self.params)
        return kwargs

    def call_text(self) -> str:
        """The same export as Python source, for a script or the SDK."""
        args = ", ".join(f"{key}={value!r}" for key, value in self.kwargs().items())
        call = self._call
        if call.getter is None:
            return f"DataRow.export(client, {args})"
        target = repr(self.target_id) if call.target else ""
        return f"client.{call.getter}({target}).export({args})"

    def run(self, client: Any) -> Any:
        """Create the export task through the client; returns its ExportTask."""
        call = self._call
        if call.getter is None:
            from .client import DataRow

            return DataRow.export(client, **self.kwargs())
        getter = getattr(client, call.getter)
        owner = getter(self.target_id) if call.target else getter()
        return owner.export(**self.kwargs())
