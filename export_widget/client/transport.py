"""HTTP for the client: GraphQL calls with retries and error mapping, and resumable chunk reads.

Kept apart from the API objects (as httpx keeps its transports apart) so tests can point the
client at any server, and so retry policy lives in one place.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

from ..jsontypes import Json
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

PIECE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ChunkInfo:
    """One server chunk: inclusive byte and line ranges, and its signed download URL."""

    start: int
    end: int
    line_start: int
    line_end: int
    url: str


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # total tries per request
    backoff: float = 0.25  # first wait, doubled each time (with jitter)
    max_backoff: float = 8.0

    def wait(self, attempt: int) -> None:
        delay = min(self.max_backoff, self.backoff * 2**attempt)
        time.sleep(delay * (0.75 + random.random() / 2))


class _Retryable(Exception):
    pass


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

    def close(self) -> None:
        self._http.close()

    @property
    def experimental_endpoint(self) -> str:
        if self.endpoint.endswith("/graphql"):
            return self.endpoint[: -len("/graphql")] + "/_gql"
        return self.endpoint

    # --- GraphQL ---

    def graphql(self, query: str, variables: Json | None = None, *,
                experimental: bool = False, idempotent: bool = True) -> Json:
        """The `data` of one operation; raises the mapped `LabelboxError` on errors."""
        url = self.experimental_endpoint if experimental else self.endpoint
        body = {"query": query, "variables": variables}
        last: BaseException | None = None
        for attempt in range(self.retry.attempts if idempotent else 1):
            if attempt:
                self.retry.wait(attempt - 1)
            try:
                response = self._http.post(url, json=body, headers=self._auth)
            except httpx.TransportError as exc:
                last = exc
                continue
            if response.status_code >= 500:
                last = InternalServerError(f"{response.status_code} from {url}: "
                                           f"{response.text[:200]}")
                continue
            return self._data(response)
        if isinstance(last, LabelboxError):
            raise last
        raise NetworkError(f"cannot reach {url} after {self.retry.attempts} tries: {last}",
                           last)

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
        """The bytes of `info`'s range, as they arrive. A broken or short download is
        retried from the byte it reached (Range request, or skipping on a full answer);
        an expired URL is refreshed through `refetch(offset)`."""
        pos = info.start
        failures = 0
        while pos <= info.end:
            try:
                for piece in self._get_from(info, pos):
                    pos += len(piece)
                    failures = 0
                    yield piece
                if pos <= info.end:
                    raise _Retryable(f"short read: got {pos - info.start} of "
                                     f"{info.end - info.start + 1} bytes")
            except (httpx.TransportError, _Retryable) as exc:
                failures += 1
                if failures >= self.retry.attempts:
                    raise NetworkError(f"chunk download failed at byte {pos}: {exc}", exc) from exc
                self.retry.wait(failures - 1)
            except _Expired:
                failures += 1
                fresh = refetch(pos) if refetch else None
                if fresh is None or failures >= self.retry.attempts:
                    raise NetworkError(f"chunk URL refused at byte {pos}") from None
                # The new chunk starts at `pos`; keep this chunk's end so callers' ranges hold.
                info = ChunkInfo(fresh.start, info.end, fresh.line_start, info.line_end,
                                 fresh.url)

    def _get_from(self, info: ChunkInfo, pos: int) -> Iterator[bytes]:
        skip = pos - info.start
        headers = {"Range": f"bytes={skip}-"} if skip else {}
        with self._http.stream("GET", info.url, headers=headers) as response:
            if response.status_code >= 500:
                raise _Retryable(f"{response.status_code} on chunk download")
            if response.status_code in (401, 403, 404, 410):
                raise _Expired()
            if response.status_code >= 400:
                raise LabelboxError(f"chunk download refused: HTTP {response.status_code}")
            if response.status_code == 206:
                skip = 0
            remaining = info.end - pos + 1
            for data in response.iter_bytes(PIECE_BYTES):
                if skip:
                    if len(data) <= skip:
                        skip -= len(data)
                        continue
                    data = data[skip:]
                    skip = 0
                if len(data) > remaining:
                    data = data[:remaining]
                remaining -= len(data)
                if data:
                    yield data
                if remaining <= 0:
                    return


class _Expired(Exception):
    pass


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
