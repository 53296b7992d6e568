"""A `{z}/{x}/{y}` tile layer in the geospatial preview: the tiles covering the row's bounds,
fetched from a loopback tile server and resampled onto the bounds' lon/lat grid."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pytest
from PIL import Image
from tile_server import serve_tiles, tile_colour

from export_widget.inspect import shapes_of
from export_widget.media import MediaFetcher
from export_widget.tiles import MAX_TILES, TileLayer, covering_zoom, stitch, tile_layer, tile_span


@pytest.fixture(scope="module")
def tiles_url() -> Iterator[str]:
    with serve_tiles() as url:
        yield url


# Around the Eiffel tower: far enough north that Mercator rows are visibly uneven.
BOUNDS = [[2.2840, 48.8520], [2.3040, 48.8640]]


def slippy(lon: float, lat: float, z: int) -> tuple[float, float]:
    """(x, y) in tile units, from the slippy-map formulas."""
    n = 2 ** z
    lat_r = math.radians(lat)
    return (lon + 180) / 360 * n, (1 - math.asinh(math.tan(lat_r)) / math.pi) / 2 * n


def test_a_template_or_labelbox_tile_json_names_a_layer_and_an_image_url_does_not() -> None:
    assert tile_layer("https://t.example/{z}/{x}/{y}.png") == TileLayer(
        "https://t.example/{z}/{x}/{y}.png")
    spec = {"tileLayerUrl": "https://t.example/{z}/{x}/{y}", "maxZoom": 17}
    assert tile_layer(orjson.dumps(spec).decode()) == TileLayer(spec["tileLayerUrl"], 17)
    assert tile_layer("https://t.example/tile.png") is None
    assert tile_layer('{"not": "a layer"}') is None
    assert TileLayer("h/{z}/{x}/{y}").url(3, 4, 5) == "h/3/4/5"


def test_the_zoom_is_the_deepest_whose_tiles_covering_the_bounds_fit_the_budget() -> None:
    z = covering_zoom(BOUNDS)
    count = [(x1 - x0 + 1) * (y1 - y0 + 1) for x0, y0, x1, y1 in
             (tile_span(BOUNDS, z), tile_span(BOUNDS, z + 1))]
    assert count[0] <= MAX_TILES < count[1]
    assert covering_zoom(BOUNDS, max_zoom=12) == 12


def test_each_stitched_pixel_comes_from_the_tile_under_its_lon_lat(tiles_url: str) -> None:
    layer = TileLayer(f"{tiles_url}/{{z}}/{{x}}/{{y}}.png")
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        import httpx
        return httpx.get(url).raise_for_status().content

    out = stitch(layer, BOUNDS, fetch)
    (west, south), (east, north) = BOUNDS
    assert out.tiles == len(fetched) <= MAX_TILES
    width, height = out.size
    k = math.cos(math.radians((south + north) / 2))
    assert height == round(width * (north - south) / ((east - west) * k))
    pixels = np.asarray(Image.open(io.BytesIO(out.png)).convert("RGB"))
    assert pixels.shape[:2] == (height, width)
    checked = 0
    for j in range(0, height, 7):
        for i in range(0, width, 7):
            lon = west + (i + 0.5) / width * (east - west)
            lat = north - (j + 0.5) / height * (north - south)
            x, y = slippy(lon, lat, out.zoom)
            if min(x % 1, 1 - x % 1, y % 1, 1 - y % 1) * 256 < 1:
                continue  # on a tile edge, where rounding may pick either side
            assert tuple(pixels[j, i]) == tile_colour(out.zoom, int(x), int(y)), (i, j)
            checked += 1
    assert checked > 1000
    # The Mercator rows are uneven: some tile boundary falls between the output's rows.
    assert len({tuple(p) for p in pixels[:, width // 2]}) > 1


def geo_row(project_rows: dict[str, list[Any]], row_data: str) -> dict[str, Any]:
    row = next(r for r in project_rows["Land Use Mapping"]
               if any(p["labels"] for p in r["projects"].values()))
    return {**row, "data_row": {**row["data_row"], "row_data": row_data}}


def test_a_tile_layer_row_is_previewed_on_its_stitched_tiles(
        tiles_url: str, project_rows: dict[str, list[Any]]) -> None:
    fetcher = MediaFetcher()
    try:
        row = geo_row(project_rows, f"{tiles_url}/{{z}}/{{x}}/{{y}}.png")
        out = fetcher.prepare(shapes_of(row))
        media = out.preview["media"]
        assert media["error"] is None
        (part,) = media["parts"]
        assert part["mime"] == "image/png" and [part["width"], part["height"]] == \
            media["natural_size"]
        with Image.open(io.BytesIO(out.buffers[0])) as im:
            assert list(im.size) == media["natural_size"]
        assert any("tiles at zoom" in n for n in media["notes"])
        assert out.preview["shapes"]  # drawn on top, as for an image tile

        # A layer that cannot be read is named; the shapes are still drawn.
        row = geo_row(project_rows, orjson.dumps(
            {"tileLayerUrl": f"{tiles_url}/gone/{{z}}/{{x}}/{{y}}.png", "maxZoom": 20}).decode())
        plan = shapes_of(row)
        out = fetcher.prepare(plan)
        assert out.preview["media"]["error"] is None and not out.preview["media"]["parts"]
        assert any(n.startswith("no tile image: could not fetch the media: HTTP 404")
                   for n in out.preview["media"]["notes"])
        assert out.preview["shapes"]
    finally:
        fetcher.close()
