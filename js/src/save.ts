// Save and hand off: the kernel makes the file (NDJSON with the server's bytes, the table as
// CSV or Parquet, image labels as COCO) and sends it in pieces as message buffers; the
// browser joins them and offers the file as a download. Nothing is fetched from a URL.

import { fmtBytes, fmtInt, h, setText } from "./dom";
import type { Part, PartContext } from "./part";
import type { Rpc } from "./rpc";
import { searchOf } from "./search";
import type { Grain, Model, SaveFailed, SaveFormat, SavePiece, SaveWhat } from "./types";

const WHAT: [SaveWhat, string][] = [
  ["rows", "Every exported row"],
  ["matches", "The rows the search matched"],
  ["table", "The table"],
];
const FORMATS: Record<SaveWhat, [SaveFormat, string][]> = {
  rows: [
    ["ndjson", "NDJSON (the server's bytes)"],
    ["coco", "COCO JSON (image labels)"],
  ],
  matches: [
    ["ndjson", "NDJSON (the server's bytes)"],
    ["coco", "COCO JSON (image labels)"],
  ],
  table: [
    ["csv", "CSV"],
    ["parquet", "Parquet"],
  ],
};

interface Incoming {
  name: string;
  mime: string;
  size: number;
  parts: (ArrayBuffer | undefined)[];
  received: number;
}

export class SavePanel implements Part {
  readonly el: HTMLElement;
  private readonly what: HTMLSelectElement;
  private readonly format: HTMLSelectElement;
  private readonly grain: HTMLSelectElement;
  private readonly onlyMatches: HTMLInputElement;
  private readonly onlyLabel: HTMLLabelElement;
  private readonly button: HTMLButtonElement;
  private readonly state: HTMLElement;
  private readonly error: HTMLElement;
  private readonly incoming = new Map<string, Incoming>();
  private readonly listener: (...args: unknown[]) => void;
  /** The last finished download, kept so that tests (and users) can see what was made. */
  lastFile: File | null = null;

  constructor(
    private readonly rpc: Rpc,
    private readonly model: Model,
  ) {
    this.what = h("select", { class: "ew-save-what", "aria-label": "What to save" });
    for (const [value, text] of WHAT) this.what.append(h("option", { value, text }));
    this.format = h("select", { class: "ew-save-format", "aria-label": "File format" });
    this.grain = h("select", { class: "ew-save-grain", "aria-label": "Table rows per" });
    for (const [value, text] of [
      ["label", "label"],
      ["annotation", "annotation"],
      ["classification", "classification answer"],
    ]) {
      this.grain.append(h("option", { value, text: `one row per ${text}` }));
    }
    this.onlyMatches = h("input", { type: "checkbox", class: "ew-save-only" });
    this.onlyLabel = h("label", { class: "ew-inline" }, this.onlyMatches, " only the rows the search matched");
    this.button = h("button", {
      type: "button",
      class: "ew-btn ew-primary",
      text: "Download",
      "aria-label": "Download",
    });
    this.state = h("span", { class: "ew-save-state", role: "status", "aria-live": "polite" });
    this.error = h("div", { class: "ew-error ew-save-error", role: "alert" });
    this.what.addEventListener("change", () => this.sync());
    this.button.addEventListener("click", () => this.start());
    this.el = h(
      "section",
      { class: "ew-save", "aria-label": "Save" },
      h(
        "div",
        { class: "ew-actions" },
        h("span", { class: "ew-save-title", text: "Save" }),
        this.what,
        this.format,
        this.grain,
        this.onlyLabel,
        this.button,
        this.state,
      ),
      this.error,
    );
    this.listener = (content: unknown, buffers: unknown) => this.receive(content, buffers);
    model.on("msg:custom", this.listener);
    this.sync();
  }

  /** Show the choices that fit what is saved; "matches" only when there is a search. */
  sync(): void {
    const searching = searchOf(this.model).state !== "idle";
    const matchesOption = this.what.querySelector<HTMLOptionElement>("option[value='matches']");
    if (matchesOption) matchesOption.disabled = !searching;
    if (!searching && this.what.value === "matches") this.what.value = "rows";
    const what = this.what.value as SaveWhat;
    const keep = this.format.value;
    this.format.replaceChildren(...FORMATS[what].map(([value, text]) => h("option", { value, text })));
    if (FORMATS[what].some(([value]) => value === keep)) this.format.value = keep;
    this.grain.hidden = what !== "table";
    this.onlyLabel.hidden = what !== "table" || !searching;
    if (!searching) this.onlyMatches.checked = false;
  }

  start(): void {
    setText(this.error, "");
    setText(this.state, "Preparing the file…");
    this.button.disabled = true;
    const id = this.rpc.request(
      "save",
      {
        type: "save",
        what: this.what.value as SaveWhat,
        format: this.format.value as SaveFormat,
        grain: this.grain.value as Grain,
        only_matches: this.onlyMatches.checked,
      },
      (reply) => {
        if (reply.type === "save" && reply.ok) {
          const entry = this.incoming.get(id);
          if (entry && entry.received === 0) setText(this.state, `Preparing ${reply.name}…`);
          return;
        }
        this.incoming.delete(id);
        this.button.disabled = false;
        setText(this.state, "");
        setText(this.error, reply.type === "save" || reply.type === "error" ? reply.message : "Unexpected reply");
      },
    );
    // Pieces name the request, so they are taken even if they overtake the reply.
    this.incoming.set(id, { name: "", mime: "", size: 0, parts: [], received: 0 });
  }

  private receive(content: unknown, buffers: unknown): void {
    if (typeof content !== "object" || content === null) return;
    const message = content as SavePiece | SaveFailed | { type?: unknown };
    if (message.type === "save_failed") {
      const failed = message as SaveFailed;
      if (!this.incoming.delete(failed.request_id)) return;
      this.button.disabled = false;
      setText(this.state, "");
      setText(this.error, failed.message);
      return;
    }
    if (message.type !== "save_piece") return;
    const piece = message as SavePiece;
    const entry = this.incoming.get(piece.request_id);
    if (!entry) return; // another view's download
    const data = Array.isArray(buffers) ? toArrayBuffer(buffers[0]) : undefined;
    if (!data) return;
    entry.name = piece.name;
    entry.mime = piece.mime;
    entry.size = piece.size;
    if (entry.parts[piece.index] === undefined) entry.received += 1;
    entry.parts[piece.index] = data;
    setText(this.state, `Receiving ${piece.name}: ${fmtInt(entry.received)} of ${fmtInt(piece.pieces)} pieces`);
    if (entry.received < piece.pieces) return;
    this.incoming.delete(piece.request_id);
    const file = new File(
      entry.parts.filter((p): p is ArrayBuffer => p !== undefined),
      entry.name,
      { type: entry.mime },
    );
    this.lastFile = file;
    offer(file);
    this.button.disabled = false;
    setText(this.state, `Saved ${file.name} (${fmtBytes(file.size)})`);
  }

  dispose(): void {
    this.model.off("msg:custom", this.listener);
    this.incoming.clear();
  }
}

function toArrayBuffer(value: unknown): ArrayBuffer | undefined {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) {
    const view = value as ArrayBufferView;
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice().buffer;
  }
  return undefined;
}

/** Hand the file to the browser's download, then let its URL go. */
function offer(file: File): void {
  const url = URL.createObjectURL(file);
  const link = h("a", { href: url, download: file.name, class: "ew-offscreen" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function mountSave({ model, rpc, on }: PartContext): Part {
  const panel = new SavePanel(rpc, model);
  on("change:search", () => panel.sync());
  return panel;
}
