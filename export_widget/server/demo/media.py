"""Demo media generated on request, so the server needs no external URLs.

Rows store `row_data` as `/media/<kind>/<name>`; `render_media` turns such a path into
bytes a person can read: street images with the objects the labels mark, WebM clips whose
vehicle and cyclist follow the key frames, PDFs whose words sit in their token boxes. Content
is derived from the file name only, so the demo generator and this module agree on what a
file shows (the demo's boxes, NER spans and token groups point into exactly this content).
"""

from __future__ import annotations

import math
import re
import struct
from hashlib import blake2b
from typing import Any

import orjson

from export_widget.server.demo.names import name_index

_CITIES = ["Paris", "東京", "São Paulo", "Zürich", "Reykjavík", "New York", "Kraków", "서울"]
_PEOPLE = ["Zoë Müller", "李明", "José Álvarez", "Ada Lovelace", "Émile Zola", "Priya Patel"]
_ORGS = ["Acme Corp", "Société Générale", "株式会社ソニー", "Globex", "Initech", "Umbrella Labs"]
_TOPICS = ["solar", "transit", "water", "housing", "rail", "broadband"]
_EMOJI = ["🚀", "🌧️", "✅", "📈", "🎉", "🌍"]
# Invoices use names the PDF's standard font can write (Latin-1), so the text a document
# entity points at is really on the page.
_INVOICE_ORGS = ["Acme Corp", "Société Générale", "Sony Group", "Globex", "Initech",
                 "Umbrella Labs"]
_INVOICE_PEOPLE = ["Zoë Müller", "Li Ming", "José Álvarez", "Ada Lovelace", "Émile Zola",
                   "Priya Patel"]


# --- text -----------------------------------------------------------------------------


def text_entities(name: str) -> dict[str, str]:
    """The entity strings a demo text contains (person, org, city, phrase)."""
    i = name_index(name)
    return {
        "person": _PEOPLE[i % len(_PEOPLE)],
        "org": _ORGS[(i // 2) % len(_ORGS)],
        "city": _CITIES[(i * 3) % len(_CITIES)],
        "phrase": "research suggests",
    }


def text_document(name: str) -> str:
    """A short news-like text; every third one carries an emoji."""
    i = name_index(name)
    e = text_entities(name)
    topic = _TOPICS[i % len(_TOPICS)]
    emoji = f" {_EMOJI[i % len(_EMOJI)]}" if i % 3 == 0 else ""
    return (
        f"{e['person']} met leaders of {e['org']} in {e['city']} on Tuesday.{emoji} "
        f"Early {e['phrase']} the {topic} plan will expand next year, "
        f"according to a statement published in {e['city']}."
    )


# --- conversations --------------------------------------------------------------------

_TURNS = [
    ("customer", "Hi, my order #{n} has not arrived in {city} yet."),
    ("agent", "Sorry to hear that! Let me check the tracking for order #{n}."),
    ("customer", "Thanks. It was supposed to be here on Monday 🙏"),
    ("agent", "It is delayed at the depot; it will arrive tomorrow. Anything else?"),
    ("customer", "No, that is all. Merci beaucoup!"),
]


def conversation(name: str) -> dict[str, Any]:
    """A Labelbox conversational-text document (message ids `message-0` ...)."""
    i = name_index(name)
    city = _CITIES[i % len(_CITIES)]
    count = 3 + i % 3
    messages = []
    for k in range(count):
        who, template = _TURNS[k]
        messages.append(
            {
                "messageId": f"message-{k}",
                "timestampUsec": 1704067200000000 + i * 3_600_000_000 + k * 60_000_000,
                "content": template.format(n=1000 + i, city=city),
                "user": {"userId": f"{who}-{i if who == 'customer' else 1}", "name": who},
                "align": "left" if who == "customer" else "right",
                "canLabel": True,
            }
        )
    return {"type": "application/vnd.labelbox.conversational", "version": 1, "messages": messages}


# --- documents ------------------------------------------------------------------------

PDF_PAGE_WIDTH = 612
PDF_PAGE_HEIGHT = 792


def document_pages(name: str) -> list[list[dict[str, Any]]]:
    """The word tokens of a demo PDF, per page: `{id, text, left, top, width, height}`."""
    i = name_index(name)
    lines_per_page = [
        [f"INVOICE {2024000 + i}", f"Billed to {_INVOICE_ORGS[i % len(_INVOICE_ORGS)]}",
         "Total due 1,250.00 EUR", "", "Item Qty Amount", "Survey 1 750.00",
         "Report 2 500.00", "", "Thank you for your business."],
        ["Payment terms net 30 days", f"Contact {_INVOICE_PEOPLE[i % len(_INVOICE_PEOPLE)]}"],
    ]
    pages: list[list[dict[str, Any]]] = []
    for p, lines in enumerate(lines_per_page, start=1):
        tokens: list[dict[str, Any]] = []
        for row, line in enumerate(lines):
            left = 72.0
            top = 72.0 + row * 24
            for word in line.split():
                width = 7.0 * len(word)
                tid = blake2b(f"{name}|{p}|{len(tokens)}".encode(), digest_size=16).hexdigest()
                token_id = f"{tid[:8]}-{tid[8:12]}-{tid[12:16]}-{tid[16:20]}-{tid[20:32]}"
                tokens.append(
                    {"id": token_id, "text": word, "left": left, "top": top,
                     "width": width, "height": 14.0}
                )
                left += width + 5.0
        pages.append(tokens)
    return pages


_FONT_SIZE = 11
_COURIER_ADVANCE = 0.6  # Courier's glyphs are all 0.6 em wide


def _pdf_bytes(name: str) -> bytes:
    """A PDF whose every word is drawn inside its token's box: Courier, stretched (Tz) to the
    token's width, baseline 11 pt below the token's top."""
    pages = document_pages(name)
    objects: list[bytes] = []
    page_ids = [3 + 2 * k for k in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font_id = 3 + 2 * len(pages)
    for k, tokens in enumerate(pages):
        ops = ["BT", f"/F1 {_FONT_SIZE} Tf"]
        for t in tokens:
            text = t["text"].encode("latin-1", "replace").decode("latin-1")
            stretch = 100 * t["width"] / (_COURIER_ADVANCE * _FONT_SIZE * len(text))
            text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            y = PDF_PAGE_HEIGHT - t["top"] - 11
            ops.append(f"{stretch:.2f} Tz 1 0 0 1 {t['left']:.1f} {y:.1f} Tm ({text}) Tj")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1", "replace")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PDF_PAGE_WIDTH} {PDF_PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {page_ids[k] + 1} 0 R >>"
            .encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier "
                   b"/Encoding /WinAnsiEncoding >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --- images, audio, video --------------------------------------------------------------


def _wav_bytes(name: str) -> bytes:
    """One second of a tone in syllable-like bursts, so the waveform has a shape."""
    rate, seconds = 8000, 1
    freq = 220 + 20 * (name_index(name) % 12)
    bursts = 3 + name_index(name) % 3

    def envelope(n: int) -> float:
        return abs(math.sin(math.pi * bursts * n / (rate * seconds))) ** 2

    samples = bytes(
        int(128 + 100 * envelope(n) * math.sin(2 * math.pi * freq * n / rate))
        for n in range(rate * seconds)
    )
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _overlay_svg(name: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">'
        '<rect x="40" y="40" width="200" height="120" fill="none" stroke="#0f0" stroke-width="4"/>'
        f'<text x="48" y="30" fill="#0f0">{name}</text></svg>'
    ).encode()


def _html_page(name: str) -> bytes:
    i = name_index(name)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Product "
        f"{i}</title></head><body><h1>Café gadget {i}</h1>"
        f"<p>Rated {1 + i % 5}/5 by customers in {_CITIES[i % len(_CITIES)]}.</p>"
        "<p>Free shipping ✅</p></body></html>"
    ).encode()


def _render(kind: str, name: str) -> tuple[bytes, str] | None:
    # Pillow and PyAV load on the first picture or clip, not when the server starts.
    if kind == "images":
        from export_widget.server.demo.pictures import street_png

        return street_png(name), "image/png"
    if kind == "tiles":
        from export_widget.server.demo.pictures import tile_png

        return tile_png(name), "image/png"
    if kind == "masks":
        from export_widget.server.demo.pictures import sky_mask_png

        mask = sky_mask_png(name)
        return (mask, "image/png") if mask is not None else None
    if kind == "videos":
        if not name.endswith(".webm"):
            return None
        from export_widget.server.demo.clips import clip_webm

        return clip_webm(name), "video/webm"
    if kind == "overlays":
        return _overlay_svg(name), "image/svg+xml"
    if kind == "text":
        return text_document(name).encode(), "text/plain; charset=utf-8"
    if kind == "html":
        return _html_page(name), "text/html; charset=utf-8"
    if kind == "conversations":
        return orjson.dumps(conversation(name)), "application/json"
    if kind == "documents":
        return _pdf_bytes(name), "application/pdf"
    if kind == "audio":
        return _wav_bytes(name), "audio/wav"
    return None


# Demo file names are short; a long one is no demo file (and its digits may not even
# convert to an int: Python refuses more than 4,300).
_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def render_media(path: str) -> tuple[bytes, str] | None:
    """Bytes and content type for a demo media path (`images/street-0001.png`), or None.

    Accepts the path with or without the `/media/` prefix; anything that is not
    `<known kind>/<plain file name>` is None (no traversal, no guessing).
    """
    path = path.removeprefix("/").removeprefix("media/")
    parts = path.split("/")
    if len(parts) != 2 or not _SAFE.match(parts[1]):
        return None
    return _render(parts[0], parts[1])
