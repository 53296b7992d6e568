"""A chunk download that breaks is retried and resumes at the byte it reached.

The chunk is served by a real HTTP server on loopback that misbehaves on purpose: it cuts the
body short, answers 500 once, or ignores Range requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from export_widget.client import Client
from export_widget.client.errors import InternalServerError, NetworkError
from export_widget.client.transport import ChunkInfo, RetryPolicy, Transport
from export_widget.server.runner import LocalServer

from .conftest import finish
from .recording_proxy import RecordingProxy

PAYLOAD = "".join(f'{{"row": {i}, "text": "naïve 日本語 {i}"}}\n' for i in range(2000)).encode()


@dataclass
class Faults:
    cut_after: list[int] = field(default_factory=list)  # one entry per request to cut short
    fail_500: int = 0
    honour_range: bool = True
    ranges: list[str | None] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    faults: Faults

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        faults = self.server.faults  # type: ignore[attr-defined]
        header = self.headers.get("Range")
        faults.ranges.append(header)
        if faults.fail_500:
            faults.fail_500 -= 1
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, status = PAYLOAD, 200
        if header and faults.honour_range:
            start = int(header.removeprefix("bytes=").rstrip("-"))
            body, status = PAYLOAD[start:], 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if faults.cut_after:
            self.wfile.write(body[: faults.cut_after.pop(0)])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def chunk_server() -> Iterator[tuple[str, Faults]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.faults = Faults()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/chunk", httpd.faults  # type: ignore[attr-defined]
    httpd.shutdown()
    httpd.server_close()


def _transport() -> Transport:
    return Transport("k", "http://127.0.0.1:9/graphql", retry=RetryPolicy(attempts=4, backoff=0.01))


def _info(url: str) -> ChunkInfo:
    return ChunkInfo(0, len(PAYLOAD) - 1, 0, 1999, url)


def test_short_read_resumes_with_a_range_request(chunk_server: tuple[str, Faults]) -> None:
    url, faults = chunk_server
    faults.cut_after = [70_001]
    got = b"".join(_transport().iter_chunk(_info(url)))
    assert got == PAYLOAD
    assert faults.ranges[0] is None
    resumed_at = int(str(faults.ranges[1]).removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 70_001


def test_resume_skips_bytes_when_the_server_ignores_range(chunk_server: tuple[str, Faults]
                                                          ) -> None:
    url, faults = chunk_server
    faults.honour_range = False
    faults.cut_after = [12_345, 50_000]  # cut twice, inside multibyte text
    assert b"".join(_transport().iter_chunk(_info(url))) == PAYLOAD


def test_5xx_on_a_chunk_is_retried(chunk_server: tuple[str, Faults]) -> None:
    url, faults = chunk_server
    faults.fail_500 = 2
    assert b"".join(_transport().iter_chunk(_info(url))) == PAYLOAD
    assert len(faults.ranges) == 3


def test_persistent_failure_raises_network_error_naming_the_byte(
        chunk_server: tuple[str, Faults]) -> None:
    url, faults = chunk_server
    faults.fail_500 = 10
    with pytest.raises(NetworkError, match=r"chunk download failed at byte 0"):
        b"".join(_transport().iter_chunk(_info(url)))


def test_a_sub_range_of_the_file_is_cut_exactly(chunk_server: tuple[str, Faults]) -> None:
    url, _ = chunk_server
    # A chunk URL always serves its own range; the reader must not read past `end`.
    got = b"".join(_transport().iter_chunk(ChunkInfo(0, 99, 0, 0, url)))
    assert got == PAYLOAD[:100]


def test_export_stream_survives_cut_downloads_through_a_proxy(server: LocalServer,
                                                              client: Client) -> None:
    """End to end: the real server's chunk downloads are cut halfway, twice."""
    proxy = RecordingProxy(server.base_url)
    try:
        with Client(api_key=server.api_key, endpoint=proxy.endpoint,
                    retry=RetryPolicy(attempts=4, backoff=0.01)) as via_proxy:
            task = finish(via_proxy.get_catalog().export(params={"attachments": True}))
            direct = [o.json_str for o in
                      finish(client.get_task(task.uid)).get_stream()]
            proxy.cut_downloads = 2
            got = [o.json_str for o in task.get_stream()]
        assert got == direct and got
        cut = [d for d in proxy.downloads if d[0].startswith("/files/")]
        assert len(cut) >= 3  # two cut answers, then the retries that completed them
        assert all(path == cut[0][0] for path, _, _ in cut[:3])
    finally:
        proxy.close()


def test_graphql_5xx_is_retried_then_reported(server: LocalServer) -> None:
    proxy = RecordingProxy(server.base_url)
    try:
        with Client(api_key=server.api_key, endpoint=proxy.endpoint,
                    retry=RetryPolicy(attempts=4, backoff=0.01)) as via_proxy:
            proxy.fail_posts = 3
            assert via_proxy.get_projects()  # the fourth try gets through
            proxy.fail_posts = 4
            with pytest.raises(InternalServerError, match="503"):
                via_proxy.get_datasets()
    finally:
        proxy.close()


def test_unreachable_server_raises_network_error() -> None:
    with Client(api_key="k", endpoint="http://127.0.0.1:9/graphql",
                retry=RetryPolicy(attempts=2, backoff=0.01)) as dead, \
            pytest.raises(NetworkError, match=r"cannot reach http://127\.0\.0\.1:9/graphql"):
        dead.get_projects()


def test_refused_chunk_url_is_signed_again(server: LocalServer, client: Client) -> None:
    proxy = RecordingProxy(server.base_url)
    try:
        with Client(api_key=server.api_key, endpoint=proxy.endpoint,
                    retry=RetryPolicy(attempts=4, backoff=0.01)) as via_proxy:
            task = finish(via_proxy.get_catalog().export())
            proxy.take()
            proxy.refuse_downloads = 1
            got = [o.json_str for o in task.get_stream()]
        assert got == [o.json_str for o in client.get_task(task.uid).get_stream()]
        offsets = [c.variables["offset"] for c in proxy.take()
                   if c.name == "GetExportFileFromOffsetPyApi"]
        assert offsets[:2] == ["0", "0"]  # a fresh URL was asked for where the refusal hit
        assert proxy.downloads[0][2] == 0 and len(proxy.downloads) >= 2
    finally:
        proxy.close()
