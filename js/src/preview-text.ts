// Text with its entity spans highlighted. Offsets count characters (code points, as Python
// does) and ends are inclusive, as rows store them. Overlapping spans nest: each piece of
// text is wrapped once per span covering it, so every span keeps its own element(s).

import { h } from "./dom";
import type { Shape } from "./preview-types";

interface Span {
  shape: Shape;
  start: number;
  end: number; // exclusive here
}

export interface SpanStyle {
  colour(feature: string): string;
  isPrediction(layer: string): boolean;
  /** Called when a span is hovered or focused (null when left), to name its feature. */
  onHint(shape: Shape | null, el: HTMLElement | null): void;
}

function spansOf(shapes: Shape[]): Span[] {
  return shapes
    .map((shape) => {
      const c = shape.coordinates as { start: number; end: number };
      return { shape, start: c.start, end: c.end + 1 };
    })
    .filter((s) => s.end > s.start);
}

/** `text` as a paragraph with a <mark> per span piece; the first piece of each span carries
 * its accessible name, the later pieces of the same span are tied to it by data-shape. */
export function highlight(text: string, shapes: Shape[], style: SpanStyle, cls = "ew-doc"): HTMLElement {
  const chars = Array.from(text);
  const spans = spansOf(shapes).sort((a, b) => a.start - b.start || b.end - a.end);
  const cuts = new Set<number>([0, chars.length]);
  for (const s of spans) {
    cuts.add(Math.min(Math.max(s.start, 0), chars.length));
    cuts.add(Math.min(Math.max(s.end, 0), chars.length));
  }
  const points = [...cuts].sort((a, b) => a - b);
  const named = new Set<string>();
  const out = h("div", { class: cls });
  for (const [i, a] of points.entries()) {
    const b = points[i + 1];
    if (b === undefined) break;
    let node: Node = document.createTextNode(chars.slice(a, b).join(""));
    const covering = spans.filter((s) => s.start <= a && s.end >= b);
    for (const span of [...covering].reverse()) {
      node = markFor(span.shape, node, style, !named.has(span.shape.id));
      named.add(span.shape.id);
    }
    out.append(node);
  }
  return out;
}

function markFor(shape: Shape, inner: Node, style: SpanStyle, first: boolean): HTMLElement {
  const colour = style.colour(shape.feature);
  const mark = h("mark", {
    class: style.isPrediction(shape.layer) ? "ew-span ew-prediction" : "ew-span",
    "data-shape": shape.id,
    "data-feature": shape.feature,
    "data-layer": shape.layer,
    title: shape.name,
  });
  if (first) {
    mark.setAttribute("aria-label", shape.name);
    mark.setAttribute("tabindex", "0");
  }
  mark.style.setProperty("--ew-span", colour);
  mark.append(inner);
  const show = (): void => style.onHint(shape, mark);
  const hide = (): void => style.onHint(null, null);
  mark.addEventListener("mouseenter", show);
  mark.addEventListener("focus", show);
  mark.addEventListener("mouseleave", hide);
  mark.addEventListener("blur", hide);
  return mark;
}
