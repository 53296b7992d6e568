// Video and audio: a frame scrubber with the annotated frames and a segments timeline for
// video, a player and a waveform for audio. Frames are 1-based, as rows number them.

import { h, setText, uid } from "./dom";
import { svg } from "./preview-draw";
import type { Shape } from "./preview-types";

export interface FrameControls {
  el: HTMLElement;
  /** Current frame (1-based). */
  frame(): number;
  set(frame: number): void;
}

/** A range input over every frame, buttons for each annotated frame, and the segments of
 * each feature on a timeline. `onFrame` runs on every change. */
export function frameControls(
  frameCount: number,
  annotated: number[],
  keyFrames: Set<number>,
  segments: Shape[],
  colour: (feature: string) => string,
  onFrame: (frame: number) => void,
): FrameControls {
  let current = annotated[0] ?? 1;
  const rangeId = uid("frame");
  const range = h("input", {
    type: "range",
    id: rangeId,
    min: 1,
    max: Math.max(1, frameCount),
    step: 1,
    value: current,
    class: "ew-frame-range",
    "aria-label": "Frame",
  });
  const readout = h("output", { class: "ew-frame-readout", for: rangeId, "aria-live": "polite" });
  const list = h("div", { class: "ew-frames", role: "group", "aria-label": "Annotated frames" });
  const buttons = new Map<number, HTMLButtonElement>();
  for (const f of annotated) {
    const key = keyFrames.has(f);
    const b = h("button", {
      type: "button",
      class: key ? "ew-btn ew-keyframe" : "ew-btn ew-interp",
      text: String(f),
      "aria-label": `Frame ${f}${key ? ", key frame" : ", interpolated"}`,
    });
    b.addEventListener("click", () => set(f));
    buttons.set(f, b);
    list.append(b);
  }
  const timeline = segmentTimeline(frameCount, segments, colour);
  const set = (frame: number): void => {
    current = Math.min(Math.max(1, Math.round(frame)), Math.max(1, frameCount));
    range.value = String(current);
    setText(readout, `Frame ${current} of ${frameCount}`);
    for (const [f, b] of buttons) b.setAttribute("aria-pressed", String(f === current));
    timeline.cursor(current);
    onFrame(current);
  };
  range.addEventListener("input", () => set(Number(range.value)));
  const el = h("div", { class: "ew-scrubber" }, h("div", { class: "ew-frame-row" }, range, readout), list, timeline.el);
  return { el, frame: () => current, set };
}

function segmentTimeline(
  frameCount: number,
  segments: Shape[],
  colour: (f: string) => string,
): {
  el: SVGSVGElement;
  cursor: (frame: number) => void;
} {
  const features = [...new Set(segments.map((s) => s.feature))];
  const rowH = 12;
  const width = Math.max(1, frameCount);
  const el = svg("svg", {
    class: "ew-timeline",
    viewBox: `0 0 ${width} ${Math.max(1, features.length) * rowH}`,
    preserveAspectRatio: "none",
    role: "group",
    "aria-label": "Segments timeline",
  });
  features.forEach((feature, row) => {
    for (const s of segments.filter((x) => x.feature === feature)) {
      const [first, last] = s.coordinates as [number, number];
      const rect = svg("rect", {
        x: first - 1,
        y: row * rowH + 2,
        width: Math.max(1, last - first + 1),
        height: rowH - 4,
        fill: colour(feature),
        role: "img",
        "aria-label": s.name,
        "data-shape": s.id,
        "data-feature": s.feature,
        "data-layer": s.layer,
        "data-kind": "segment",
      });
      const title = svg("title");
      title.textContent = s.name;
      rect.append(title);
      el.append(rect);
    }
  });
  const line = svg("line", {
    x1: 0,
    x2: 0,
    y1: 0,
    y2: Math.max(1, features.length) * rowH,
    class: "ew-cursor",
    "vector-effect": "non-scaling-stroke",
  });
  el.append(line);
  return {
    el,
    cursor: (frame: number) => {
      line.setAttribute("x1", String(frame - 0.5));
      line.setAttribute("x2", String(frame - 0.5));
    },
  };
}

/** Peaks as bars, scaled to the box; the waveform is an image named by its duration. */
export function waveform(peaks: number[], seconds: number | null, label: string): SVGSVGElement {
  const n = Math.max(1, peaks.length);
  const el = svg("svg", {
    class: "ew-waveform",
    viewBox: `0 0 ${n} 100`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `${label}${seconds !== null ? `, ${seconds.toFixed(1)} s` : ""}`,
  });
  const d = peaks.map((p, i) => `M${i + 0.5},${50 - p * 48}V${50 + p * 48}`).join("");
  el.append(svg("path", { d, class: "ew-wave", "vector-effect": "non-scaling-stroke" }));
  return el;
}
