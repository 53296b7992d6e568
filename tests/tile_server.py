"""A slippy-map tile server on loopback for the tile-layer tests: /{z}/{x}/{y}.png is a
256-px square in a colour computed from its address (so a test can tell which tile a pixel
came from) with a 1-px dark edge (so a picture shows where tiles meet)."""

from __future__ import annotations

import contextlib
import http.server
import io
import threading
from collections.abc import Iterator

from PIL import Image

MAX_ZOOM = 18
EDGE = (30, 30, 30)


def tile_colour(z: int, x: int, y: int) -> tuple[int, int, int]:
    return (40 + x * 53 % 200, 40 + y * 97 % 200, 100 + z)


class _Tiles(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        try:
            z, x, name = self.path.strip("/").split("/")
            address = (int(z), int(x), int(name.removesuffix(".png")))
        except ValueError:
            self.send_error(404)
            return
        if address[0] > MAX_ZOOM:
            self.send_error(404)
            return
        buf = io.BytesIO()
        tile = Image.new("RGB", (256, 256), EDGE)
        tile.paste(tile_colour(*address), (1, 1, 255, 255))
        tile.save(buf, format="PNG")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(buf.tell()))
        self.end_headers()
        self.wfile.write(buf.getvalue())

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve_tiles() -> Iterator[str]:
    """The server's base URL (tiles past zoom 18, and any other path, answer 404)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
