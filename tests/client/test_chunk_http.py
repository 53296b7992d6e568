"""Chunk downloads over `http.client`: kept-alive connections, dropped ones, and proxies.

The servers are real HTTP/1.1 servers on loopback that count the connections they accept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from export_widget.client.chunk_http import plain_route
from export_widget.client.transport import ChunkInfo, RetryPolicy, Transport

PAYLOAD = b"".join(b'{"row": %d}\n' % i for i in range(250_000))  # several BLOCKs


class _Server(ThreadingHTTPServer):
    connections = 0
    paths: list[str]
    hang_up = False  # close each connection after its answer, without saying so


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the export server answers

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)
        self.close_connection = self.server.hang_up  # type: ignore[attr-defined]


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.paths = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: _Server, path: str = "/chunk") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def _transport() -> Transport:
    return Transport("k", "http://127.0.0.1:9/graphql", retry=RetryPolicy(attempts=2,
                                                                           backoff=0.01))


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_chunks_read_to_the_end_share_one_connection(server: _Server) -> None:
    transport = _transport()
    info = ChunkInfo(0, len(PAYLOAD) - 1, 0, 249_999, _url(server))
    for _ in range(5):
        assert b"".join(transport.iter_chunk(info)) == PAYLOAD
    transport.close()
    assert server.connections == 1
    assert len(server.paths) == 5


def test_a_kept_connection_the_server_closed_is_replaced_without_a_retry(
        server: _Server) -> None:
    server.hang_up = True
    transport = Transport("k", "http://127.0.0.1:9/graphql", retry=RetryPolicy(attempts=1))
    info = ChunkInfo(0, len(PAYLOAD) - 1, 0, 249_999, _url(server))
    for _ in range(3):  # one try each: the stale connection must not cost it
        assert b"".join(transport.iter_chunk(info)) == PAYLOAD
    transport.close()
    assert server.connections == 3


def test_a_chunk_left_early_drops_its_connection(server: _Server) -> None:
    transport = _transport()
    info = ChunkInfo(0, len(PAYLOAD) - 1, 0, 249_999, _url(server))
    pieces = transport.iter_chunk(info)
    next(pieces)
    pieces.close()  # the rest of the body is still in flight: that connection cannot serve
    assert b"".join(transport.iter_chunk(info)) == PAYLOAD
    transport.close()
    assert server.connections == 2


def test_a_cut_range_ends_exactly_and_keeps_the_connection(server: _Server) -> None:
    transport = _transport()
    info = ChunkInfo(0, 99, 0, 0, _url(server))
    assert b"".join(transport.iter_chunk(info)) == PAYLOAD[:100]
    full = ChunkInfo(0, len(PAYLOAD) - 1, 0, 249_999, _url(server))
    assert b"".join(transport.iter_chunk(full)) == PAYLOAD
    transport.close()
    # The server sent the whole file for the short range; the reader drained it and
    # only then reused the connection, or it would have read the old answer's tail.
    assert server.connections <= 2


def test_a_configured_proxy_gets_the_download(server: _Server,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """With a proxy configured the download goes through httpx, which speaks to the proxy
    (this server plays it: it receives the absolute URL)."""
    monkeypatch.setenv("HTTP_PROXY", _url(server, ""))
    url = "http://chunks.invalid/files/abc"
    assert not plain_route(url)
    transport = _transport()
    assert b"".join(transport.iter_chunk(ChunkInfo(0, len(PAYLOAD) - 1, 0, 249_999, url))
                    ) == PAYLOAD
    transport.close()
    assert server.paths == [url]


def test_plain_route_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    assert plain_route("http://127.0.0.1:8000/files/x")
    assert plain_route("https://storage.example/files/x")
    assert not plain_route("ftp://storage.example/x")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert not plain_route("https://storage.example/files/x")
    assert plain_route("http://storage.example/files/x")  # no proxy for plain http
    monkeypatch.setenv("NO_PROXY", "storage.example")
    assert plain_route("https://storage.example/files/x")
