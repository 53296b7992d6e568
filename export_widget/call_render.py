"""The form as a short Python script, in two flavours: this project's client and the official
`labelbox` SDK. `call_parse.parse_export_call` reads either back into the same form.

The API key never appears: both clients read `LABELBOX_API_KEY` from the environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .call_parse import MEDIA_TYPE_MEMBERS
from .export_request import SCOPE_CALLS, ExportRequest
from .messages import CodeTexts

Flavour = Literal["client", "sdk"]
FLAVOURS: tuple[Flavour, ...] = ("client", "sdk")
DEFAULT_ENDPOINT = "https://api.labelbox.com/graphql"
WIDTH = 88  # a call longer than this is split, one argument per line
TARGET_PLACEHOLDERS = {"project": "PROJECT_ID", "dataset": "DATASET_ID",
                       "slice": "SLICE_ID", "model_run": "MODEL_RUN_ID"}
# wire value -> the SDK's member name (the first of its aliases, as `MediaType(value)` gives)
SDK_MEDIA_TYPES: dict[str, str] = {}
for _member, _value in MEDIA_TYPE_MEMBERS.items():
    SDK_MEDIA_TYPES.setdefault(_value, _member)
NOT_IN_SDK7 = frozenset({"DICOM", "LLM_PROMPT_CREATION", "LLM_PROMPT_RESPONSE_CREATION"})


class _Source(str):
    """Text emitted as is (an expression), not as a string literal."""


def render_code(request: ExportRequest, flavour: Flavour = "client",
                endpoint: str | None = None) -> str:
    """A script that runs the form's export: imports, the client, the call, the wait."""
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour: expects one of {', '.join(FLAVOURS)}, got {flavour!r}")
    sdk = flavour == "sdk"
    kwargs = _sdk_kwargs(request.kwargs()) if sdk else request.kwargs()
    task = "export_task" if sdk else "task"
    lines = [_imports(request, sdk), "", "# the API key comes from LABELBOX_API_KEY",
             _client_line(endpoint, sdk)]
    first = ["client"] if _by_row_ids(request) else []  # DataRow.export(client, ...)
    lines.append(_call(f"{task} = {_owner(request, sdk)}.export", kwargs, first))
    if sdk and request.params.get("media_type_override") in NOT_IN_SDK7:
        lines.append(f"# lb.MediaType.{SDK_MEDIA_TYPES[request.params['media_type_override']]}"
                     " exists in labelbox 5.x, not in 7.x")
    lines.append(f"{task}.wait_till_done()")
    return "\n".join(lines) + "\n"


def render_all(request: ExportRequest, endpoint: str | None = None) -> CodeTexts:
    """Both flavours, keyed by flavour name."""
    return CodeTexts(client=render_code(request, "client", endpoint),
                     sdk=render_code(request, "sdk", endpoint))


def _by_row_ids(request: ExportRequest) -> bool:
    return SCOPE_CALLS[request.scope].getter is None


def _imports(request: ExportRequest, sdk: bool) -> str:
    if sdk:
        return "import labelbox as lb"
    names = "Client, DataRow" if _by_row_ids(request) else "Client"
    return f"from export_widget.client import {names}"


def _client_line(endpoint: str | None, sdk: bool) -> str:
    args: dict[str, Any] = {}
    if endpoint and endpoint != DEFAULT_ENDPOINT:
        args["endpoint"] = endpoint
        if sdk:
            args["rest_endpoint"] = _rest_endpoint(endpoint)
    constructor = "lb.Client" if sdk else "Client"
    return _call(f"client = {constructor}", args)


def _rest_endpoint(endpoint: str) -> str:
    base = endpoint.removesuffix("/").removesuffix("/graphql")
    return f"{base}/api/v1"


def _owner(request: ExportRequest, sdk: bool) -> str:
    if _by_row_ids(request):
        return "lb.DataRow" if sdk else "DataRow"
    call = SCOPE_CALLS[request.scope]
    if not call.target:
        return f"client.{call.getter}()"
    target = (_literal(request.target_id) if request.target_id
              else TARGET_PLACEHOLDERS[request.scope])
    return f"client.{call.getter}({target})"


def _sdk_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    # The SDK reads media_type_override as a MediaType member, never a string.
    out = dict(kwargs)
    params = dict(out.get("params") or {})
    media = params.get("media_type_override")
    if isinstance(media, str) and media in SDK_MEDIA_TYPES:
        params["media_type_override"] = _Source(f"lb.MediaType.{SDK_MEDIA_TYPES[media]}")
        out["params"] = params
    return out


def _call(head: str, kwargs: Mapping[str, Any], first: Sequence[str] = ()) -> str:
    """`head(first, k=v, ...)` on one line when it fits, else one argument (and dict key)
    per line."""
    flat = ", ".join([*first, *(f"{k}={_literal(v)}" for k, v in kwargs.items())])
    if len(head) + len(flat) + 2 <= WIDTH:
        return f"{head}({flat})"
    parts = [f"    {name}," for name in first]
    for key, value in kwargs.items():
        text = f"    {key}={_literal(value)},"
        if len(text) > WIDTH and isinstance(value, dict) and value:
            inner = "".join(f"        {_literal(k)}: {_literal(v)},\n" for k, v in value.items())
            text = f"    {key}={{\n{inner}    }},"
        parts.append(text)
    return "\n".join([f"{head}(", *parts, ")"])


def _literal(value: Any) -> str:
    """Python source for a JSON-like value; strings in double quotes."""
    if isinstance(value, _Source):
        return str(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes (\" \\ \n \t \uXXXX) mean the same in a Python string literal.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as Python source")
