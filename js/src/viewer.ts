// The row viewer: one page of the kernel's spool at a time, as JSON trees. Pages are asked
// for by line; the kernel answers from disk, so the browser never holds the whole export.
// While a search is active (the `search` trait), the Rows tab pages over its matches only,
// each row still under its own line number.

import { copyText, fmtInt, h, setText, uid } from "./dom";
import type { Part, PartContext, SelectLine } from "./part";
import type { Rpc } from "./rpc";
import { searchOf } from "./search";
import { type CopyKind, TreeNode } from "./tree";
import type { MatchPage, Reply, SearchStatus, Status, StreamName } from "./types";

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
  /** The search whose matches the Rows tab shows, or null: every row. */
  private filter: SearchStatus | null = null;
  private matchIndex = 0; // position of the page's first match among all matches
  private exactLine: number | null = null; // a line asked for by a click, shown even if no match
  private lone: number | null = null; // that line, on screen alone: it did not match

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
    this.buttons.prev.addEventListener("click", () => this.load(Math.max(0, this.position - this.size)));
    this.buttons.next.addEventListener("click", () => this.load(this.position + this.size));
    this.buttons.last.addEventListener("click", () => this.load(Math.max(0, this.count - this.size)));
    const go = (): void => {
      const n = Math.floor(Number(this.goInput.value));
      if (!Number.isFinite(n) || n < 1) {
        setText(this.note, "Line numbers start at 1.");
        return;
      }
      this.goTo(n - 1, false);
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

  /** True while the Rows tab shows only a search's matches. */
  private get filtered(): boolean {
    return this.filter !== null && this.stream === "result";
  }

  /** Where the page starts: a line, or a match index when filtered. */
  private get position(): number {
    return this.filtered ? this.matchIndex : this.current.line;
  }

  /** What the pager pages over: lines, or matches when filtered. */
  private get count(): number {
    return this.filter !== null && this.filtered ? this.filter.matches : this.current.total;
  }

  /** Show 0-based `line`. `exact`: a row picked elsewhere (the Table), shown even when it is
   * not among the matches; otherwise (go to line) the matches from that line on. */
  goTo(line: number, exact: boolean): void {
    if (exact && this.stream !== "result") this.show("result");
    this.current.focusLine = line;
    this.exactLine = exact ? line : null;
    this.lone = null;
    if (this.filtered) this.requestMatches({ line });
    else this.requestLines(line);
  }

  /** New `search` trait: page over its matches, or over every row again. */
  setSearch(s: SearchStatus): void {
    const shows = s.id !== "" && s.state !== "idle" && s.state !== "failed";
    const before = this.filter;
    this.filter = shows ? s : null;
    if (this.lone !== null && before?.id === s.id) return; // the lone row stays while matches grow
    if (!before && !shows) return;
    if (!shows || !before || before.id !== s.id) {
      this.matchIndex = 0;
      this.shownKey = "";
      if (this.stream === "result") this.load(0);
      return;
    }
    const pageFull = this.nodes.length >= this.size;
    if (this.stream === "result" && s.matches !== before.matches && !pageFull) this.load(this.matchIndex);
    else this.renderPager();
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
    // Filtered pages grow with the search's matches instead (setSearch).
    if (!this.filtered && cur.total !== before && !pageFull && cur.line < cur.total) this.load(cur.line);
    else this.renderPager();
  }

  /** Load the page at `position`: a line, or a match index while filtered. */
  load(position: number): void {
    this.exactLine = null;
    this.lone = null;
    if (this.filtered) this.requestMatches({ index: Math.max(0, position) });
    else this.requestLines(position);
  }

  private requestLines(line: number): void {
    const n = this.size;
    const stream = this.stream;
    this.panel.setAttribute("aria-busy", "true");
    this.rpc.request("page", { type: "page", stream, line: Math.max(0, line), n }, (reply) => {
      this.receive(reply);
    });
  }

  private requestMatches(at: { index: number } | { line: number }): void {
    this.panel.setAttribute("aria-busy", "true");
    // The same channel as line pages: whichever was asked for last wins.
    this.rpc.request("page", { type: "match_page", n: this.size, ...at }, (reply) => this.receive(reply));
  }

  private receiveMatches(reply: MatchPage): void {
    const wanted = this.current.focusLine;
    if (this.exactLine !== null && reply.numbers[0] !== this.exactLine) {
      // A row picked in the Table that the search did not match: show it on its own line.
      setText(this.note, `Line ${fmtInt(this.exactLine + 1)} does not match the search; shown on its own.`);
      this.lone = this.exactLine;
      this.exactLine = null;
      this.requestLines(this.lone);
      return;
    }
    this.exactLine = null;
    if (this.filter) this.filter = { ...this.filter, matches: reply.matches };
    this.matchIndex = reply.index;
    this.state.result.total = Math.max(this.state.result.total, reply.total);
    const note =
      wanted !== null && reply.numbers.length > 0 && reply.numbers[0] !== wanted
        ? `Line ${fmtInt(wanted + 1)} does not match; the matches from line ${fmtInt((reply.numbers[0] ?? 0) + 1)} on.`
        : wanted !== null && reply.numbers.length === 0
          ? `No match at or after line ${fmtInt(wanted + 1)}.`
          : "";
    setText(this.note, note);
    const key = `match:${reply.search_id}:${reply.index}:${reply.numbers.join(",")}`;
    if (key !== this.shownKey) {
      this.shownKey = key;
      this.renderRows(reply.numbers, reply.lines);
    }
    this.focus(reply.numbers[0] === wanted ? 0 : -1);
    this.current.focusLine = null;
    this.renderPager();
  }

  private focus(index: number): void {
    const node = this.nodes[index];
    if (node) {
      node.el.classList.add("ew-focus");
      node.el.scrollIntoView?.({ block: "nearest" });
    }
  }

  private receive(reply: Reply): void {
    this.panel.removeAttribute("aria-busy");
    if (reply.type === "error") {
      setText(this.note, reply.message);
      return;
    }
    if (reply.type === "match_page") {
      if (this.filtered) this.receiveMatches(reply);
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
    if (this.lone === null) setText(this.note, "");
    tab.line = reply.line;
    const key = `${reply.stream}:${reply.line}:${reply.lines.length}`;
    if (key !== this.shownKey) {
      this.shownKey = key;
      this.renderRows(
        reply.lines.map((_, i) => reply.line + i),
        reply.lines,
      );
    }
    if (tab.focusLine !== null) {
      this.focus(tab.focusLine - reply.line);
      tab.focusLine = null;
    }
    this.renderPager();
  }

  private renderRows(numbers: number[], lines: string[]): void {
    const copy = (kind: CopyKind, text: string, path: string): void => this.onCopy(kind, text, path);
    this.nodes = lines.map((text, i) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = text; // shown as a string: the line is not JSON
      }
      const number = numbers[i] ?? 0;
      const node = new TreeNode(value, `Line ${fmtInt(number + 1)}`, "$", copy, true, rowHint(value));
      node.el.dataset.line = String(number + 1);
      node.el.classList.add("ew-row-node");
      if (this.stream === "result") this.addSelect(node, number);
      node.expand();
      return node;
    });
    this.list.replaceChildren(...this.nodes.map((n) => n.el));
    this.applySelected();
    if (lines.length === 0) {
      const empty = this.filtered ? "No matching rows." : this.stream === "result" ? "No rows yet." : "No errors.";
      this.list.append(h("li", { class: "ew-empty", text: empty }));
    }
  }

  /** Called with a 0-based result line when the user picks a row to preview. */
  onSelect: ((line: number) => void) | null = null;
  private selected: number | null = null;

  private addSelect(node: TreeNode, line: number): void {
    const header = node.el.querySelector(".ew-line");
    if (!header) return;
    const button = h("button", {
      type: "button",
      class: "ew-btn ew-preview-btn",
      text: "Preview",
      "aria-label": `Preview line ${fmtInt(line + 1)}`,
    });
    button.addEventListener("click", () => this.onSelect?.(line));
    header.querySelector(".ew-tools")?.before(button);
    // A click on the row's own line (its label, its hint) selects it too.
    header.addEventListener("click", (e) => {
      const target = e.target as HTMLElement;
      if (target.closest("button") && !target.closest(".ew-toggle")) return;
      this.onSelect?.(line);
    });
  }

  /** Mark the kernel's selected line, paging to it when it is not on this page. */
  markSelected(line: number | null): void {
    this.selected = line;
    const shown = this.nodes.some((n) => Number(n.el.dataset.line) - 1 === line);
    // Page to the line, unless a search narrows the rows (its pages are of matches).
    if (line !== null && this.stream === "result" && this.nodes.length > 0 && !shown && !this.filtered) {
      this.state.result.focusLine = line;
      this.load(Math.floor(line / this.size) * this.size);
      return;
    }
    this.applySelected();
  }

  private applySelected(): void {
    for (const node of this.nodes) {
      const on = this.stream === "result" && Number(node.el.dataset.line) - 1 === this.selected;
      node.el.classList.toggle("ew-selected", on);
      node.el.setAttribute("aria-selected", String(on));
    }
  }

  private onCopy(kind: CopyKind, text: string, path: string): void {
    void copyText(text).then((ok) => {
      const what = kind === "path" ? `path ${path}` : `value of ${path}`;
      setText(this.note, ok ? `Copied ${what}` : `Could not copy the ${what}: the browser refused.`);
    });
  }

  private renderPager(): void {
    const shown = this.nodes.length;
    const position = this.position;
    const count = this.count;
    const total = this.current.total;
    let text: string;
    if (this.filtered && this.lone !== null) {
      text = `Line ${fmtInt(this.lone + 1)}, not a match; the pager goes back to the matches`;
    } else if (this.filtered) {
      text =
        count === 0 ? "No matches" : `Matches ${fmtInt(position + 1)}–${fmtInt(position + shown)} of ${fmtInt(count)}`;
    } else {
      const line = this.current.line;
      text =
        total === 0 && shown === 0
          ? "No lines"
          : `Lines ${fmtInt(line + 1)}–${fmtInt(line + shown)} of ${fmtInt(Math.max(total, line + shown))}`;
    }
    setText(this.range, text);
    this.buttons.first.disabled = position === 0;
    this.buttons.prev.disabled = position === 0;
    this.buttons.next.disabled = position + this.size >= count;
    this.buttons.last.disabled = position + this.size >= count;
    this.goInput.max = String(Math.max(1, total));
  }
}

export function mountViewer({ model, rpc, on, events }: PartContext): Part {
  const viewer = new Viewer(rpc);
  const onStatus = (): void => viewer.update(model.get("status"));
  // The kernel owns the selection (`selected`): a click asks it, and every part follows it.
  viewer.onSelect = (line) => rpc.request("select", { type: "select", line }, () => undefined);
  on("change:status", onStatus);
  on("change:selected", () => viewer.markSelected(model.get("selected") ?? null));
  on("change:search", () => viewer.setSearch(searchOf(model)));
  onStatus();
  const search = searchOf(model);
  if (search.state !== "idle") viewer.setSearch(search);
  else viewer.load(0);
  const onSelect = (event: Event): void => viewer.goTo((event as SelectLine).detail.line, true);
  events.addEventListener("select-line", onSelect);
  return { el: viewer.el, dispose: () => events.removeEventListener("select-line", onSelect) };
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
