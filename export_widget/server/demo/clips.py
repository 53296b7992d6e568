"""Demo video clips: real WebM (VP8) files made with PyAV, whose wheels carry the codec.

A clip shows its scene's vehicle and cyclist moving along their tracks, so the demo's key
frames (and the frames interpolated between them) sit on the moving objects. Encoding takes
a fraction of a second; clips are cached after the first request.
"""

from __future__ import annotations

import functools
import io

import av
import numpy as np

from export_widget.server.demo import scenes
from export_widget.server.demo.pictures import clip_frame


@functools.lru_cache(maxsize=16)
def clip_webm(name: str) -> bytes:
    tracks = scenes.clip_tracks(name)
    width, height = scenes.CLIP_SIZE
    buf = io.BytesIO()
    # bitexact: no encoder version or date in the file, so a clip is the same bytes each time.
    with av.open(buf, mode="w", format="webm", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libvpx", rate=scenes.CLIP_FPS)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "10", "b:v": "1M", "threads": "1", "deadline": "good",
                          "cpu-used": "4", "auto-alt-ref": "0"}
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        for frame in range(1, scenes.CLIP_FRAMES + 1):
            image = av.VideoFrame.from_ndarray(np.asarray(clip_frame(tracks, frame)),
                                               format="rgb24")
            for packet in stream.encode(image):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()
