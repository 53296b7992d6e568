"""Mask pixels for model-run metrics: fetch a mask image over HTTP and turn it into booleans.

Kernel side (it does HTTP, so it is not in `inspect/`). A plain `mask` is a black-and-white
image: a pixel belongs to the mask when it is not black. A `composite_mask` holds several
objects in one image, each in its own colour: a pixel belongs to the object when it has the
object's `color_rgb`. Images are fetched once per URL and kept for the loader's life.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import numpy as np

from .inspect.geometry import BoolArray


class MaskLoader:
    """`masks=` for `model_run_metrics`: a mask dict (`{url}` or `{url, color_rgb}`) ->
    boolean pixels. `headers` go with every request (Labelbox's composite-mask URLs want the
    API key: `{"Authorization": "Bearer <key>"}`); `headers_for(url)` adds headers per URL
    (`Client.credentials_for`, which sends the key to its own server only)."""

    def __init__(self, headers: Mapping[str, str] | None = None, timeout: float = 30.0,
                 fetch: Callable[[str], bytes] | None = None,
                 headers_for: Callable[[str], Mapping[str, str]] | None = None) -> None:
        self._headers = dict(headers or {})
        self._headers_for = headers_for
        self._timeout = timeout
        # The widget passes its own fetcher (the one its COCO writer uses): one way to GET.
        self._fetch = fetch or self._get
        self._images: dict[str, Any] = {}

    def __call__(self, ref: Mapping[str, Any]) -> BoolArray:
        url = str(ref.get("url") or "")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"mask.url: an http(s) URL is needed to read the pixels, got {url!r}")
        rgb = self._image(url)
        color = ref.get("color_rgb")
        if color:
            if len(color) != 3:
                raise ValueError(f"composite_mask.color_rgb: three numbers, got {color!r}")
            return np.asarray(np.all(rgb == np.asarray(color, dtype=rgb.dtype), axis=-1))
        return np.asarray(rgb.max(axis=-1) > 0)

    def _image(self, url: str) -> Any:
        if url not in self._images:
            from PIL import Image

            try:
                content = self._fetch(url)
            except httpx.HTTPStatusError as exc:
                raise ValueError(f"mask.url: {url} answered HTTP "
                                 f"{exc.response.status_code}") from None
            with Image.open(io.BytesIO(content)) as image:
                self._images[url] = np.asarray(image.convert("RGB"))
        return self._images[url]

    def _get(self, url: str) -> bytes:
        headers = {**self._headers, **(self._headers_for(url) if self._headers_for else {})}
        response = httpx.get(url, headers=headers, timeout=self._timeout,
                             follow_redirects=True)
        response.raise_for_status()
        return response.content
