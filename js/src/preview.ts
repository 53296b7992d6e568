// The preview of the selected row: its media with the annotations drawn, for every media
// type, a legend with a toggle per feature and per layer, and the classifications beside.
// The media comes from the kernel as message buffers; the browser never fetches a row URL.
// Blob URLs live only while their row is shown and are revoked when it is left.

import { fmtBytes, h, setText, uid } from "./dom";
import type { Part, PartContext } from "./part";
import { frameControls, waveform } from "./preview-av";
import { arrowMarker, type DrawContext, drawShape, svg } from "./preview-draw";
import { highlight } from "./preview-text";
import type { Box, Buffer, Classification, Layer, MediaPart, PreviewData, Shape } from "./preview-types";
import type { Buffers, Rpc } from "./rpc";
import type { Reply } from "./types";

interface Stage {
  el: HTMLElement;
  /** Draw the annotations again with only the visible ones (legend toggles). */
  redraw(): void;
}

let liveBlobs = 0;
/** Blob URLs created by previews and not yet revoked, across every panel on the page. */
export function liveBlobUrls(): number {
  return liveBlobs;
}

const KIND_TITLES: Record<string, string> = {
  IMAGE: "Image",
  VIDEO: "Video",
  TEXT: "Text",
  CONVERSATIONAL: "Conversation",
  PDF: "Document",
  AUDIO: "Audio",
  TMS_GEO: "Geospatial",
  HTML: "HTML page",
  UNKNOWN: "Media",
};

export class PreviewPanel {
  readonly el: HTMLElement;
  line: number | null = null;
  total = 0;
  /** Called when the user moves to another row from the panel (buttons, keys); the kernel
   * owns the selection, so this asks it, and `select` runs when it answers. */
  onSelect: ((line: number) => void) | null = null;
  private data: PreviewData | null = null;
  private buffers: Buffer[] = [];
  private blobs: string[] = [];
  private readonly hiddenFeatures = new Set<string>();
  private readonly hiddenLayers = new Set<string>();
  private stage: Stage | null = null;
  private readonly title: HTMLElement;
  private readonly note: HTMLElement;
  private readonly error: HTMLElement;
  private readonly body: HTMLElement;
  private readonly side: HTMLElement;
  private readonly hint: HTMLElement;
  private readonly prevBtn: HTMLButtonElement;
  private readonly nextBtn: HTMLButtonElement;

  constructor(private readonly rpc: Rpc) {
    this.title = h("h3", { class: "ew-preview-title", text: "Preview" });
    this.prevBtn = h("button", {
      type: "button",
      class: "ew-btn ew-prev-row",
      text: "↑ Row",
      "aria-label": "Preview the previous row",
    });
    this.nextBtn = h("button", {
      type: "button",
      class: "ew-btn ew-next-row",
      text: "↓ Row",
      "aria-label": "Preview the next row",
    });
    this.prevBtn.addEventListener("click", () => this.step(-1));
    this.nextBtn.addEventListener("click", () => this.step(1));
    this.note = h("div", { class: "ew-preview-note", role: "status", "aria-live": "polite" });
    this.error = h("div", { class: "ew-preview-error", role: "alert" });
    this.hint = h("div", { class: "ew-hint ew-span-hint", "aria-live": "polite" });
    this.body = h("div", { class: "ew-preview-stage-box" });
    this.side = h("div", { class: "ew-preview-side" });
    this.el = h(
      "section",
      { class: "ew-preview", "aria-label": "Preview", "data-live-blobs": 0 },
      h("div", { class: "ew-preview-head" }, this.title, this.prevBtn, this.nextBtn),
      this.note,
      this.error,
      h("div", { class: "ew-preview-body" }, this.body, this.side),
      this.hint,
    );
    this.el.addEventListener("keydown", (e) => this.onKey(e));
    this.renderEmpty("Select a row (click its line, or press Preview) to see its media.");
  }

  /** Ask the kernel for row `line` (0-based) and show it when it arrives. */
  select(line: number): void {
    if (line < 0) return;
    this.line = line;
    this.el.setAttribute("aria-busy", "true");
    setText(this.note, `Loading line ${line + 1}…`);
    // One channel: a reply to an older request is dropped, so paging fast shows the last row.
    this.rpc.request("preview", { type: "preview", line }, (reply, buffers) => this.receive(reply, buffers));
    this.refreshNav();
  }

  /** True once the selected line's preview has arrived. */
  get shown(): boolean {
    return this.data !== null && this.data.line === this.line;
  }

  showError(message: string): void {
    setText(this.error, message);
  }

  setTotal(total: number): void {
    this.total = total;
    this.refreshNav();
  }

  /** Leave the row: blank the panel and free its blob URLs (a new export began). */
  clear(message = "Select a row (click its line, or press Preview) to see its media."): void {
    this.line = null;
    this.data = null;
    this.revoke();
    this.renderEmpty(message);
    this.refreshNav();
  }

  dispose(): void {
    this.revoke();
  }

  // --- kernel replies ---------------------------------------------------------------------

  private receive(reply: Reply, buffers: Buffers): void {
    this.el.removeAttribute("aria-busy");
    if (reply.type === "error") {
      setText(this.error, reply.message);
      return;
    }
    if (reply.type !== "preview") return;
    this.revoke();
    this.buffers = buffers as Buffer[];
    this.data = reply.preview;
    if (!reply.preview) {
      this.renderEmpty(reply.message || `Line ${reply.line + 1} has no row.`);
      return;
    }
    this.render(reply.preview);
  }

  private renderEmpty(message: string): void {
    this.stage = null;
    setText(this.title, this.line === null ? "Preview" : `Preview · line ${this.line + 1}`);
    setText(this.note, message);
    setText(this.error, "");
    this.body.replaceChildren();
    this.side.replaceChildren();
  }

  private render(data: PreviewData): void {
    const key = data.global_key ?? data.data_row_id;
    setText(this.title, `${KIND_TITLES[data.media_type] ?? "Media"} · line ${data.line + 1} · ${key}`);
    this.line = data.line;
    this.refreshNav();
    setText(this.error, data.media.error ?? "");
    const notes = [...data.media.notes, ...data.notes];
    const size = data.media.parts.reduce((n, p) => n + p.size, 0);
    setText(
      this.note,
      [
        `${data.shapes.length} shapes, ${data.classifications.length} classifications` +
          (size ? `, ${fmtBytes(size)} of media from the kernel` : ""),
        ...notes,
      ].join(" · "),
    );
    this.stage = this.buildStage(data);
    this.body.replaceChildren(this.stage.el);
    this.side.replaceChildren(this.legend(data), this.classificationList(data));
    this.stage.redraw();
  }

  // --- visibility --------------------------------------------------------------------------

  private visible(shape: { feature: string; layer: string }): boolean {
    return !this.hiddenFeatures.has(shape.feature) && !this.hiddenLayers.has(shape.layer);
  }

  private legend(data: PreviewData): HTMLElement {
    const features = h("fieldset", { class: "ew-legend-features" }, h("legend", { text: "Features" }));
    for (const f of data.features) {
      const box = h("input", { type: "checkbox", class: "ew-legend-toggle", "data-feature": f.name });
      box.checked = !this.hiddenFeatures.has(f.name);
      box.setAttribute("aria-label", `Show ${f.name} (${f.count})`);
      box.addEventListener("change", () => {
        if (box.checked) this.hiddenFeatures.delete(f.name);
        else this.hiddenFeatures.add(f.name);
        this.redraw();
      });
      const swatch = h("span", { class: "ew-swatch", "aria-hidden": "true" });
      swatch.style.background = f.color;
      features.append(h("label", { class: "ew-legend-item" }, box, swatch, `${f.name} (${f.count})`));
    }
    const layers = h("fieldset", { class: "ew-legend-layers" }, h("legend", { text: "Layers" }));
    for (const layer of data.layers) {
      const box = h("input", { type: "checkbox", class: "ew-legend-toggle", "data-layer": layer.id });
      box.checked = !this.hiddenLayers.has(layer.id);
      box.setAttribute("aria-label", `Show ${layer.name}`);
      box.addEventListener("change", () => {
        if (box.checked) this.hiddenLayers.delete(layer.id);
        else this.hiddenLayers.add(layer.id);
        this.redraw();
      });
      const mark = h("span", { class: `ew-layer-mark ew-${layer.kind}`, "aria-hidden": "true" });
      layers.append(h("label", { class: "ew-legend-item" }, box, mark, layer.name));
    }
    if (!data.layers.length) layers.append(h("div", { class: "ew-hint", text: "No labels in this row." }));
    return h("div", { class: "ew-legend" }, features, layers);
  }

  private redraw(): void {
    this.stage?.redraw();
    if (this.data) {
      const list = this.side.querySelector(".ew-classifications");
      list?.replaceWith(this.classificationList(this.data));
    }
  }

  private classificationList(data: PreviewData): HTMLElement {
    const layers = new Map(data.layers.map((l) => [l.id, l]));
    const many = data.layers.length > 1;
    const lines = data.classifications.filter((c) => c.scope === "global" && this.visible(c));
    return classificationBlock("Classifications", lines, layers, many, "ew-classifications");
  }

  // --- stages per media type ---------------------------------------------------------------

  private buildStage(data: PreviewData): Stage {
    switch (data.media_type) {
      case "IMAGE":
        return this.imageStage(data);
      case "VIDEO":
        return this.videoStage(data);
      case "TEXT":
        return this.textStage(data);
      case "CONVERSATIONAL":
        return this.conversationStage(data);
      case "PDF":
        return this.pdfStage(data);
      case "AUDIO":
        return this.audioStage(data);
      case "TMS_GEO":
        return this.geoStage(data);
      case "HTML":
        return this.htmlStage(data);
      default:
        return { el: h("div", { class: "ew-hint", text: "This media type has no preview." }), redraw: () => undefined };
    }
  }

  private drawContext(data: PreviewData, unit: number): DrawContext {
    const colours = new Map(data.features.map((f) => [f.name, f.color]));
    const kinds = new Map(data.layers.map((l) => [l.id, l.kind]));
    const markers = new Map<string, string>();
    const defs = svg("defs");
    const ctx: DrawContext & { defs: SVGDefsElement } = {
      colour: (f) => colours.get(f) ?? "#888",
      layerKind: (l) => kinds.get(l) ?? "label",
      unit,
      defs,
      arrow: (colour) => {
        let id = markers.get(colour);
        if (!id) {
          id = uid("arrow");
          markers.set(colour, id);
          defs.append(arrowMarker(id, colour));
        }
        return id;
      },
    };
    return ctx;
  }

  /** An SVG overlay in the media's frame, redrawn with the visible shapes of `pick`. */
  private overlay(
    data: PreviewData,
    width: number,
    height: number,
    pick: () => Shape[],
    project?: (p: [number, number]) => [number, number],
  ): { el: SVGSVGElement; redraw: () => void } {
    const el = svg("svg", {
      class: "ew-overlay",
      viewBox: `0 0 ${width} ${height}`,
      preserveAspectRatio: "none",
      role: "group",
      "aria-label": "Annotations",
    });
    const masks = new Map<string, string>();
    for (const part of data.media.parts) {
      if (part.role === "mask" && part.shape) masks.set(part.shape, this.blobFor(part));
    }
    const redraw = (): void => {
      // Frame units per screen pixel, so captions and dots keep their size on screen.
      const shown = el.getBoundingClientRect().width || el.parentElement?.getBoundingClientRect().width || 0;
      const ctx = this.drawContext(data, shown > 0 ? width / shown : Math.max(width, height) / 600);
      if (project) ctx.project = project;
      const drawn = pick()
        .filter((s) => this.visible(s))
        .sort((a, b) => Number(b.kind === "mask") - Number(a.kind === "mask"))
        .map((s) => drawShape(s, ctx, masks.get(s.id), { width, height }))
        .filter((g): g is SVGGElement => g !== null);
      el.replaceChildren((ctx as DrawContext & { defs: SVGDefsElement }).defs, ...drawn);
    };
    return { el, redraw };
  }

  private mediaPart(data: PreviewData, role: MediaPart["role"] = "media"): MediaPart | undefined {
    return data.media.parts.find((p) => p.role === role);
  }

  private frameSize(data: PreviewData): [number, number] {
    const natural = data.media.natural_size;
    return [data.width ?? natural?.[0] ?? 640, data.height ?? natural?.[1] ?? 480];
  }

  private imageStage(data: PreviewData): Stage {
    const [width, height] = this.frameSize(data);
    const part = this.mediaPart(data);
    const layer = this.overlay(data, width, height, () => data.shapes);
    const el = h("div", { class: "ew-stage" });
    sizeStage(el, width, height);
    if (part) {
      el.append(
        h("img", {
          class: "ew-media",
          src: this.blobFor(part),
          alt: `Image of line ${data.line + 1}`,
          draggable: "false",
        }),
      );
    }
    el.append(layer.el);
    return { el, redraw: layer.redraw };
  }

  private videoStage(data: PreviewData): Stage {
    const attrs = data.media_attributes;
    const fps = Number(attrs.frame_rate) || 0;
    const frameCount = Number(attrs.frame_count) || Math.max(1, ...data.frames);
    const [width, height] = this.frameSize(data);
    const part = this.mediaPart(data);
    let current = data.frames[0] ?? 1;
    const keyFrames = new Set(data.shapes.filter((s) => s.keyframe).map((s) => s.frame ?? 0));
    const layer = this.overlay(data, width, height, () => data.shapes.filter((s) => s.frame === current));
    const frameList = h("div", { class: "ew-frame-classes" });
    const layers = new Map(data.layers.map((l) => [l.id, l]));
    const box = h("div", { class: "ew-stage" });
    sizeStage(box, width, height);
    let video: HTMLVideoElement | null = null;
    // The time the scrubber asked for, until the video has reached it. A click that lands
    // while an earlier seek is still running is kept here and applied when that one ends,
    // rather than dropped.
    let wanted: number | null = null;
    let requested: number | null = null;
    if (part?.mime.startsWith("video/")) {
      // No native controls: they would cover the lower part of the frame and its boxes.
      video = h("video", {
        class: "ew-media",
        src: this.blobFor(part),
        preload: "auto",
        muted: true,
        playsinline: true,
        "aria-label": `Video of line ${data.line + 1}`,
      });
      video.muted = true;
      const v = video;
      v.addEventListener("timeupdate", () => {
        if (wanted !== null || !fps) return;
        const f = Math.floor(v.currentTime * fps) + 1;
        if (f !== current) controls.set(f);
      });
      v.addEventListener("playing", () => {
        wanted = null;
      });
      v.addEventListener("seeked", () => {
        // Compared with what was asked, not with currentTime, which the video may clamp.
        if (wanted !== null && wanted !== requested) {
          requested = wanted;
          v.currentTime = wanted;
        } else wanted = null;
      });
      box.append(video);
    } else if (part?.mime.startsWith("image/")) {
      box.append(h("img", { class: "ew-media", src: this.blobFor(part), alt: `Video of line ${data.line + 1}` }));
    }
    box.append(layer.el);
    const redrawFrame = (): void => {
      layer.redraw();
      const lines = data.classifications.filter((c) => c.scope === "frame" && c.frame === current && this.visible(c));
      frameList.replaceChildren(
        classificationBlock(`Frame ${current}`, lines, layers, data.layers.length > 1, "ew-frame-classifications"),
      );
    };
    const controls = frameControls(
      frameCount,
      data.frames,
      keyFrames,
      data.shapes.filter((s) => s.kind === "segment" && this.visible(s)),
      (f) => data.features.find((x) => x.name === f)?.color ?? "#888",
      (frame) => {
        current = frame;
        if (video && fps) {
          const at = (frame - 1 + 0.5) / fps;
          // While playing, timeupdate moves the scrubber; only a frame chosen by hand seeks.
          if (video.paused && Math.abs(video.currentTime - at) > 0.001) {
            wanted = at;
            if (!video.seeking) {
              requested = at;
              video.currentTime = at;
            }
          }
        }
        redrawFrame();
      },
    );
    controls.el.dataset.fps = String(fps);
    if (video) {
      const v = video;
      const play = h("button", {
        type: "button",
        class: "ew-btn ew-play",
        text: "▶ Play",
        "aria-label": "Play the video",
      });
      play.addEventListener("click", () => {
        if (v.paused) void v.play();
        else v.pause();
      });
      const label = (): void => {
        setText(play, v.paused ? "▶ Play" : "❚❚ Pause");
        play.setAttribute("aria-label", v.paused ? "Play the video" : "Pause the video");
      };
      v.addEventListener("play", label);
      v.addEventListener("pause", label);
      controls.el.querySelector(".ew-frame-row")?.prepend(play);
    }
    controls.set(current);
    return { el: h("div", { class: "ew-video" }, box, controls.el, frameList), redraw: redrawFrame };
  }

  private decoded(data: PreviewData): string | null {
    const part = this.mediaPart(data);
    const buf = part ? this.buffers[part.index] : undefined;
    return buf ? new TextDecoder("utf-8").decode(buf) : null;
  }

  private spanStyle(data: PreviewData): Parameters<typeof highlight>[2] {
    const colours = new Map(data.features.map((f) => [f.name, f.color]));
    const kinds = new Map(data.layers.map((l) => [l.id, l.kind]));
    return {
      colour: (f) => colours.get(f) ?? "#888",
      isPrediction: (l) => kinds.get(l) === "prediction",
      onHint: (shape) => setText(this.hint, shape ? `${shape.feature}: ${shape.name}` : ""),
    };
  }

  private textStage(data: PreviewData): Stage {
    const el = h("div", { class: "ew-text-stage" });
    const text = this.decoded(data);
    const redraw = (): void => {
      if (text === null) {
        el.replaceChildren(h("div", { class: "ew-hint", text: "The text could not be shown." }));
        return;
      }
      const spans = data.shapes.filter((s) => s.kind === "text_span" && this.visible(s));
      const rels = data.shapes.filter((s) => s.kind === "relationship" && this.visible(s));
      el.replaceChildren(highlight(text, spans, this.spanStyle(data)), relationshipList(rels, data.shapes));
    };
    return { el, redraw };
  }

  private conversationStage(data: PreviewData): Stage {
    const el = h("ol", { class: "ew-transcript", "aria-label": "Conversation" });
    const layers = new Map(data.layers.map((l) => [l.id, l]));
    const redraw = (): void => {
      el.replaceChildren(
        ...data.media.transcript.map((m) => {
          const spans = data.shapes.filter(
            (s) => s.kind === "message_span" && s.message_id === m.message_id && this.visible(s),
          );
          const lines = data.classifications.filter((c) => c.message_id === m.message_id && this.visible(c));
          const item = h(
            "li",
            { class: `ew-turn ew-align-${m.align === "right" ? "right" : "left"}`, "data-message": m.message_id },
            h("span", { class: "ew-actor", text: m.actor }),
            highlight(m.content, spans, this.spanStyle(data), "ew-message-text"),
          );
          if (lines.length)
            item.append(
              classificationBlock(
                `Message ${m.message_id}`,
                lines,
                layers,
                data.layers.length > 1,
                "ew-message-classes",
              ),
            );
          return item;
        }),
      );
    };
    return { el, redraw };
  }

  private pdfStage(data: PreviewData): Stage {
    const pages = data.media.parts.filter((p) => p.role === "page");
    let index = 0;
    const wrap = h("div", { class: "ew-pdf" });
    const label = h("span", { class: "ew-page-label", "aria-live": "polite" });
    const prev = h("button", { type: "button", class: "ew-btn", text: "‹ Page", "aria-label": "Previous page" });
    const next = h("button", { type: "button", class: "ew-btn", text: "Page ›", "aria-label": "Next page" });
    const missing = h("ul", { class: "ew-hint ew-missing" });
    const box = h("div", { class: "ew-stage" });
    const urls = pages.map((p) => this.blobFor(p));
    const show = (): void => {
      const part = pages[index];
      const number = part?.page ?? index + 1;
      const [pw, ph] = data.media.pages[index] ?? [612, 792];
      setText(label, `Page ${number} of ${data.media.page_count || pages.length}`);
      prev.disabled = index <= 0;
      next.disabled = index >= pages.length - 1;
      sizeStage(box, pw, ph);
      const onPage = (): Shape[] => data.shapes.filter((s) => s.page === number).map((s) => scaleToPage(s, pw, ph));
      const layer = this.overlay(data, pw, ph, onPage);
      const url = urls[index];
      box.replaceChildren(
        ...(url ? [h("img", { class: "ew-media", src: url, alt: `Page ${number} of line ${data.line + 1}` })] : []),
        layer.el,
      );
      layer.redraw();
      missing.replaceChildren(
        ...data.shapes
          .filter(
            (s) =>
              s.kind === "document_tokens" &&
              s.page === number &&
              !(s.coordinates as { boxes: Box[] }).boxes.length &&
              this.visible(s),
          )
          .map((s) => h("li", { text: `${s.name}: its text is not found on this page, so it is listed, not drawn.` })),
      );
    };
    prev.addEventListener("click", () => {
      index -= 1;
      show();
    });
    next.addEventListener("click", () => {
      index += 1;
      show();
    });
    // Pages carry small print: zoom doubles the page inside a scrolling box.
    const zoom = h("button", { type: "button", class: "ew-btn", text: "Zoom 2×", "aria-pressed": "false" });
    const scroller = h("div", { class: "ew-page-scroll" }, box);
    zoom.addEventListener("click", () => {
      const on = zoom.getAttribute("aria-pressed") !== "true";
      zoom.setAttribute("aria-pressed", String(on));
      scroller.classList.toggle("ew-zoomed", on);
      show();
    });
    wrap.append(h("div", { class: "ew-page-nav" }, prev, label, next, zoom), scroller, missing);
    return { el: wrap, redraw: show };
  }

  private audioStage(data: PreviewData): Stage {
    const part = this.mediaPart(data);
    const el = h("div", { class: "ew-audio" });
    if (part) {
      el.append(
        h("audio", {
          src: this.blobFor(part),
          controls: true,
          preload: "auto",
          "aria-label": `Audio of line ${data.line + 1}`,
        }),
      );
    }
    el.append(waveform(data.media.waveform, data.media.duration_s, `Waveform of line ${data.line + 1}`));
    return { el, redraw: () => undefined };
  }

  private geoStage(data: PreviewData): Stage {
    const [[west, south], [east, north]] = data.bounds ?? [
      [0, 0],
      [1, 1],
    ];
    // Plate carrée with x shrunk by cos(latitude): shapes keep their look at the tile's
    // latitude without a map library.
    const k = Math.cos((((south + north) / 2) * Math.PI) / 180);
    const spanX = Math.max((east - west) * k, 1e-9);
    const spanY = Math.max(north - south, 1e-9);
    const width = 1000;
    const height = Math.round((1000 * spanY) / spanX);
    const project = (p: [number, number]): [number, number] => [
      ((p[0] - west) * k * width) / spanX,
      ((north - p[1]) * height) / spanY,
    ];
    const part = this.mediaPart(data);
    const layer = this.overlay(data, width, height, () => data.shapes, project);
    const el = h("div", { class: "ew-stage ew-geo" });
    sizeStage(el, width, height);
    if (part) el.append(h("img", { class: "ew-media", src: this.blobFor(part), alt: `Tile of line ${data.line + 1}` }));
    el.append(layer.el);
    const scale = h("div", { class: "ew-hint", text: `lon ${west}…${east}, lat ${south}…${north}` });
    return { el: h("div", {}, el, scale), redraw: layer.redraw };
  }

  private htmlStage(data: PreviewData): Stage {
    const text = this.decoded(data);
    const frame = h("iframe", {
      class: "ew-html",
      sandbox: "",
      referrerpolicy: "no-referrer",
      title: `HTML page of line ${data.line + 1}`,
    });
    // srcdoc with an empty sandbox: no scripts, no same origin, no navigation to the row URL.
    if (text !== null) frame.srcdoc = text;
    return { el: frame, redraw: () => undefined };
  }

  // --- blobs and navigation ----------------------------------------------------------------

  private blobFor(part: MediaPart): string {
    const buf = this.buffers[part.index];
    if (!buf) return "";
    const url = URL.createObjectURL(new Blob([buf as BlobPart], { type: part.mime }));
    this.blobs.push(url);
    liveBlobs += 1;
    this.el.dataset.liveBlobs = String(this.blobs.length);
    return url;
  }

  private revoke(): void {
    for (const url of this.blobs) URL.revokeObjectURL(url);
    liveBlobs -= this.blobs.length;
    this.blobs = [];
    this.el.dataset.liveBlobs = "0";
  }

  private step(delta: number): void {
    if (this.line === null) return;
    const next = this.line + delta;
    if (next < 0 || (this.total > 0 && next >= this.total)) return;
    this.onSelect?.(next);
  }

  private refreshNav(): void {
    this.prevBtn.disabled = this.line === null || this.line <= 0;
    this.nextBtn.disabled = this.line === null || (this.total > 0 && this.line >= this.total - 1);
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement | null;
    if (target && /^(INPUT|SELECT|TEXTAREA|VIDEO|AUDIO)$/.test(target.tagName)) return;
    if (e.key === "ArrowDown" || e.key === "j") this.step(1);
    else if (e.key === "ArrowUp" || e.key === "k") this.step(-1);
    else return;
    e.preventDefault();
  }
}

/** A short tag for a layer beside a classification: "prediction", "ground truth", "label 2". */
function layerTag(layer: Layer, layers: Map<string, Layer>): string {
  if (layer.kind === "prediction") return "prediction";
  if (layer.kind === "ground_truth") return "ground truth";
  const labels = [...layers.values()].filter((l) => l.kind === "label");
  return labels.length > 1 ? `label ${labels.indexOf(layer) + 1}` : "label";
}

function classificationBlock(
  title: string,
  lines: Classification[],
  layers: Map<string, Layer>,
  many: boolean,
  cls: string,
): HTMLElement {
  const list = h("ul", { class: "ew-class-list", "aria-label": title });
  for (const c of lines) {
    const layer = layers.get(c.layer);
    const item = h(
      "li",
      { class: `ew-class ew-depth-${Math.min(c.depth, 4)}` },
      h("span", { class: "ew-class-name", text: `${c.feature}: ` }),
      h("span", { class: "ew-class-answer", text: c.answer }),
    );
    if (many && layer) {
      item.append(h("span", { class: "ew-class-layer", text: ` (${layerTag(layer, layers)})`, title: layer.name }));
    }
    list.append(item);
  }
  if (!lines.length) list.append(h("li", { class: "ew-hint", text: "none" }));
  return h("div", { class: cls }, h("h4", { text: title }), list);
}

function relationshipList(rels: Shape[], shapes: Shape[]): HTMLElement {
  const byId = new Map(shapes.map((s) => [s.id, s]));
  const list = h("ul", { class: "ew-relationships", "aria-label": "Relationships" });
  for (const r of rels) {
    const c = r.coordinates as { source: string | null; target: string | null };
    const a = c.source ? byId.get(c.source) : undefined;
    const b = c.target ? byId.get(c.target) : undefined;
    list.append(
      h("li", {
        "aria-label": r.name,
        text: `${r.feature}: ${a?.text ?? a?.feature ?? "?"} → ${b?.text ?? b?.feature ?? "?"}`,
      }),
    );
  }
  return list;
}

/** Keep a media frame's aspect, no taller than most of the window (tall pages, tiles). */
function sizeStage(el: HTMLElement, width: number, height: number): void {
  el.style.aspectRatio = `${width} / ${height}`;
  el.style.maxWidth = `calc(72vh * ${width / height})`;
}

/** A document box in its page's points, whatever page size the label was drawn at. */
function scaleToPage(shape: Shape, pw: number, ph: number): Shape {
  if (shape.kind !== "document_box" || !shape.page_size) return shape;
  const [w, hgt] = shape.page_size;
  if (!w || !hgt || (w === pw && hgt === ph)) return shape;
  const b = shape.coordinates as Box;
  const sx = pw / w;
  const sy = ph / hgt;
  return { ...shape, coordinates: { left: b.left * sx, top: b.top * sy, width: b.width * sx, height: b.height * sy } };
}

/** The preview part: follows the kernel's `selected` line; its row buttons and keys ask the
 * kernel to select another line. */
export function mountPreview({ model, rpc, on }: PartContext): Part {
  const panel = new PreviewPanel(rpc);
  panel.onSelect = (line) => {
    rpc.request("select", { type: "select", line }, (reply) => {
      if (reply.type === "select" && !reply.ok) panel.showError(reply.message);
    });
  };
  const follow = (): void => {
    const line = model.get("selected");
    if (line === null || line === undefined) {
      if (panel.line !== null) panel.clear();
    } else if (line !== panel.line || !panel.shown) {
      panel.select(line);
    }
  };
  const onStatus = (): void => panel.setTotal(model.get("status").rows);
  on("change:selected", follow);
  on("change:status", onStatus);
  onStatus();
  follow();
  return panel;
}
