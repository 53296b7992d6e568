"""XYZ tile layers for the geospatial preview: the tiles covering a row's bounds, fetched and
resampled into one image of exactly those bounds.

A geospatial row's `row_data` may be a tile URL template (`https://host/{z}/{x}/{y}.png`, the
slippy-map scheme in Web Mercator) rather than one image. The preview draws shapes on the
bounds in plate carrée (longitude and latitude linear, as `preview.ts` projects them), so the
stitched Mercator tiles are resampled row by row onto that grid: the shapes then sit on the
pixels they name, at any latitude.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson

TEMPLATE = re.compile(r"\{[xyz]\}")
MAX_TILES = 16  # fetched per preview: a 4x4 block is enough detail for a 1000-px stage
MAX_ZOOM = 22
MAX_LATITUDE = 85.05112878  # Web Mercator's edge

Bounds = list[list[float]]  # [[west, south], [east, north]]


@dataclass(frozen=True)
class TileLayer:
    """A tile URL template and the deepest zoom it serves."""

    template: str
    max_zoom: int = MAX_ZOOM

    def url(self, z: int, x: int, y: int) -> str:
        return self.template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


@dataclass(frozen=True)
class Stitched:
    png: bytes
    size: tuple[int, int]
    zoom: int
    tiles: int


def tile_layer(row_data: str) -> TileLayer | None:
    """The tile layer `row_data` names: a bare template, or Labelbox's tile-layer JSON
    (`tileLayerUrl`, `maxZoom`); None for a plain image URL."""
    text = row_data.strip()
    if text.startswith("{"):
        try:
            spec = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        url = spec.get("tileLayerUrl") or spec.get("tile_layer_url") if isinstance(spec, dict) \
            else None
        if not isinstance(url, str) or not TEMPLATE.search(url):
            return None
        zoom = spec.get("maxZoom", spec.get("max_zoom"))
        return TileLayer(url, int(zoom) if isinstance(zoom, int | float) else MAX_ZOOM)
    return TileLayer(text) if TEMPLATE.search(text) else None


def _world_x(lon: float, n: int) -> float:
    """Longitude to x in tile units at a zoom with `n` tiles per side."""
    return (lon + 180.0) / 360.0 * n


def _world_y(lat: float, n: int) -> float:
    phi = math.radians(max(-MAX_LATITUDE, min(MAX_LATITUDE, lat)))
    return (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * n


def tile_span(bounds: Bounds, zoom: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), inclusive: the tiles covering `bounds` at `zoom`."""
    (west, south), (east, north) = bounds
    n = 1 << zoom
    last = n - 1

    def clamp(v: float) -> int:
        return max(0, min(last, math.floor(v)))

    return (clamp(_world_x(west, n)), clamp(_world_y(north, n)),
            clamp(_world_x(east, n)), clamp(_world_y(south, n)))


def covering_zoom(bounds: Bounds, max_zoom: int = MAX_ZOOM, max_tiles: int = MAX_TILES) -> int:
    """The deepest zoom at which at most `max_tiles` tiles cover `bounds`."""
    for zoom in range(max(0, min(max_zoom, MAX_ZOOM)), -1, -1):
        x0, y0, x1, y1 = tile_span(bounds, zoom)
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= max_tiles:
            return zoom
    return 0


def stitch(layer: TileLayer, bounds: Bounds, fetch: Callable[[str], bytes],
           max_tiles: int = MAX_TILES) -> Stitched:
    """Fetch the tiles covering `bounds` and resample them onto the bounds' lon/lat grid.

    `fetch(url)` returns a tile's bytes and raises (with its reason) when it cannot.
    """
    from PIL import Image

    (west, south), (east, north) = bounds
    if not (west < east and south < north):
        raise ValueError(f"bounds: west < east and south < north needed, got {bounds}")
    zoom = covering_zoom(bounds, layer.max_zoom, max_tiles)
    x0, y0, x1, y1 = tile_span(bounds, zoom)
    tiles: dict[tuple[int, int], np.ndarray] = {}
    side = 0
    for ty in range(y0, y1 + 1):
        for tx in range(x0, x1 + 1):
            with Image.open(io.BytesIO(fetch(layer.url(zoom, tx, ty)))) as im:
                pixels = np.asarray(im.convert("RGBA"))
            side = side or pixels.shape[1]
            if pixels.shape[:2] != (side, side):
                raise ValueError(f"tile {zoom}/{tx}/{ty} is {pixels.shape[1]}x"
                                 f"{pixels.shape[0]} px; the layer's tiles are {side} px "
                                 "squares")
            tiles[(tx, ty)] = pixels
    mosaic = np.zeros(((y1 - y0 + 1) * side, (x1 - x0 + 1) * side, 4), dtype=np.uint8)
    for (tx, ty), pixels in tiles.items():
        mosaic[(ty - y0) * side:(ty - y0 + 1) * side,
               (tx - x0) * side:(tx - x0 + 1) * side] = pixels
    n = 1 << zoom
    # The output keeps the mosaic's detail across, and the preview's aspect (cos-latitude
    # shrunk longitude) down, so the browser stretches it by the same factor both ways.
    width = max(1, round((_world_x(east, n) - _world_x(west, n)) * side))
    k = math.cos(math.radians((south + north) / 2))
    height = max(1, round(width * (north - south) / ((east - west) * k)))
    lons = west + (np.arange(width) + 0.5) / width * (east - west)
    lats = north - (np.arange(height) + 0.5) / height * (north - south)
    cols = ((lons + 180.0) / 360.0 * n - x0) * side
    phi = np.radians(np.clip(lats, -MAX_LATITUDE, MAX_LATITUDE))
    rows = ((1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / np.pi) / 2.0 * n - y0) * side
    ci = np.clip(cols.astype(np.int64), 0, mosaic.shape[1] - 1)
    ri = np.clip(rows.astype(np.int64), 0, mosaic.shape[0] - 1)
    out = mosaic[ri[:, None], ci[None, :]]
    buf = io.BytesIO()
    Image.fromarray(out, "RGBA").save(buf, format="PNG")
    return Stitched(buf.getvalue(), (width, height), zoom, len(tiles))
