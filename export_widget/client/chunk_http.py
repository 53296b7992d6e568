"""Signed chunk downloads over the standard library's `http.client`, read in large blocks.

A chunk download is one plain GET of a known length, repeated hundreds of times per export,
and it runs in the same process (and under the same GIL) as the parser that needs the bytes.
httpx spent 2.5 CPU-s downloading 1.5 GB over loopback (h11 handles each 64 KiB read in
Python), these GETs 0.6 s: they read the socket in large blocks. httpx still posts every
GraphQL operation, and it also downloads the chunks when the caller gave it its own
transport or a proxy applies.

Failures raise httpx's own exception types (`httpx.ConnectError`, `httpx.ReadError`,
`httpx.RemoteProtocolError`), so the caller's retry and resume rules are the same for both
paths.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from functools import cache
from urllib.parse import urlsplit

import certifi
import httpx

# The first read of an answer is small, so its first lines come as soon as they arrive;
# the rest is read in blocks as large as the server's chunks. Each read that blocks hands
# the GIL back, and a thread waiting for it behind a busy parser waits up to the switch
# interval (5 ms): with 1 MiB reads a 200,000-row stream took 7.7-8.7 s, with 8 MiB reads
# 7.2-7.7 s (reads that return what has arrived, `read1`, were slower still: 8.6-9.3 s).
FIRST_BLOCK = 256 << 10
BLOCK = 8 << 20
IDLE_PER_ORIGIN = 4  # connections kept for the next GET (one stream uses one)

Origin = tuple[str, str, int]


def plain_route(url: str) -> bool:
    """True when `url` is reached directly (http or https, and no proxy is configured for
    it): only then does this module take the download."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return True
    return bool(urllib.request.proxy_bypass(parts.hostname))


class ChunkResponse:
    """An answer whose body is read in large pieces; hands its connection back to
    the pool when read to the end, and drops it when closed early."""

    def __init__(self, pool: ChunkConnections, origin: Origin,
                 connection: http.client.HTTPConnection,
                 response: http.client.HTTPResponse) -> None:
        self._pool = pool
        self._origin = origin
        self._connection: http.client.HTTPConnection | None = connection
        self._response = response
        self.status_code = response.status

    def header(self, name: str) -> str | None:
        return self._response.getheader(name)

    def iter_bytes(self) -> Iterator[bytes]:
        size = FIRST_BLOCK
        try:
            while True:
                try:
                    block = self._response.read(size)
                    size = BLOCK
                except http.client.IncompleteRead as exc:
                    raise httpx.ReadError(f"the answer ended early: {exc!r}") from exc
                except (OSError, http.client.HTTPException) as exc:
                    raise httpx.ReadError(repr(exc)) from exc
                if not block:
                    break
                yield block
        except BaseException:
            self.close()
            raise
        self._release()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._response.close()
            connection.close()

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._response.will_close:
            connection.close()
        else:
            self._pool.put(self._origin, connection)


class ChunkConnections:
    """Keep-alive connections per origin, shared by the threads that download chunks."""

    def __init__(self, timeout: float, connect_timeout: float) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, headers: dict[str, str]) -> ChunkResponse:
        """Send a GET for `url` and return once the status line and headers came."""
        parts = urlsplit(url)
        scheme = parts.scheme
        port = parts.port or (443 if scheme == "https" else 80)
        origin: Origin = (scheme, parts.hostname or "", port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        reused = self._take(origin)
        if reused is not None:
            # A kept-alive connection the server closed meanwhile fails at once: one fresh
            # try, as any keep-alive client does.
            with contextlib.suppress(httpx.TransportError):
                return self._send(origin, reused, target, headers)
        return self._send(origin, self._connect(origin), target, headers)

    def _send(self, origin: Origin, connection: http.client.HTTPConnection, target: str,
              headers: dict[str, str]) -> ChunkResponse:
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise _request_error(exc) from exc
        return ChunkResponse(self, origin, connection, response)

    def put(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < IDLE_PER_ORIGIN:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle = [c for conns in self._idle.values() for c in conns]
            self._idle.clear()
        for connection in idle:
            connection.close()

    def _take(self, origin: Origin) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(origin)
            return idle.pop() if idle else None

    def _connect(self, origin: Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=self._connect_timeout,
                                                     context=_tls_context())
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._connect_timeout)
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc!r}") from exc
        assert connection.sock is not None
        connection.sock.settimeout(self._timeout)
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection


def _request_error(exc: BaseException) -> httpx.TransportError:
    """A failure after the connection was made (connecting raises `ConnectError`)."""
    if isinstance(exc, http.client.RemoteDisconnected | http.client.BadStatusLine):
        return httpx.RemoteProtocolError(repr(exc))
    return httpx.ReadError(repr(exc))


@cache
def _tls_context() -> ssl.SSLContext:
    # The same trust store httpx uses, so both paths accept the same servers.
    return ssl.create_default_context(cafile=certifi.where())
