"""Mask pixels fetched over HTTP, for model-run metrics."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from export_widget.inspect import model_run_metrics
from export_widget.masks import MaskLoader


@pytest.fixture
def masks_url(tmp_path: Path) -> Iterator[str]:
    """Two 64x48 masks on a loopback HTTP server: `banded.png` is white over its top 32 rows
    and grey over the 16 below; `full.png` is white everywhere."""
    banded = Image.new("RGB", (64, 48), (127, 127, 127))
    banded.paste((255, 255, 255), (0, 0, 64, 32))
    banded.save(tmp_path / "banded.png")
    Image.new("RGB", (64, 48), (255, 255, 255)).save(tmp_path / "full.png")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_plain_and_composite_masks_become_booleans(masks_url: str) -> None:
    load = MaskLoader()
    plain = load({"url": f"{masks_url}/banded.png"})
    assert plain.shape == (48, 64) and plain.all()
    white = load({"url": f"{masks_url}/banded.png", "color_rgb": [255, 255, 255]})
    grey = load({"url": f"{masks_url}/banded.png", "color_rgb": [127, 127, 127]})
    assert int(white.sum()) == 32 * 64 and int(grey.sum()) == 16 * 64
    assert not (white & grey).any()


def test_metrics_read_the_pixels_of_two_different_mask_files(masks_url: str) -> None:
    def row(truth, pred):
        return {"data_row": {"id": "r"}, "experiments": {"m": {"runs": {"run": {
            "name": "v1",
            "labels": [{"annotations": {"objects": [
                {"name": "sky", "feature_id": "t", "composite_mask": truth}]}}],
            "predictions": [{"annotations": {"objects": [
                {"name": "sky", "feature_id": "p", "mask": pred}]}}]}}}}}

    truth = {"url": f"{masks_url}/banded.png", "color_rgb": [255, 255, 255]}
    pred = {"url": f"{masks_url}/full.png"}
    m = model_run_metrics([row(truth, pred)], iou=0.5, masks=MaskLoader())
    assert m.matches.loc[0, "iou"] == pytest.approx(2 / 3)  # 2,048 of 3,072 pixels
    assert m.features.loc[0, ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
    m = model_run_metrics([row(truth, pred)], iou=0.7, masks=MaskLoader())
    assert m.features.loc[0, ["tp", "fp", "fn"]].tolist() == [0, 1, 1]


def test_an_unreadable_mask_is_named(masks_url: str) -> None:
    load = MaskLoader()
    with pytest.raises(ValueError, match=r"mask.url: .*answered HTTP 404"):
        load({"url": f"{masks_url}/no/such.png"})
    with pytest.raises(ValueError, match=r"mask\.url: an http\(s\) URL is needed"):
        load({"url": "/media/masks/x.png"})


class _KeyedMasks(http.server.SimpleHTTPRequestHandler):
    """Serves its directory only to requests carrying `Bearer key` (as Labelbox guards its
    composite-mask URLs); others get 401."""

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer key":
            self.send_error(401)
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


def test_the_widget_sends_the_key_to_its_own_server_only(tmp_path: Path) -> None:
    from export_widget import ExportWidget
    from export_widget.client import Client, RetryPolicy
    from export_widget.media import MediaError

    Image.new("RGB", (8, 4), (255, 255, 255)).save(tmp_path / "mask.png")
    handler = functools.partial(_KeyedMasks, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    own, other = f"http://127.0.0.1:{port}/mask.png", f"http://localhost:{port}/mask.png"
    # No GraphQL here: the widget's catalog read fails at once and says so; masks still load.
    client = Client(api_key="key", endpoint=f"http://127.0.0.1:{port}/graphql",
                    retry=RetryPolicy(attempts=1))
    widget = ExportWidget(client, history=tmp_path / "history")
    try:
        assert client.credentials_for(own) == {"Authorization": "Bearer key"}
        assert client.credentials_for(other) == {}
        assert widget.mask_loader()({"url": own}).all()
        fetcher = widget.preview_service.fetcher
        assert fetcher.fetch(own, 1_000)[1] == "image/png"
        # Another origin (the same socket under another name) never sees the key.
        with pytest.raises(MediaError, match="HTTP 401"):
            fetcher.fetch(other, 1_000)
        with pytest.raises(ValueError, match="answered HTTP 401"):
            MaskLoader()({"url": own})
    finally:
        widget.close()
        client.close()
        server.shutdown()
        server.server_close()
