"""HTTP for the client: GraphQL posts with error mapping, and resumable chunk downloads.

Kept apart from the protocol (as httpx keeps its transports apart) so tests can point the
client at any server. What may be repeated is decided here, with tenacity: queries and
chunk downloads are retried on network errors, 5xx and 429 (after its `Retry-After`). A
mutation is repeated only when its request never left (the connection failed) or the server
refused it with 429: after a lost answer it raises, so one call never starts two exports.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx
import tenacity

from ..jsontypes import Json
from .chunk_http import ChunkConnections, plain_route
from .errors import (
    AuthenticationError,
    AuthorizationError,
    InternalServerError,
    InvalidQueryError,
    LabelboxError,
    MalformedQueryException,
    NetworkError,
    OperationNotAllowedError,
    ResourceNotFoundError,
)

_MUTATION = re.compile(r"\s*mutation\b")


@dataclass(frozen=True)
class ChunkInfo:
    """One server chunk: inclusive byte and line ranges, and its signed download URL."""

    start: int
    end: int
    line_start: int
    line_end: int
    url: str


class _Again(Exception):
    """A failure worth another try; `error` is raised once the tries run out, `after` is the
    server's `Retry-After` in seconds."""

    def __init__(self, error: LabelboxError, after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.after = after


class _Expired(Exception):
    """A chunk URL the storage refused: ask the server for a fresh one."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # total tries per request
    backoff: float = 0.25  # the first wait's ceiling, doubled each time (full jitter)
    max_backoff: float = 8.0
    max_retry_after: float = 120.0  # a longer Retry-After is reported, not waited for

    def retrying(self) -> tenacity.Retrying:
        return tenacity.Retrying(stop=tenacity.stop_after_attempt(self.attempts),
                                 wait=self._wait, retry=tenacity.retry_if_exception_type(_Again),
                                 reraise=True)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Again) and failure.after is not None:
            return failure.after
        return float(tenacity.wait_random_exponential(self.backoff, self.max_backoff)(state))


class Transport:
    """Posts GraphQL operations and downloads chunk files over one `httpx.Client`."""

    def __init__(self, api_key: str, endpoint: str, *, timeout: float = 60.0,
                 retry: RetryPolicy | None = None, user_agent: str = "export-widget",
                 transport: httpx.BaseTransport | None = None) -> None:
        self.endpoint = endpoint
        self.retry = retry or RetryPolicy()
        self._auth = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "X-User-Agent": user_agent,
        }
        # Chunk URLs are signed capabilities: no credentials go with them.
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0),
                                  transport=transport)
        # A transport of the caller's sees every request, chunk downloads included.
        self._chunks = ChunkConnections(timeout, 10.0) if transport is None else None

    def close(self) -> None:
        self._http.close()
        if self._chunks is not None:
            self._chunks.close()

    @property
    def experimental_endpoint(self) -> str:
        if self.endpoint.endswith("/graphql"):
            return self.endpoint[: -len("/graphql")] + "/_gql"
        return self.endpoint

    @property
    def rest_endpoint(self) -> str:
        """The SDK's REST base beside the GraphQL endpoint (`/graphql` -> `/api/v1`)."""
        return self.endpoint.removesuffix("/graphql") + "/api/v1"

    def credentials_for(self, url: str) -> dict[str, str]:
        """The API key header for a URL on this server's own origin (Labelbox serves
        composite masks there, behind the key); none for any other origin, so the key never
        goes to a media host."""
        if _origin(url) == _origin(self.endpoint):
            return {"Authorization": self._auth["Authorization"]}
        return {}

    # --- GraphQL ---

    def graphql(self, query: str, variables: Json | None = None, *,
                experimental: bool = False) -> Json:
        """The `data` of one operation; raises the mapped `LabelboxError` on errors."""
        url = self.experimental_endpoint if experimental else self.endpoint
        body = {"query": query, "variables": variables}
        try:
            data: Json = self.retry.retrying()(self._post, url, body,
                                               not _MUTATION.match(query))
        except _Again as failed:
            raise failed.error from failed.error.cause
        return data

    def _post(self, url: str, body: Json, repeatable: bool) -> Json:
        try:
            response = self._http.post(url, json=body, headers=self._auth)
        except httpx.TransportError as exc:
            if repeatable or isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                raise _Again(NetworkError(f"cannot reach {url}: {exc!r}", exc)) from exc
            raise NetworkError(f"lost the answer from {url} ({exc!r}): the mutation may have "
                               "run there, so it is not sent again", exc) from exc
        if response.status_code == 429:  # refused unprocessed: safe to send again
            raise self._rate_limited(response.headers.get("Retry-After"), url)
        if response.status_code >= 500:
            error: LabelboxError = InternalServerError(f"{response.status_code} from {url}: "
                                        f"{response.text[:200]}")
            raise _Again(error) if repeatable else error
        return self._data(response)

    def _rate_limited(self, retry_after: str | None, url: str) -> Exception:
        after = _retry_after(retry_after)
        error = LabelboxError(f"429 Too Many Requests from {url}"
                              + (f" (Retry-After: {after:g} s)" if after is not None else ""))
        if after is not None and after > self.retry.max_retry_after:
            return error
        return _Again(error, after)

    def _data(self, response: httpx.Response) -> Json:
        try:
            payload = response.json()
        except ValueError as exc:
            if response.status_code in (401, 403):
                raise AuthenticationError("Invalid API key") from exc
            raise LabelboxError(f"Failed to parse response as JSON: {response.text[:200]}",
                                exc) from exc
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            raise _map_error(errors[0], response.status_code)
        if response.status_code in (401, 403):
            raise AuthenticationError("Invalid API key")
        if response.status_code != 200 or not isinstance(payload.get("data"), dict):
            raise LabelboxError(f"{response.status_code} {response.reason_phrase}")
        data: Json = payload["data"]
        return data

    # --- export files ---

    def iter_chunk(self, info: ChunkInfo,
                   refetch: Callable[[int], ChunkInfo | None] | None = None) -> Iterator[bytes]:
        """The bytes of `info`'s range, as they arrive. A download that breaks resumes from
        the byte it reached (a Range request, or skipping on a full answer), with a fresh
        retry budget once bytes came; an expired URL is signed again by `refetch(offset)`."""
        pos = info.start
        refreshed = 0
        while pos <= info.end:
            try:
                pieces = self.retry.retrying()(self._open_chunk, info, pos)
            except _Again as failed:
                raise NetworkError(f"chunk download failed at byte {pos}: {failed}",
                                   failed.error) from None
            except _Expired:
                refreshed += 1
                fresh = refetch(pos) if refetch else None
                if fresh is None or refreshed >= self.retry.attempts:
                    raise NetworkError(f"chunk URL refused at byte {pos}") from None
                # The new chunk starts at `pos`; keep this chunk's end so callers' ranges hold.
                info = ChunkInfo(fresh.start, info.end, fresh.line_start, info.line_end,
                                 fresh.url)
                continue
            try:
                for piece in pieces:
                    pos += len(piece)
                    yield piece
            except httpx.TransportError:
                pass  # cut mid-body after some bytes: go on from `pos`
            finally:
                pieces.close()

    def _open_chunk(self, info: ChunkInfo, pos: int) -> Generator[bytes, None, None]:
        """The answer from `pos` on, once its first bytes came (so a download that dies
        before any byte counts as one failed try)."""
        skip = pos - info.start
        response = self._get(info.url, {"Range": f"bytes={skip}-"} if skip else {})
        try:
            status = response.status_code
            if status in (401, 403, 404, 410):
                raise _Expired()
            if status == 429:
                raise self._rate_limited(response.header("Retry-After"), info.url)
            if status >= 500:
                raise _Again(NetworkError(f"{status} on chunk download"))
            if status >= 400:
                raise LabelboxError(f"chunk download refused: HTTP {status}")
            pieces = _cut(response.iter_bytes(), 0 if status == 206 else skip,
                          info.end - pos + 1)
            first = next(pieces, b"")
            if not first:
                raise _Again(NetworkError("the answer ended before its first byte"))
        except httpx.TransportError as exc:
            response.close()
            raise _Again(NetworkError(repr(exc), exc)) from exc
        except BaseException:
            response.close()
            raise
        return _body(response, first, pieces)

    def _get(self, url: str, headers: dict[str, str]) -> _Answer:
        """Send a chunk GET; `_Again` when it could not be sent or answered."""
        try:
            if self._chunks is not None and plain_route(url):
                return self._chunks.get(url, headers)
            return _HttpxAnswer(self._http.send(self._http.build_request("GET", url,
                                                                         headers=headers),
                                                stream=True))
        except httpx.TransportError as exc:
            raise _Again(NetworkError(repr(exc), exc)) from exc


class _Answer(Protocol):
    status_code: int

    def header(self, name: str) -> str | None: ...

    def iter_bytes(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class _HttpxAnswer:
    """An httpx streaming response seen as an `_Answer`."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code

    def header(self, name: str) -> str | None:
        value: str | None = self._response.headers.get(name)
        return value

    def iter_bytes(self) -> Iterator[bytes]:
        return self._response.iter_bytes()

    def close(self) -> None:
        self._response.close()


def _body(response: _Answer, first: bytes, rest: Iterator[bytes]
          ) -> Generator[bytes, None, None]:
    try:
        yield first
        yield from rest
    finally:
        response.close()


def _cut(pieces: Iterator[bytes], skip: int, remaining: int) -> Iterator[bytes]:
    """`pieces` without their first `skip` bytes and cut after `remaining` bytes."""
    for data in pieces:
        if skip:
            if len(data) <= skip:
                skip -= len(data)
                continue
            data, skip = data[skip:], 0
        data = data[:remaining]
        remaining -= len(data)
        if remaining <= 0:
            # An answer of exactly the range ends here: reading its end puts the connection
            # back in the pool (a response closed before its end takes the connection with
            # it, and the next chunk would open a new one).
            with contextlib.suppress(httpx.TransportError):
                next(pieces, None)
        if data:
            yield data
        if remaining <= 0:
            return


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _map_error(error: Json, status: int) -> LabelboxError:
    message = str(error.get("message", error))
    code = (error.get("extensions") or {}).get("code")
    if code == "AUTHENTICATION_ERROR" or status == 401:
        return AuthenticationError(f"Invalid API key ({message})")
    if code == "AUTHORIZATION_ERROR":
        return AuthorizationError(message)
    if code == "RESOURCE_NOT_FOUND":
        return ResourceNotFoundError(message)
    if code in ("GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"):
        return InvalidQueryError(message)
    if code == "MALFORMED_REQUEST":
        return MalformedQueryException(message)
    if code == "OPERATION_NOT_ALLOWED":
        return OperationNotAllowedError(message)
    return LabelboxError(message if code is None else f"{code}: {message}")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = httpx.URL(url)
    return parts.scheme, parts.host, parts.port
