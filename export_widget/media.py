"""The preview's media, fetched by the kernel: the browser never requests a row's URL.

`MediaFetcher.prepare(plan)` takes what `inspect.shapes_of` says to draw and returns the
bytes to draw it on, as parts the widget sends as message buffers:

| media | parts | filled into the plan |
|---|---|---|
| image | the image (downscaled past the cap), a tinted PNG per mask | predictions' mask IoU |
| video, audio | the file (or a note when over the cap) | audio: a waveform envelope |
| text, HTML | the text | |
| conversational | (none) | the transcript |
| PDF | one PNG per page | page sizes, each text entity's boxes |
| geospatial | the tile image, or a `{z}/{x}/{y}` layer's tiles stitched over the bounds | |

Each row's parts are cached (least recently used first out) and one row's parts never
exceed `cap_bytes`. A row whose media cannot be fetched gets a reason instead of parts;
the rest of the plan (shapes, classifications) is still drawn.
"""

from __future__ import annotations

import copy
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict
from urllib.parse import urlsplit

import httpx
import numpy as np

from export_widget.inspect.geometry import BoolArray, mask_iou
from export_widget.inspect.shapes import RowShapes, Shape
from export_widget.tiles import MAX_TILES, TileLayer, stitch, tile_layer

CAP_BYTES = 25 * 1024 * 1024
CACHE_BYTES = 100 * 1024 * 1024
_FETCH_LIMIT = 200 * 1024 * 1024  # an image this large is still fetched, to be downscaled
_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
_PDF_PAGES = 20
_PDF_SCALE = 1.5  # page pixels per PDF point
_WAVEFORM_BUCKETS = 600
_MASK_ALPHA = 80
# Formats every browser draws in <img>; anything else Pillow converts to PNG first.
_BROWSER_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
                   "image/bmp", "image/svg+xml"}


class MediaPart(TypedDict):
    """One buffer of a preview reply; `index` is its position in the message's buffers."""

    role: str  # "media", "mask", "page"
    mime: str
    index: int
    size: int
    shape: NotRequired[str]  # masks: the shape id the tint belongs to
    page: NotRequired[int]  # pages: 1-based page number
    width: NotRequired[int]  # pixel size of an image part
    height: NotRequired[int]


class Message(TypedDict):
    message_id: str
    actor: str
    content: str
    align: str


class MediaInfo(TypedDict):
    """What the preview knows about the media besides its bytes."""

    parts: list[MediaPart]
    error: str | None  # why the media could not be shown; the shapes still are
    notes: list[str]  # e.g. "downscaled from 8000x6000 (41.2 MB) to fit the 25 MB cap"
    natural_size: list[int] | None  # the media's own pixel size (images, tiles)
    pages: list[list[float]]  # PDF: [width, height] of each page, in points
    page_count: int
    transcript: list[Message]
    waveform: list[float]  # audio: peak per bucket, 0..1
    duration_s: float | None


class Preview(RowShapes):
    """A row's shapes with the media's facts; what `ExportWidget.preview` returns."""

    line: int
    media: MediaInfo


@dataclass
class Prepared:
    """A row ready to send: the plan (JSON) and the buffers its parts point at."""

    preview: Preview
    buffers: list[bytes] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.buffers)


class MediaError(Exception):
    """The media of a row cannot be shown; the message says why, for the user."""


def _empty_info() -> MediaInfo:
    return MediaInfo(parts=[], error=None, notes=[], natural_size=None, pages=[],
                     page_count=0, transcript=[], waveform=[], duration_s=None)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


class MediaFetcher:
    """Fetches and prepares rows' media, with a per-row cap and an LRU cache of rows.

    `headers_for(url)` returns headers for a request (e.g. an API key for the export
    server's own mask URLs); it must return none for other hosts.
    """

    def __init__(self, *, cap_bytes: int = CAP_BYTES, cache_bytes: int = CACHE_BYTES,
                 headers_for: Callable[[str], dict[str, str]] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.cap_bytes = cap_bytes
        self.cache_bytes = cache_bytes
        self._headers_for = headers_for or (lambda _url: {})
        self._http = httpx.Client(timeout=_TIMEOUT, follow_redirects=True, transport=transport)
        self._cache: OrderedDict[str, Prepared] = OrderedDict()
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def prepare(self, plan: RowShapes, line: int = 0) -> Prepared:
        """The row's media as parts plus the plan with media facts filled in (cached)."""
        key = _cache_key(plan)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is None:
            hit = self._prepare(plan, line)
            with self._lock:
                self._cache[key] = hit
                while len(self._cache) > 1 and sum(p.size for p in self._cache.values()) > \
                        self.cache_bytes:
                    self._cache.popitem(last=False)
        # The same row can sit at several lines (two exports); the cached entry is shared.
        return Prepared(Preview(**{**hit.preview, "line": line}), hit.buffers)

    def cached_rows(self) -> int:
        with self._lock:
            return len(self._cache)

    # --- fetching ------------------------------------------------------------------------

    def fetch(self, url: str, limit: int) -> tuple[bytes, str]:
        """(bytes, content type) of `url`; MediaError with a reason when it cannot be read
        or is larger than `limit`."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise MediaError(f"not fetched: {_short(url)} is not an http(s) URL")
        try:
            with self._http.stream("GET", url, headers=self._headers_for(url)) as response:
                if response.status_code >= 400:
                    raise MediaError(f"could not fetch the media: HTTP {response.status_code} "
                                     f"{response.reason_phrase} from {parts.netloc}")
                declared = int(response.headers.get("content-length") or 0)
                if declared > limit:
                    raise MediaError(f"not shown: the media is {_mb(declared)}, over the "
                                     f"preview's {_mb(limit)} limit")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise MediaError(f"not shown: the media is over the preview's "
                                         f"{_mb(limit)} limit")
                mime = response.headers.get("content-type", "application/octet-stream")
                return bytes(body), mime.split(";")[0].strip().lower()
        except httpx.TimeoutException:
            raise MediaError(f"could not fetch the media: {parts.netloc} did not answer "
                             f"within {_TIMEOUT.read:.0f} s") from None
        except httpx.HTTPError as exc:
            raise MediaError(f"could not fetch the media from {parts.netloc}: "
                             f"{type(exc).__name__}: {exc}") from None

    # --- per media type ------------------------------------------------------------------

    def _prepare(self, plan: RowShapes, line: int) -> Prepared:
        preview = Preview(**copy.deepcopy(plan), line=line, media=_empty_info())
        out = Prepared(preview)
        media = preview["media"]
        handlers: dict[str, Callable[[Prepared], None]] = {
            "IMAGE": self._image, "VIDEO": self._file, "AUDIO": self._audio,
            "TEXT": self._text, "HTML": self._text, "CONVERSATIONAL": self._conversation,
            "PDF": self._pdf, "TMS_GEO": self._tile,
        }
        handler = handlers.get(preview["media_type"])
        if handler is None:
            media["error"] = "not shown: the row's media type is unknown"
            return out
        try:
            handler(out)
        except MediaError as exc:
            media["error"] = str(exc)
        except Exception as exc:  # a broken file must not break the widget
            media["error"] = f"could not read the media: {type(exc).__name__}: {exc}"
        return out

    def _add(self, out: Prepared, data: bytes, part: MediaPart) -> None:
        if out.size + len(data) > self.cap_bytes:
            out.preview["media"]["notes"].append(
                f"{part['role']} not shown: the row's media would exceed the "
                f"{_mb(self.cap_bytes)} cap")
            return
        part["index"] = len(out.buffers)
        part["size"] = len(data)
        out.buffers.append(data)
        out.preview["media"]["parts"].append(part)

    def _image(self, out: Prepared) -> None:
        data, mime = self.fetch(out.preview["row_data"], _FETCH_LIMIT)
        data, mime, natural, note = _browser_image(data, mime, self.cap_bytes // 2)
        media = out.preview["media"]
        media["natural_size"] = list(natural) if natural else None
        if note:
            media["notes"].append(note)
        part = MediaPart(role="media", mime=mime, index=0, size=0)
        if natural:
            part["width"], part["height"] = natural
        self._add(out, data, part)
        self._masks(out)

    def _masks(self, out: Prepared) -> None:
        preview = out.preview
        colours = {f["name"]: f["color"] for f in preview["features"]}
        decoded: dict[str, BoolArray] = {}
        for shape in preview["shapes"]:
            if shape["kind"] != "mask":
                continue
            try:
                bits = self._mask_bits(shape, decoded)
            except MediaError as exc:
                preview["media"]["notes"].append(f"mask of {shape['feature']}: {exc}")
                continue
            png = _tinted_png(bits, colours.get(shape["feature"], "#ff00ff"))
            self._add(out, png, MediaPart(role="mask", mime="image/png", index=0, size=0,
                                          shape=shape["id"], width=bits.shape[1],
                                          height=bits.shape[0]))
        _score_masks(preview, decoded)

    def _mask_bits(self, shape: Shape, decoded: dict[str, BoolArray]) -> BoolArray:
        url = shape["coordinates"]["url"]
        colour = shape["coordinates"]["color"]
        key = f"{url}|{colour}"
        if key not in decoded:
            decoded[key] = self.mask_pixels(url, colour)
        shape_bits: BoolArray = decoded[key]
        decoded[shape["id"]] = shape_bits
        return shape_bits

    def mask_pixels(self, url: str, colour: list[int] | None = None) -> BoolArray:
        """The pixels of a mask image: where it has `colour` (a composite mask), else where
        it is light (a single-object mask, white on black)."""
        from PIL import Image

        data, _mime = self.fetch(url, self.cap_bytes)
        with Image.open(io.BytesIO(data)) as im:
            if colour:
                rgb = np.asarray(im.convert("RGB"))
                bits: BoolArray = np.all(rgb == np.asarray(colour, dtype=rgb.dtype), axis=-1)
                return bits
            light: BoolArray = np.asarray(im.convert("L")) > 127
            return light

    def _file(self, out: Prepared) -> None:
        data, mime = self.fetch(out.preview["row_data"], self.cap_bytes)
        stated = str(out.preview["media_attributes"].get("mime_type") or "")
        self._add(out, data, MediaPart(role="media", mime=_mime(mime, stated), index=0, size=0))

    def _audio(self, out: Prepared) -> None:
        self._file(out)
        if out.buffers:
            peaks, duration = _waveform(out.buffers[0])
            out.preview["media"]["waveform"] = peaks
            out.preview["media"]["duration_s"] = duration

    def _text(self, out: Prepared) -> None:
        row_data = out.preview["row_data"]
        if not urlsplit(row_data).scheme:
            # Text rows may carry their text inline instead of a URL.
            data, mime = row_data.encode(), "text/plain"
        else:
            data, mime = self.fetch(row_data, self.cap_bytes)
        kind = "text/html" if out.preview["media_type"] == "HTML" else "text/plain"
        self._add(out, data, MediaPart(role="media", mime=mime if mime.startswith("text/")
                                       else kind, index=0, size=0))

    def _conversation(self, out: Prepared) -> None:
        import orjson

        data, _mime = self.fetch(out.preview["row_data"], self.cap_bytes)
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise MediaError(f"not shown: the conversation is not JSON ({exc})") from None
        out.preview["media"]["transcript"] = _transcript(doc)

    def _pdf(self, out: Prepared) -> None:
        import pypdfium2 as pdfium

        data, _mime = self.fetch(out.preview["row_data"], self.cap_bytes)
        media = out.preview["media"]
        pdf = pdfium.PdfDocument(data)
        try:
            media["page_count"] = len(pdf)
            if len(pdf) > _PDF_PAGES:
                media["notes"].append(f"pages after {_PDF_PAGES} of {len(pdf)} are not shown")
            for n in range(min(len(pdf), _PDF_PAGES)):
                page = pdf[n]
                width, height = page.get_size()
                media["pages"].append([round(width, 2), round(height, 2)])
                _token_boxes(out.preview["shapes"], n + 1, page, height)
                image = page.render(scale=_PDF_SCALE).to_pil()
                buf = io.BytesIO()
                image.save(buf, format="PNG", optimize=False, compress_level=3)
                self._add(out, buf.getvalue(), MediaPart(
                    role="page", mime="image/png", index=0, size=0, page=n + 1,
                    width=image.width, height=image.height))
        finally:
            pdf.close()

    def _tile(self, out: Prepared) -> None:
        layer = tile_layer(out.preview["row_data"])
        if layer is not None:
            self._tile_layer(out, layer)
            return
        try:
            self._image(out)
        except MediaError as exc:
            out.preview["media"]["notes"].append(f"no tile image: {exc}")


    def _tile_layer(self, out: Prepared, layer: TileLayer) -> None:
        media, bounds = out.preview["media"], out.preview["bounds"]
        if not bounds:
            media["notes"].append("no tile image: the row has no bounds and no shapes to "
                                  "place the tiles by")
            return
        budget = self.cap_bytes // MAX_TILES
        try:
            stitched = stitch(layer, bounds, lambda url: self.fetch(url, budget)[0])
        except (MediaError, ValueError, OSError) as exc:
            media["notes"].append(f"no tile image: {exc}")
            return
        media["natural_size"] = list(stitched.size)
        media["notes"].append(f"{stitched.tiles} tiles at zoom {stitched.zoom} from "
                              f"{urlsplit(layer.template).netloc}")
        width, height = stitched.size
        self._add(out, stitched.png, MediaPart(role="media", mime="image/png", index=0, size=0,
                                               width=width, height=height))


# --- helpers ---------------------------------------------------------------------------


def _cache_key(plan: RowShapes) -> str:
    # The whole plan, not the row id: two exports of one data row can differ in labels, and
    # a label edited between them keeps its id.
    import orjson

    return hashlib.blake2b(orjson.dumps(plan, option=orjson.OPT_SORT_KEYS),
                           digest_size=16).hexdigest()


def _short(url: str) -> str:
    return url if len(url) <= 80 else url[:77] + "..."


def _mime(served: str, stated: str) -> str:
    # Object stores often serve application/octet-stream; the row's own media_attributes
    # then know better.
    if served in ("", "application/octet-stream", "binary/octet-stream") and stated:
        return stated
    return served


def _browser_image(data: bytes, mime: str, budget: int) -> tuple[bytes, str, tuple[int, int]
                                                                 | None, str]:
    """(bytes, mime, natural size, note): the image as the browser can draw it, downscaled
    to fit `budget` bytes when it is larger."""
    from PIL import Image

    if mime == "image/svg+xml":
        return data, mime, None, ""
    with Image.open(io.BytesIO(data)) as im:
        natural = (im.width, im.height)
        fmt = Image.MIME.get(im.format or "", mime)
        if fmt in _BROWSER_IMAGES and len(data) <= budget:
            return data, fmt, natural, ""
        image = im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB")
    note = ""
    scale = 1.0
    while True:
        size = (max(1, int(natural[0] * scale)), max(1, int(natural[1] * scale)))
        buf = io.BytesIO()
        (image if scale == 1.0 else image.resize(size)).save(buf, format="PNG")
        if buf.tell() <= budget or scale < 0.05:
            break
        scale *= 0.7
    if scale < 1.0:
        note = (f"downscaled from {natural[0]}x{natural[1]} ({_mb(len(data))}) to "
                f"{size[0]}x{size[1]} to fit the preview's cap")
    elif fmt not in _BROWSER_IMAGES:
        note = f"converted from {fmt} to PNG for the browser"
    return buf.getvalue(), "image/png", natural, note


def _tinted_png(bits: BoolArray, colour: str) -> bytes:
    from PIL import Image

    r, g, b = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    rgba = np.zeros((*bits.shape, 4), dtype=np.uint8)
    rgba[bits] = (r, g, b, _MASK_ALPHA)
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    return buf.getvalue()


def _score_masks(preview: Preview, decoded: dict[str, BoolArray]) -> None:
    """Mask IoU of each predicted mask with the best ground-truth mask of its feature."""
    kinds = {la["id"]: (la["kind"], la["source_id"]) for la in preview["layers"]}
    truths = [s for s in preview["shapes"] if s["kind"] == "mask"
              and kinds[s["layer"]][0] == "ground_truth" and s["id"] in decoded]
    for pred in preview["shapes"]:
        if pred["kind"] != "mask" or kinds[pred["layer"]][0] != "prediction" \
                or pred["id"] not in decoded:
            continue
        best: float | None = None
        for gt in truths:
            if gt["feature"] != pred["feature"] or \
                    kinds[gt["layer"]][1] != kinds[pred["layer"]][1]:
                continue
            a, b = decoded[pred["id"]], decoded[gt["id"]]
            if a.shape != b.shape:
                continue
            iou = mask_iou(a, b)
            if best is None or iou > best:
                best, pred["match"] = iou, gt["id"]
        if best is not None:
            pred["iou"] = round(best, 4)
            pred["name"] += f", IoU {best:.2f}"


def _token_boxes(shapes: list[Shape], page_number: int, page: Any, height: float) -> None:
    """Boxes (page points, top-left origin) of each entity on this page, found by searching
    the page's text layer for the entity's text; none when the text is not there."""
    wanted = [s for s in shapes if s["kind"] == "document_tokens" and s.get("page") ==
              page_number]
    if not wanted:
        return
    textpage = page.get_textpage()
    try:
        for shape in wanted:
            text = str(shape["coordinates"]["text"]).strip()
            if not text:
                continue
            searcher = textpage.search(text, match_case=True, match_whole_word=False)
            found = searcher.get_next()
            searcher.close()
            if found is None:
                continue
            index, count = found
            boxes = []
            for k in range(textpage.count_rects(index, count)):
                left, bottom, right, top = textpage.get_rect(k)
                boxes.append({"left": round(left, 2), "top": round(height - top, 2),
                              "width": round(right - left, 2), "height": round(top - bottom, 2)})
            shape["coordinates"]["boxes"] = boxes
    finally:
        textpage.close()


def _transcript(doc: Any) -> list[Message]:
    messages = doc.get("messages") if isinstance(doc, dict) else None
    if not isinstance(messages, list):
        raise MediaError("not shown: the conversation has no `messages` list")
    out: list[Message] = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        user = m.get("user") or {}
        out.append(Message(message_id=str(m.get("messageId", m.get("message_id", ""))),
                           actor=str(user.get("name") or user.get("userId") or "?"),
                           content=str(m.get("content", "")),
                           align=str(m.get("align", "left"))))
    return out


def _waveform(data: bytes) -> tuple[list[float], float | None]:
    """Peak amplitude per bucket (0..1) and the duration, decoded with PyAV."""
    import av

    chunks: list[np.ndarray[Any, Any]] = []
    rate = 0
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            return [], None
        resampler = av.AudioResampler(format="flt", layout="mono")
        for frame in container.decode(container.streams.audio[0]):
            rate = frame.sample_rate
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    if not chunks or not rate:
        return [], None
    samples = np.abs(np.concatenate(chunks))
    buckets = np.array_split(samples, min(_WAVEFORM_BUCKETS, len(samples)))
    peak = float(samples.max()) or 1.0
    return [round(float(b.max()) / peak, 3) for b in buckets], round(len(samples) / rate, 3)
