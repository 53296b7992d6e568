// The row viewer: one page of the kernel's spool at a time, as JSON trees. Pages are asked
// for by line; the kernel answers from disk, so the browser never holds the whole export.

import { copyText, fmtInt, h, setText, uid } from "./dom";
import type { Part, PartContext } from "./part";
import type { Rpc } from "./rpc";
import { type CopyKind, TreeNode } from "./tree";
import type { Reply, Status, StreamName } from "./types";

const SIZES = [10, 25, 50, 100, 200];

interface TabState {
  line: number; // 0-based first line of the page
  total: number;
  focusLine: number | null;
}

export class Viewer {
  readonly el: HTMLElement;
  private stream: StreamName = "result";
  private readonly tabs = new Map<StreamName, HTMLButtonElement>();
  private readonly state: Record<StreamName, TabState> = {
    result: { line: 0, total: 0, focusLine: null },
    errors: { line: 0, total: 0, focusLine: null },
  };
  private size = 50;
  private readonly sizeSelect: HTMLSelectElement;
  private readonly buttons: Record<"first" | "prev" | "next" | "last" | "go", HTMLButtonElement>;
  private readonly goInput: HTMLInputElement;
  private readonly range: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly panel: HTMLElement;
  private readonly note: HTMLElement;
  private nodes: TreeNode[] = [];
  private shownKey = "";

  constructor(private readonly rpc: Rpc) {
    const panelId = uid("panel");
    const tablist = h("div", { class: "ew-tabs", role: "tablist", "aria-label": "Export streams" });
    for (const [name, text] of [
      ["result", "Rows"],
      ["errors", "Errors"],
    ] as const) {
      const tab = h("button", {
        type: "button",
        role: "tab",
        class: "ew-tab",
        "aria-controls": panelId,
        "aria-selected": name === "result" ? "true" : "false",
        "data-stream": name,
        text,
      });
      tab.addEventListener("click", () => this.show(name));
      this.tabs.set(name, tab);
      tablist.append(tab);
    }
    this.sizeSelect = h("select", { class: "ew-pagesize", "aria-label": "Rows per page" });
    for (const n of SIZES) this.sizeSelect.append(h("option", { value: n, text: `${n} per page` }));
    this.sizeSelect.value = String(this.size);
    this.sizeSelect.addEventListener("change", () => {
      this.size = Number(this.sizeSelect.value);
      this.load(this.current.line);
    });
    const btn = (cls: string, text: string, label: string): HTMLButtonElement =>
      h("button", { type: "button", class: `ew-btn ew-${cls}`, "aria-label": label, text });
    this.buttons = {
      first: btn("first", "« First", "First page"),
      prev: btn("prev", "‹ Prev", "Previous page"),
      next: btn("next", "Next ›", "Next page"),
      last: btn("last", "Last »", "Last page"),
      go: btn("go", "Go", "Go to line"),
    };
    this.goInput = h("input", {
      type: "number",
      min: 1,
      class: "ew-goto",
      "aria-label": "Line number",
      placeholder: "line",
    });
    this.buttons.first.addEventListener("click", () => this.load(0));
    this.buttons.prev.addEventListener("click", () => this.load(Math.max(0, this.current.line - this.size)));
    this.buttons.next.addEventListener("click", () => this.load(this.current.line + this.size));
    this.buttons.last.addEventListener("click", () => this.load(Math.max(0, this.current.total - this.size)));
    const go = (): void => {
      const n = Math.floor(Number(this.goInput.value));
      if (!Number.isFinite(n) || n < 1) {
        setText(this.note, "Line numbers start at 1.");
        return;
      }
      this.current.focusLine = n - 1;
      this.load(n - 1);
    };
    this.buttons.go.addEventListener("click", go);
    this.goInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") go();
    });
    const expand = btn("expand", "Expand all", "Expand all rows on this page");
    const collapse = btn("collapse", "Collapse all", "Collapse all rows on this page");
    expand.addEventListener("click", () => {
      for (const node of this.nodes) node.expand(true);
    });
    collapse.addEventListener("click", () => {
      for (const node of this.nodes) node.collapse(true);
    });
    this.range = h("span", { class: "ew-range", "aria-live": "polite" });
    this.note = h("div", { class: "ew-note", role: "status", "aria-live": "polite" });
    this.list = h("ol", { class: "ew-rows", role: "tree", "aria-label": "Exported rows" });
    this.panel = h("div", { class: "ew-panel", id: panelId, role: "tabpanel" }, this.list);
    const bar = h(
      "div",
      { class: "ew-pager" },
      this.buttons.first,
      this.buttons.prev,
      this.range,
      this.buttons.next,
      this.buttons.last,
      this.sizeSelect,
      this.goInput,
      this.buttons.go,
      expand,
      collapse,
    );
    this.el = h(
      "section",
      { class: "ew-viewer", "aria-label": "Exported rows viewer" },
      tablist,
      bar,
      this.note,
      this.panel,
    );
    this.renderPager();
  }

  private get current(): TabState {
    return this.state[this.stream];
  }

  show(stream: StreamName): void {
    this.stream = stream;
    for (const [name, tab] of this.tabs) tab.setAttribute("aria-selected", String(name === stream));
    this.panel.setAttribute("aria-label", stream === "result" ? "Rows" : "Errors");
    this.load(this.current.line);
  }

  /** New status from the kernel: refresh counts, and the page if it is still filling up. */
  update(status: Status): void {
    const before = this.current.total;
    this.state.result.total = Math.max(this.state.result.total, status.rows);
    this.state.errors.total = Math.max(this.state.errors.total, status.errors);
    if (status.state === "queued" && status.rows === 0) {
      this.state.result = { line: 0, total: 0, focusLine: null };
      this.state.errors = { line: 0, total: 0, focusLine: null };
      this.shownKey = "";
      this.list.replaceChildren();
    }
    const errorsTab = this.tabs.get("errors");
    if (errorsTab) setText(errorsTab, `Errors (${fmtInt(this.state.errors.total)})`);
    const cur = this.current;
    const pageFull = this.nodes.length >= this.size;
    if (cur.total !== before && !pageFull && cur.line < cur.total) this.load(cur.line);
    else this.renderPager();
  }

  load(line: number): void {
    const n = this.size;
    const stream = this.stream;
    this.panel.setAttribute("aria-busy", "true");
    this.rpc.request("page", { type: "page", stream, line: Math.max(0, line), n }, (reply) => {
      this.receive(reply);
    });
  }

  private receive(reply: Reply): void {
    this.panel.removeAttribute("aria-busy");
    if (reply.type === "error") {
      setText(this.note, reply.message);
      return;
    }
    if (reply.type !== "page" || reply.stream !== this.stream) return;
    const tab = this.state[reply.stream];
    tab.total = Math.max(reply.total, 0);
    if (reply.line >= reply.total && reply.total > 0 && reply.lines.length === 0) {
      setText(this.note, `Line ${fmtInt(reply.line + 1)} is past the end (${fmtInt(reply.total)} lines).`);
      tab.focusLine = null;
      this.renderPager();
      return;
    }
    setText(this.note, "");
    tab.line = reply.line;
    const key = `${reply.stream}:${reply.line}:${reply.lines.length}`;
    if (key !== this.shownKey) {
      this.shownKey = key;
      this.renderRows(reply.line, reply.lines);
    }
    if (tab.focusLine !== null) {
      const idx = tab.focusLine - reply.line;
      const node = this.nodes[idx];
      if (node) {
        node.el.classList.add("ew-focus");
        node.el.scrollIntoView?.({ block: "nearest" });
      }
      tab.focusLine = null;
    }
    this.renderPager();
  }

  private renderRows(first: number, lines: string[]): void {
    const copy = (kind: CopyKind, text: string, path: string): void => this.onCopy(kind, text, path);
    this.nodes = lines.map((text, i) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = text; // shown as a string: the line is not JSON
      }
      const node = new TreeNode(value, `Line ${fmtInt(first + i + 1)}`, "$", copy, true, rowHint(value));
      node.el.dataset.line = String(first + i + 1);
      node.el.classList.add("ew-row-node");
      node.expand();
      return node;
    });
    this.list.replaceChildren(...this.nodes.map((n) => n.el));
    if (lines.length === 0) {
      this.list.append(h("li", { class: "ew-empty", text: this.stream === "result" ? "No rows yet." : "No errors." }));
    }
  }

  private onCopy(kind: CopyKind, text: string, path: string): void {
    void copyText(text).then((ok) => {
      const what = kind === "path" ? `path ${path}` : `value of ${path}`;
      setText(this.note, ok ? `Copied ${what}` : `Could not copy the ${what}: the browser refused.`);
    });
  }

  private renderPager(): void {
    const { line, total } = this.current;
    const shown = this.nodes.length;
    setText(
      this.range,
      total === 0 && shown === 0
        ? "No lines"
        : `Lines ${fmtInt(line + 1)}–${fmtInt(line + shown)} of ${fmtInt(Math.max(total, line + shown))}`,
    );
    this.buttons.first.disabled = line === 0;
    this.buttons.prev.disabled = line === 0;
    this.buttons.next.disabled = line + this.size >= total;
    this.buttons.last.disabled = line + this.size >= total;
    this.goInput.max = String(Math.max(1, total));
  }
}

export function mountViewer({ model, rpc, on }: PartContext): Part {
  const viewer = new Viewer(rpc);
  const onStatus = (): void => viewer.update(model.get("status"));
  on("change:status", onStatus);
  onStatus();
  viewer.load(0);
  return viewer;
}

/** A short name for a row header: its global key, external id or id, when it has one. */
export function rowHint(value: unknown): string {
  if (typeof value !== "object" || value === null) return "";
  const dataRow = (value as Record<string, unknown>).data_row;
  if (typeof dataRow !== "object" || dataRow === null) return "";
  const fields = dataRow as Record<string, unknown>;
  for (const key of ["global_key", "external_id", "id"]) {
    const v = fields[key];
    if (typeof v === "string" && v) return v;
  }
  return "";
}
