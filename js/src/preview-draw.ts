// Shapes as SVG over a media frame (image pixels, page points, lon/lat). Each shape is one
// <g role="img"> named by the kernel's accessible name, carrying its feature and layer so
// the legend can hide it; its geometry is drawn inside, every string as text.

import type { Box, LayerKind, Shape } from "./preview-types";

const NS = "http://www.w3.org/2000/svg";

type Attrs = Record<string, string | number | null | undefined>;

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (SVGElement | null)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

export interface DrawContext {
  colour(feature: string): string;
  layerKind(layer: string): LayerKind;
  /** About one screen pixel in the frame's units, for radii and text. */
  unit: number;
  /** Id of an arrow-head marker in this colour (markers do not inherit the line's). */
  arrow(colour: string): string;
  /** Maps a point of the shape's frame to the SVG's (identity, or lon/lat to the plane). */
  project?: (p: [number, number]) => [number, number];
}

type Pt = [number, number];

const AREA_KINDS = new Set(["bounding_box", "document_box", "polygon", "geo_polygon", "geo_box", "mask"]);

function pts(list: Pt[], ctx: DrawContext): string {
  const project = ctx.project ?? ((p: Pt): Pt => p);
  return list
    .map((p) =>
      project(p)
        .map((v) => round(v))
        .join(","),
    )
    .join(" ");
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The named group every shape lives in; hidden by the legend through its data- fields. */
export function shapeGroup(shape: Shape, ctx: DrawContext): SVGGElement {
  const kind = ctx.layerKind(shape.layer);
  const g = svg("g", {
    role: "img",
    "aria-label": shape.name,
    tabindex: 0,
    class: `ew-shape ew-${kind}`,
    "data-shape": shape.id,
    "data-feature": shape.feature,
    "data-layer": shape.layer,
    "data-kind": shape.kind,
    stroke: ctx.colour(shape.feature),
    fill: ctx.colour(shape.feature),
  });
  const title = svg("title");
  title.textContent = shape.name;
  g.append(title);
  return g;
}

function boxRect(b: Box, px = 2): SVGRectElement {
  return svg("rect", {
    x: round(b.left),
    y: round(b.top),
    width: round(b.width),
    height: round(b.height),
    class: "ew-area",
    style: `stroke-width: ${px}px`,
  });
}

function caption(text: string, x: number, y: number, ctx: DrawContext, px = 12): SVGTextElement {
  const t = svg("text", {
    x: round(x),
    y: round(y),
    class: "ew-caption",
    "font-size": px * ctx.unit,
    "aria-hidden": "true",
  });
  t.textContent = text;
  return t;
}

function iouCaption(shape: Shape, x: number, y: number, ctx: DrawContext): SVGTextElement | null {
  if (ctx.layerKind(shape.layer) !== "prediction") return null;
  // Lines and points have no area, so no IoU: say nothing rather than "no match".
  if (typeof shape.iou !== "number" && !AREA_KINDS.has(shape.kind)) return null;
  const text = typeof shape.iou === "number" ? `IoU ${shape.iou.toFixed(2)}` : "no match";
  const t = caption(text, x, y, ctx);
  t.classList.add("ew-iou");
  return t;
}

/** One drawable shape in a 2-D frame, or null for kinds drawn elsewhere (spans, segments). */
export function drawShape(
  shape: Shape,
  ctx: DrawContext,
  maskHref?: string,
  frame?: { width: number; height: number },
): SVGGElement | null {
  const g = shapeGroup(shape, ctx);
  const c = shape.coordinates;
  const sw = 2 * ctx.unit;
  switch (shape.kind) {
    case "bounding_box":
    case "document_box": {
      const b = c as Box;
      g.append(boxRect(b), caption(shape.feature, b.left, b.top - 3 * ctx.unit, ctx));
      const iou = iouCaption(shape, b.left, b.top + b.height + 13 * ctx.unit, ctx);
      if (iou) g.append(iou);
      return g;
    }
    case "polygon":
    case "polyline": {
      const list = c as Pt[];
      const tag = shape.kind === "polygon" ? "polygon" : "polyline";
      g.append(
        svg(tag, {
          points: pts(list, ctx),
          class: shape.kind === "polygon" ? "ew-area" : "ew-line",
          "stroke-width": sw,
        }),
      );
      const first = list[0];
      if (first) {
        const iou = iouCaption(shape, first[0], first[1] - 3 * ctx.unit, ctx);
        if (iou) g.append(iou);
      }
      return g;
    }
    case "point": {
      const [x, y] = c as Pt;
      g.append(svg("circle", { cx: round(x), cy: round(y), r: 5 * ctx.unit, class: "ew-dot", "stroke-width": sw }));
      return g;
    }
    case "mask": {
      if (!maskHref || !frame) return null;
      g.append(
        svg("image", {
          href: maskHref,
          x: 0,
          y: 0,
          width: frame.width,
          height: frame.height,
          preserveAspectRatio: "none",
          class: "ew-mask",
        }),
      );
      const iou = iouCaption(shape, 6 * ctx.unit, 16 * ctx.unit, ctx);
      if (iou) g.append(iou);
      return g;
    }
    case "relationship": {
      const rel = c as { from: Pt | null; to: Pt | null };
      if (!rel.from || !rel.to) return null;
      g.append(
        svg("line", {
          x1: round(rel.from[0]),
          y1: round(rel.from[1]),
          x2: round(rel.to[0]),
          y2: round(rel.to[1]),
          class: "ew-line",
          "stroke-width": sw,
          "marker-end": `url(#${ctx.arrow(ctx.colour(shape.feature))})`,
        }),
      );
      return g;
    }
    case "geo_point": {
      const project = ctx.project ?? ((p: Pt): Pt => p);
      const [x, y] = project(c as Pt);
      g.append(svg("circle", { cx: round(x), cy: round(y), r: 6 * ctx.unit, class: "ew-dot", "stroke-width": sw }));
      return g;
    }
    case "geo_line":
      g.append(svg("polyline", { points: pts(c as Pt[], ctx), class: "ew-line", "stroke-width": sw }));
      return g;
    case "geo_polygon":
    case "geo_box": {
      const rings = c as Pt[][];
      const d = rings.map((ring) => `M${pts(ring, ctx).replaceAll(" ", " L")}Z`).join(" ");
      g.append(svg("path", { d, class: "ew-area", "fill-rule": "evenodd", "stroke-width": sw }));
      return g;
    }
    case "document_tokens": {
      const boxes = (c as { boxes: Box[] }).boxes;
      if (!boxes.length) return null;
      // Word boxes are small: a thin outline keeps the words readable under it.
      for (const b of boxes) g.append(boxRect(b, 1));
      const [first] = boxes;
      if (first) g.append(caption(shape.feature, first.left, first.top - 2 * ctx.unit, ctx, 10));
      return g;
    }
    default:
      return null;
  }
}

/** An arrow-head marker for relationships in one colour. */
export function arrowMarker(id: string, colour: string): SVGMarkerElement {
  return svg(
    "marker",
    {
      id,
      viewBox: "0 0 10 10",
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: "auto-start-reverse",
    },
    svg("path", { d: "M0,0 L10,5 L0,10 z", fill: colour, stroke: "none" }),
  );
}
