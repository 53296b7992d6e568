"""The ASGI app: GraphQL at /graphql and /_gql, signed chunk downloads, demo media.

Authentication happens before GraphQL runs: every call needs `Authorization: Bearer <key>`,
and a missing or unknown key gets HTTP 401 with the AUTHENTICATION_ERROR code the SDK
turns into `AuthenticationError`. Chunk downloads carry no headers (the SDK uses a bare
GET), so their URLs are signed capabilities instead.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from export_widget.server.graphql.limits import (
    MAX_BODY_BYTES,
    MAX_QUERY_TOKENS,
    LimitError,
    check_operation,
    check_variables,
)
from export_widget.server.graphql.resolvers import ApiState
from export_widget.server.signing import InvalidToken

logger = logging.getLogger("export_widget.server")

Authenticate = Callable[[str], dict[str, Any] | None]
RenderMedia = Callable[[str], tuple[bytes, str] | None]

NDJSON = "application/x-ndjson"
# Chunks are at most ~8 MiB and go out in one read; only a range holding one giant line is streamed,
# in blocks large enough that the thread hop per block costs little.
STREAM_ABOVE = 8 * 1024 * 1024
STREAM_BLOCK = 1024 * 1024
# Parsed and validated operations kept, by their text (a query longer than this is not kept).
CACHED_DOCUMENTS = 256
CACHED_QUERY_CHARS = 20_000


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _format_error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions:
        if error.original_error is not None and not isinstance(error.original_error,
                                                               GraphQLError):
            logger.exception("resolver failed", exc_info=error.original_error)
            # The text of an unexpected error may hold SQL or paths: it stays in the log.
            formatted["message"] = (f"internal error ({type(error.original_error).__name__}); "
                                    "the server logged the details")
            extensions["code"] = "INTERNAL_SERVER_ERROR"
            # status 500 makes the SDK raise LabelboxError(message) instead of retrying.
            extensions["exception"] = {"status": 500}
        else:
            extensions["code"] = "BAD_USER_INPUT"
    formatted["extensions"] = extensions
    return formatted


class GraphQLEndpoint:
    """Runs one GraphQL request (parse, validate, execute) in a worker thread."""

    def __init__(self, schema: GraphQLSchema, state: ApiState, authenticate: Authenticate):
        self._schema = schema
        self._state = state
        self._authenticate = authenticate
        self.operations: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    async def handle(self, request: Request) -> Response:
        user = await run_in_threadpool(self._caller, request.headers.get("authorization", ""))
        if user is None:
            return OrjsonResponse(
                _error_body("Invalid API key: send 'Authorization: Bearer <key>'",
                            "AUTHENTICATION_ERROR"),
                status_code=401,
            )
        raw = await _read_capped(request, MAX_BODY_BYTES)
        if raw is None:
            return OrjsonResponse(
                _error_body(f"request body: at most {MAX_BODY_BYTES:,} bytes", "BAD_USER_INPUT"),
                413,
            )
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return OrjsonResponse(
                _error_body("The request body is not JSON", "GRAPHQL_PARSE_FAILED"), 400
            )
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return OrjsonResponse(
                _error_body("The request body needs a 'query' string", "GRAPHQL_PARSE_FAILED"),
                400,
            )
        base_url = str(request.base_url).rstrip("/")
        context = {"app": self._state, "user": user, "base_url": base_url}
        payload = await run_in_threadpool(self._run, body, context)
        return OrjsonResponse(payload)

    def _caller(self, authorization: str) -> dict[str, Any] | None:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        return self._authenticate(key.strip())

    def _document(self, query: str) -> DocumentNode | dict[str, Any]:
        """The parsed and validated `query`, or the error body to answer. Clients send the
        same few operations over and over (one per chunk of a stream): parsing and
        validating was most of the server's time per call, so valid documents are kept."""
        with self._lock:
            document = self._documents.get(query)
            if document is not None:
                self._documents.move_to_end(query)
                return document
        try:
            document = parse(query, max_tokens=MAX_QUERY_TOKENS)
        except GraphQLError as exc:
            return _error_body(exc.message, "GRAPHQL_PARSE_FAILED")
        errors = validate(self._schema, document)
        if errors:
            return {"errors": [{"message": e.message,
                                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                               for e in errors]}
        if len(query) <= CACHED_QUERY_CHARS:
            with self._lock:
                self._documents[query] = document
                while len(self._documents) > CACHED_DOCUMENTS:
                    self._documents.popitem(last=False)
        return document

    def _run(self, body: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        document = self._document(body["query"])
        if isinstance(document, dict):
            return document
        variables = body.get("variables")
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            return _error_body("variables: expected an object", "BAD_USER_INPUT")
        operation_name = body.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            return _error_body("operationName: expected a string", "BAD_USER_INPUT")
        try:
            check_variables(variables)
        except LimitError as exc:
            return _error_body(str(exc), "BAD_USER_INPUT")
        operation = get_operation_ast(document, operation_name)
        if operation is not None:
            fragments = {d.name.value: d for d in document.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            try:
                check_operation(operation, fragments, variables)
            except LimitError as exc:
                return _error_body(str(exc), "GRAPHQL_VALIDATION_FAILED")
        self._count(document, operation_name)
        result = execute(self._schema, document, variable_values=variables,
                         operation_name=operation_name, context_value=context)
        assert isinstance(result, ExecutionResult)
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [_format_error(e) for e in result.errors]
        return payload

    def _count(self, document: Any, operation_name: str | None) -> None:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                name = definition.name.value if definition.name else "(anonymous)"
                if operation_name in (None, name):
                    fields = ",".join(
                        sel.name.value for sel in definition.selection_set.selections
                        if hasattr(sel, "name")
                    )
                    key = f"{definition.operation.value} {name} {{{fields}}}"
                    logger.debug("graphql %s", key)
                    with self._lock:
                        self.operations[key] += 1


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) bytes a `Range` header asks of a `size`-byte body: the
    whole body without one (or with a form we do not serve, as RFC 9110 allows), None when
    it cannot be satisfied. One range only: `bytes=N-`, `bytes=N-M` or `bytes=-N`."""
    if not header or not header.startswith("bytes=") or "," in header:
        return (0, size - 1)
    first_text, _, last_text = header[len("bytes="):].strip().partition("-")
    try:
        if not first_text:
            suffix = int(last_text)
            return (max(size - suffix, 0), size - 1) if suffix > 0 else None
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
    except ValueError:
        return (0, size - 1)
    if first >= size or last < first:
        return None
    return (first, min(last, size - 1))


def create_app(
    schema: GraphQLSchema,
    state: ApiState,
    authenticate: Authenticate,
    render_media: RenderMedia | None = None,
) -> Starlette:
    """The Starlette app of the export server."""
    graphql = GraphQLEndpoint(schema, state, authenticate)

    async def download(request: Request) -> Response:
        try:
            grant = state.signer.verify(request.path_params["token"])
        except InvalidToken as exc:
            return Response(str(exc), status_code=403, media_type="text/plain")
        size = grant.end - grant.start + 1
        wanted = byte_range(request.headers.get("range"), size)
        if wanted is None:
            return Response("unsatisfiable range", status_code=416, media_type="text/plain",
                            headers={"content-range": f"bytes */{size}"})
        # A client resuming a broken download asks for the rest of the chunk only.
        first, last = wanted
        start, end = grant.start + first, grant.start + last
        status, headers = 200, {"content-length": str(last - first + 1),
                                "accept-ranges": "bytes"}
        if (first, last) != (0, size - 1):
            status = 206
            headers["content-range"] = f"bytes {first}-{last}/{size}"
        try:
            if last - first + 1 <= STREAM_ABOVE:
                content = await run_in_threadpool(state.engine.read, grant.task_id,
                                                  grant.stream, start, end)
                return Response(content, status_code=status, media_type=NDJSON,
                                headers=headers)
            # Fail before the headers go out if the range is not servable.
            await run_in_threadpool(state.engine.read, grant.task_id, grant.stream, end, end)
        except LookupError as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
        blocks = state.engine.iter_read(grant.task_id, grant.stream, start, end,
                                        block=STREAM_BLOCK)
        return StreamingResponse(blocks, status_code=status, media_type=NDJSON,
                                 headers=headers)

    async def media(request: Request) -> Response:
        if render_media is None:
            return Response("no media here", status_code=404, media_type="text/plain")
        rendered = await run_in_threadpool(render_media, request.path_params["path"])
        if rendered is None:
            return Response("no such media", status_code=404, media_type="text/plain")
        content, content_type = rendered
        return Response(content, media_type=content_type,
                        headers={"cache-control": "public, max-age=86400"})

    async def health(_request: Request) -> Response:
        return OrjsonResponse({"ok": True})

    app = Starlette(
        routes=[
            Route("/graphql", graphql.handle, methods=["POST"]),
            Route("/_gql", graphql.handle, methods=["POST"]),
            Route("/files/{token}", download, methods=["GET"]),
            Route("/media/{path:path}", media, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
    app.state.graphql = graphql
    return app
