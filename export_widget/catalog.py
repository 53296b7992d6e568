"""What the workspace holds that can be exported, with names, for the widget's selects."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .client import validation
from .export_request import SCOPE_CALLS
from .messages import Catalog, FormRules, ModelRunEntry, Named, ScopeRules

log = logging.getLogger(__name__)


def empty_catalog() -> Catalog:
    """No targets yet, and every rule the form needs: the client's own, so the form and
    `export()` can never disagree."""
    scopes: dict[str, ScopeRules] = {
        scope: ScopeRules(params=list(validation.params_for(scope)),
                          filters=list(validation.filters_for(scope)),
                          target=SCOPE_CALLS[scope].target)
        for scope in validation.SCOPES
    }
    rules = FormRules(workflow_statuses=list(validation.WORKFLOW_STATUSES),
                      bool_params=list(validation.BOOL_PARAMS),
                      row_ids_max=validation.ID_FILTER_LIMIT,
                      param_ids_max=validation.PARAM_ID_LIMIT)
    return Catalog(projects=[], datasets=[], slices=[], model_runs=[], batches={},
                   scopes=scopes, rules=rules, media_types=list(validation.MEDIA_TYPES),
                   timezone="UTC")


def _uid(entity: Any) -> str:
    return str(getattr(entity, "uid", None) or getattr(entity, "id", ""))


def _by_name(entities: Iterable[Any]) -> list[Named]:
    named = [Named(id=_uid(entity), name=str(getattr(entity, "name", "") or ""))
             for entity in entities]
    return sorted(named, key=lambda entity: entity["name"])


def load_catalog(client: Any) -> Catalog:
    """Read projects, datasets, slices, model runs and batches through the client.

    A failure does not break the widget: the catalog says what went wrong, and the form shows
    it where the Export button explains why it is disabled.
    """
    catalog = empty_catalog()
    try:
        projects = list(client.get_projects())
        catalog["projects"] = _by_name(projects)
        for project in projects:
            catalog["batches"][_uid(project)] = _by_name(project.batches())
        catalog["datasets"] = _by_name(client.get_datasets())
        catalog["slices"] = _by_name(client.get_catalog_slices())
        runs: list[ModelRunEntry] = []
        for model in client.get_models():
            for run in model.model_runs():
                runs.append(ModelRunEntry(id=_uid(run), name=str(run.name),
                                          model_name=str(model.name)))
        catalog["model_runs"] = sorted(runs, key=lambda run: (run["model_name"], run["name"]))
        catalog["timezone"] = _timezone(client)
    except Exception as exc:  # the widget must still render and say why it cannot export
        log.exception("reading the workspace failed")
        catalog["error"] = f"{type(exc).__name__}: {exc}"
    return catalog


def _timezone(client: Any) -> str:
    # Non-ISO dates are read in the user's timezone by the server, as the SDK does.
    getter = getattr(client, "get_user_timezone", None)
    if getter is None:
        return "UTC"
    try:
        return str(getter() or "UTC")
    except Exception:
        return "UTC"
