"""The kernel fetches each row's media for the preview: parts, caps, cache, reasons."""

from __future__ import annotations

import io
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from PIL import Image

from export_widget.inspect import shapes_of
from export_widget.media import MediaFetcher, Prepared
from export_widget.server.demo.media import document_pages

Row = dict[str, Any]


class CountingTransport(httpx.BaseTransport):
    """The real HTTP transport, counting the URLs it is asked for."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.urls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return self.inner.handle_request(request)


@pytest.fixture
def fetcher() -> Any:
    f = MediaFetcher()
    yield f
    f.close()


def first_labeled(rows: list[Row]) -> Row:
    return next(r for r in rows if any(p["labels"] for p in r["projects"].values()))


def prepare(fetcher: MediaFetcher, row: Row) -> Prepared:
    out = fetcher.prepare(shapes_of(row))
    assert out.preview["media"]["error"] is None, out.preview["media"]["error"]
    return out


def test_an_image_row_sends_the_image_and_one_tinted_mask_per_mask_shape(
        fetcher: MediaFetcher, project_rows: dict[str, list[Row]]) -> None:
    row = first_labeled(project_rows["Street Scenes Annotation"])
    out = prepare(fetcher, row)
    media = out.preview["media"]
    roles = [p["role"] for p in media["parts"]]
    assert roles == ["media", "mask"]
    image = Image.open(io.BytesIO(out.buffers[0]))
    assert list(image.size) == media["natural_size"]
    (mask_shape,) = [s for s in out.preview["shapes"] if s["kind"] == "mask"]
    mask_part = media["parts"][1]
    assert mask_part["shape"] == mask_shape["id"]
    tint = np.asarray(Image.open(io.BytesIO(out.buffers[mask_part["index"]])))
    colour = next(f["color"] for f in out.preview["features"] if f["name"] == "sky")
    painted = tint[tint[..., 3] > 0]
    assert len(painted) and {tuple(p) for p in painted[:, :3]} == {
        tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))}
    assert set(painted[:, 3]) == {80}


def test_text_html_video_and_audio_rows_send_their_file(
        fetcher: MediaFetcher, project_rows: dict[str, list[Row]]) -> None:
    for project, mime in (("News NER", "text/plain"), ("Product Page Review", "text/html"),
                          ("Call Audio Review", "audio/wav")):
        row = first_labeled(project_rows[project])
        out = prepare(fetcher, row)
        (part,) = out.preview["media"]["parts"]
        assert part["mime"] == mime
        assert out.buffers[0] == httpx.get(row["data_row"]["row_data"]).content


def test_audio_comes_with_a_waveform_and_its_duration(
        fetcher: MediaFetcher, project_rows: dict[str, list[Row]]) -> None:
    row = first_labeled(project_rows["Call Audio Review"])
    media = prepare(fetcher, row).preview["media"]
    assert len(media["waveform"]) == 600 and max(media["waveform"]) == 1.0
    assert min(media["waveform"]) >= 0.0
    assert media["duration_s"] == pytest.approx(row["media_attributes"]["duration_ms"] / 1000,
                                                 abs=0.05)


def test_a_conversation_becomes_a_transcript(
        fetcher: MediaFetcher, project_rows: dict[str, list[Row]]) -> None:
    row = first_labeled(project_rows["Support Chat Intents"])
    out = prepare(fetcher, row)
    served = orjson.loads(httpx.get(row["data_row"]["row_data"]).content)["messages"]
    assert out.preview["media"]["parts"] == []
    assert [(m["message_id"], m["actor"], m["content"]) for m in
            out.preview["media"]["transcript"]] == [
        (m["messageId"], m["user"]["name"], m["content"]) for m in served]


def test_a_pdf_becomes_page_images_with_each_entitys_boxes(
        fetcher: MediaFetcher, project_rows: dict[str, list[Row]]) -> None:
    row = first_labeled(project_rows["Invoice Extraction"])
    out = prepare(fetcher, row)
    media = out.preview["media"]
    assert media["page_count"] == row["media_attributes"]["page_count"] == len(media["pages"])
    pages = [p for p in media["parts"] if p["role"] == "page"]
    assert [p["page"] for p in pages] == list(range(1, media["page_count"] + 1))
    for p in pages:
        image = Image.open(io.BytesIO(out.buffers[p["index"]]))
        assert image.size == (p["width"], p["height"])
        assert p["width"] == pytest.approx(media["pages"][p["page"] - 1][0] * 1.5, abs=1)
    tokens = {t["id"]: t for page in document_pages(row["data_row"]["global_key"])
              for t in page}
    entities = [s for s in out.preview["shapes"] if s["kind"] == "document_tokens"]
    assert {e["feature"] for e in entities} == {"invoice_number", "customer"}
    for e in entities:
        words = [tokens[t] for t in e["coordinates"]["tokens"]]
        boxes = e["coordinates"]["boxes"]
        assert boxes, e["name"]
        # The text found on the page lies inside the union of the entity's token boxes.
        left = min(w["left"] for w in words)
        right = max(w["left"] + w["width"] for w in words)
        assert all(left - 1 <= b["left"] and b["left"] + b["width"] <= right + 1 for b in boxes)
        assert all(words[0]["top"] - 1 <= b["top"] and
                   b["top"] + b["height"] <= words[0]["top"] + words[0]["height"] + 1
                   for b in boxes)


def test_a_geospatial_row_sends_its_tile_image(
        fetcher: MediaFetcher, project_rows: dict[str, list[Row]]) -> None:
    out = prepare(fetcher, first_labeled(project_rows["Land Use Mapping"]))
    assert [p["role"] for p in out.preview["media"]["parts"]] == ["media"]


def test_a_row_is_fetched_once_then_served_from_the_cache(
        project_rows: dict[str, list[Row]]) -> None:
    transport = CountingTransport()
    fetcher = MediaFetcher(transport=transport)
    row = first_labeled(project_rows["Street Scenes Annotation"])
    first = fetcher.prepare(shapes_of(row), line=3)
    again = fetcher.prepare(shapes_of(row), line=7)
    assert again.buffers is first.buffers and again.preview["line"] == 7
    assert first.preview["line"] == 3
    assert len(transport.urls) == 2  # the image and its mask
    fetcher.close()


def test_the_cache_drops_the_oldest_rows_past_its_byte_budget(
        project_rows: dict[str, list[Row]]) -> None:
    rows = [r for r in project_rows["Invoice Extraction"]][:4]
    fetcher = MediaFetcher(cache_bytes=1)
    for row in rows:
        fetcher.prepare(shapes_of(row))
    assert fetcher.cached_rows() == 1
    fetcher.close()


def test_unfetchable_media_gives_a_reason_and_keeps_the_shapes(
        fetcher: MediaFetcher, project_rows: dict[str, list[Row]]) -> None:
    row = first_labeled(project_rows["Street Scenes Annotation"])
    missing = orjson.loads(orjson.dumps(row))
    missing["data_row"]["row_data"] = row["data_row"]["row_data"].replace("/images/", "/nowhere/")
    out = fetcher.prepare(shapes_of(missing))
    assert out.preview["media"]["error"] == (
        "could not fetch the media: HTTP 404 Not Found from "
        f"{httpx.URL(row['data_row']['row_data']).netloc.decode()}")
    assert out.buffers == [] and out.preview["shapes"]
    refused = {**missing, "data_row": {**missing["data_row"],
                                      "row_data": "http://127.0.0.1:9/x.png"}}
    error = fetcher.prepare(shapes_of(refused)).preview["media"]["error"]
    assert error is not None and error.startswith("could not fetch the media from 127.0.0.1:9")
    odd = {**missing, "data_row": {**missing["data_row"], "row_data": "s3://bucket/x.png"}}
    assert fetcher.prepare(shapes_of(odd)).preview["media"]["error"] == \
        "not fetched: s3://bucket/x.png is not an http(s) URL"


def test_media_over_the_cap_is_named_not_sent(project_rows: dict[str, list[Row]]) -> None:
    row = first_labeled(project_rows["Call Audio Review"])
    fetcher = MediaFetcher(cap_bytes=1000)
    out = fetcher.prepare(shapes_of(row))
    assert out.buffers == []
    assert out.preview["media"]["error"] is not None
    assert "over the preview's 0.0 MB limit" in out.preview["media"]["error"]
    fetcher.close()


def test_an_image_over_the_cap_is_downscaled_with_a_note(
        project_rows: dict[str, list[Row]]) -> None:
    row = first_labeled(project_rows["Street Scenes Annotation"])
    size = len(httpx.get(row["data_row"]["row_data"]).content)
    fetcher = MediaFetcher(cap_bytes=size)  # the image gets half the row's cap
    out = fetcher.prepare(shapes_of(row))
    media = out.preview["media"]
    assert media["error"] is None
    image = Image.open(io.BytesIO(out.buffers[0]))
    assert len(out.buffers[0]) <= size // 2
    assert image.width < media["natural_size"][0]
    assert media["notes"][0].startswith(
        f"downscaled from {media['natural_size'][0]}x{media['natural_size'][1]}")
    fetcher.close()


def test_text_carried_inline_is_used_as_is(fetcher: MediaFetcher,
                                           project_rows: dict[str, list[Row]]) -> None:
    row = first_labeled(project_rows["News NER"])
    inline = {**row, "data_row": {**row["data_row"], "row_data": "Plain words, no URL."}}
    out = prepare(fetcher, inline)
    assert out.buffers == [b"Plain words, no URL."]
