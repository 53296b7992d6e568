"""A loopback reverse proxy that records every GraphQL operation passing through it.

Both the official SDK and our client are pointed at it, so their traffic can be compared
as it was actually sent, not as either library says it sends it.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

_NAME = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")


@dataclass(frozen=True)
class Call:
    name: str
    query: str
    variables: Any
    path: str


class RecordingProxy:
    """Forwards POSTs (recorded) and GETs to `upstream`.

    The Host header is passed through, so the server signs chunk URLs that point back at
    the proxy; `cut_downloads` makes the next N chunk downloads stop halfway, once each.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.calls: list[Call] = []
        self.cut_downloads = 0
        # Act like Labelbox's own server: no stream header while the task still runs.
        self.hide_running_headers = False
        self.fail_posts = 0  # answer the next N GraphQL posts with 503
        self.refuse_downloads = 0  # answer the next N chunk downloads 403 (an expired URL)
        # Operation name -> how many of its next posts to forward and then leave unanswered
        # (the connection closes: a lost answer), or to refuse with 429 and `retry_after`.
        self.drop_answers: dict[str, int] = {}
        self.rate_limit: dict[str, int] = {}
        self.retry_after = "1"
        self.hidden_headers = 0
        self._last_status: str | None = None
        self.downloads: list[tuple[str, str | None, int]] = []  # path, Range, bytes sent
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                name = "?"
                try:
                    payload = json.loads(body)
                    match = _NAME.match(payload.get("query", ""))
                    name = match.group(1) if match else "?"
                    with proxy._lock:
                        proxy.calls.append(Call(name, payload.get("query", ""),
                                                payload.get("variables"), self.path))
                except ValueError:
                    pass
                with proxy._lock:
                    fail = proxy.fail_posts > 0
                    proxy.fail_posts -= int(fail)
                    limited = proxy._take(proxy.rate_limit, name)
                    drop = proxy._take(proxy.drop_answers, name)
                if fail:
                    self._reply(503, b"upstream connect error", "text/plain")
                    return
                if limited:
                    self._reply(429, b"slow down", "text/plain",
                                {"Retry-After": proxy.retry_after})
                    return
                if (name == "GetExportMetadataHeaderPyApi" and proxy.hide_running_headers
                        and proxy._last_status == "IN_PROGRESS"):
                    proxy.hidden_headers += 1
                    self._reply(200, b'{"data": {"task": {"exportMetadataHeader": null}}}',
                                "application/json")
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("authorization", "content-type", "accept", "host")}
                answer = httpx.post(proxy.upstream + self.path, content=body, headers=headers,
                                    timeout=60)
                if drop:
                    self.close_connection = True  # the server did the work; the answer is lost
                    return
                if name == "GetUserCreatedTasksPyApi" and answer.status_code == 200:
                    tasks = answer.json()["data"]["user"]["createdTasks"]
                    proxy._last_status = tasks[0]["status"] if tasks else None
                self._reply(answer.status_code, answer.content,
                            answer.headers.get("content-type", "text/plain"))

            def _reply(self, status: int, content: bytes, content_type: str,
                       headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self) -> None:
                with proxy._lock:
                    refuse = proxy.refuse_downloads > 0
                    proxy.refuse_downloads -= int(refuse)
                if refuse:
                    proxy.downloads.append((self.path, None, 0))
                    self._reply(403, b"expired", "text/plain")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("range",)}
                answer = httpx.get(proxy.upstream + self.path, headers=headers, timeout=60)
                body = answer.content
                with proxy._lock:
                    cut = proxy.cut_downloads > 0
                    proxy.cut_downloads -= int(cut)
                sent = len(body) // 2 if cut else len(body)
                proxy.downloads.append((self.path, self.headers.get("Range"), sent))
                self.send_response(answer.status_code)
                for key in ("content-type", "content-range"):
                    if key in answer.headers:
                        self.send_header(key, answer.headers[key])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:sent])
                self.wfile.flush()
                if cut:
                    self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return self.base_url + "/graphql"

    @staticmethod
    def _take(counts: dict[str, int], name: str) -> bool:
        left = counts.get(name, 0)
        if left:
            counts[name] = left - 1
        return left > 0

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def take(self) -> list[Call]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
