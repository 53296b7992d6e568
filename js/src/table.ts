// The Table tab: one row per label, annotation or classification answer, built and kept in
// the kernel. The browser asks for one sorted, filtered page at a time and holds only that
// page. Clicking a row shows that row in the viewer (a `select-line` event).

import { fmtInt, h, setText, uid } from "./dom";
import type { Part, PartContext } from "./part";
import type { Rpc } from "./rpc";
import type { Cell, Grain, Reply, TableColumn, TablePage } from "./types";

const GRAINS: [Grain, string][] = [
  ["label", "Labels"],
  ["annotation", "Annotations"],
  ["classification", "Classification answers"],
];
const NOUN: Record<Grain, [string, string]> = {
  label: ["label", "labels"],
  annotation: ["annotation", "annotations"],
  classification: ["answer", "answers"],
};
const PAGE = 25;
const POLL_MS = 400;
const FILTER_DELAY_MS = 300;
const FILTER_HINT: Record<TableColumn["type"], string> = {
  text: "contains…",
  number: "= 5, < 20…",
  time: "2024-03…",
};

export class TableTab implements Part {
  readonly el: HTMLElement;
  private readonly details: HTMLDetailsElement;
  private readonly grainSelect: HTMLSelectElement;
  private readonly refresh: HTMLButtonElement;
  private readonly summary: HTMLElement;
  private readonly error: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly head: HTMLTableSectionElement;
  private readonly body: HTMLTableSectionElement;
  private readonly range: HTMLElement;
  private readonly pager: Record<"first" | "prev" | "next" | "last", HTMLButtonElement>;
  private grain: Grain = "label";
  private offset = 0;
  private sort = "";
  private descending = false;
  private filters: Record<string, string> = {};
  private columns: TableColumn[] = [];
  private matched = 0;
  private poll: ReturnType<typeof setTimeout> | null = null;
  private filterTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  constructor(
    private readonly rpc: Rpc,
    private readonly select: (line: number) => void,
  ) {
    const captionId = uid("table-caption");
    this.grainSelect = h("select", { class: "ew-table-grain", "aria-label": "One row per" });
    for (const [value, text] of GRAINS) this.grainSelect.append(h("option", { value, text }));
    this.grainSelect.addEventListener("change", () => {
      this.grain = this.grainSelect.value as Grain;
      this.offset = 0;
      this.sort = "";
      this.filters = {};
      this.columns = [];
      this.request(false);
    });
    this.refresh = h("button", {
      type: "button",
      class: "ew-btn",
      text: "Rebuild",
      "aria-label": "Rebuild the table from every row exported so far",
    });
    this.refresh.addEventListener("click", () => this.request(true));
    this.summary = h("span", { class: "ew-table-summary", role: "status", "aria-live": "polite" });
    this.error = h("div", { class: "ew-error ew-table-error", role: "alert" });
    this.head = h("thead");
    this.body = h("tbody");
    this.table = h(
      "table",
      { class: "ew-table", "aria-labelledby": captionId },
      h("caption", { id: captionId, class: "ew-offscreen", text: "Exported labels" }),
      this.head,
      this.body,
    );
    const btn = (text: string, label: string): HTMLButtonElement =>
      h("button", { type: "button", class: "ew-btn", text, "aria-label": label });
    this.pager = {
      first: btn("« First", "First table page"),
      prev: btn("‹ Prev", "Previous table page"),
      next: btn("Next ›", "Next table page"),
      last: btn("Last »", "Last table page"),
    };
    this.pager.first.addEventListener("click", () => this.goTo(0));
    this.pager.prev.addEventListener("click", () => this.goTo(this.offset - PAGE));
    this.pager.next.addEventListener("click", () => this.goTo(this.offset + PAGE));
    this.pager.last.addEventListener("click", () => this.goTo(Math.floor(Math.max(0, this.matched - 1) / PAGE) * PAGE));
    this.range = h("span", { class: "ew-table-range" });
    this.details = h(
      "details",
      { class: "ew-table-tab" },
      h("summary", { text: "Table" }),
      h(
        "div",
        { class: "ew-table-bar" },
        h("label", { class: "ew-inline" }, "One row per ", this.grainSelect),
        this.refresh,
        this.summary,
      ),
      this.error,
      h("div", { class: "ew-table-scroll" }, this.table),
      h("div", { class: "ew-pager" }, this.pager.first, this.pager.prev, this.range, this.pager.next, this.pager.last),
    );
    // Built on first open: a table nobody looks at costs the kernel nothing.
    this.details.addEventListener("toggle", () => {
      if (this.details.open) this.request(false);
    });
    this.el = h("section", { class: "ew-table-section", "aria-label": "Label table" }, this.details);
    this.renderPager();
  }

  /** Open the tab (tests and the notebook API use it; a click on the summary does the same). */
  open(): void {
    this.details.open = true;
  }

  private goTo(offset: number): void {
    this.offset = Math.max(0, offset);
    this.request(false);
  }

  request(rebuild: boolean): void {
    if (this.poll !== null) clearTimeout(this.poll);
    this.poll = null;
    this.table.setAttribute("aria-busy", "true");
    this.rpc.request(
      "table",
      {
        type: "table_page",
        grain: this.grain,
        offset: this.offset,
        n: PAGE,
        sort: this.sort,
        descending: this.descending,
        filters: this.filters,
        rebuild,
      },
      (reply) => this.receive(reply),
    );
  }

  private receive(reply: Reply): void {
    if (this.disposed) return;
    this.table.removeAttribute("aria-busy");
    if (reply.type === "error") {
      setText(this.error, reply.message);
      return;
    }
    if (reply.type !== "table_page" || reply.grain !== this.grain) return;
    setText(this.error, reply.state === "failed" ? reply.message : "");
    if (reply.state === "ready") this.render(reply);
    setText(this.summary, describe(reply));
    if (reply.state === "building" || reply.building) {
      this.poll = setTimeout(() => this.request(false), POLL_MS);
    }
  }

  private render(page: TablePage): void {
    this.matched = page.matched;
    this.offset = page.offset;
    if (sameColumns(this.columns, page.columns)) this.renderSortMarks();
    else {
      this.columns = page.columns;
      this.renderHead();
    }
    const lineAt = page.columns.findIndex((c) => c.name === "line");
    const rows = page.rows.map((cells) => {
      const line = lineAt >= 0 ? Number(cells[lineAt]) : Number.NaN;
      const tr = h("tr", { class: "ew-table-row", tabindex: 0 });
      if (Number.isFinite(line)) {
        tr.dataset.line = String(line);
        tr.setAttribute("aria-label", `Show line ${fmtInt(line + 1)} in the viewer`);
        const pick = (): void => {
          for (const other of this.body.querySelectorAll(".ew-selected")) other.classList.remove("ew-selected");
          tr.classList.add("ew-selected");
          this.select(line);
        };
        tr.addEventListener("click", pick);
        tr.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            pick();
          }
        });
      }
      cells.forEach((cell, i) => {
        const column = page.columns[i];
        tr.append(
          h("td", { class: `ew-cell ew-${column?.type ?? "text"}`, text: cellText(cell, column, i === lineAt) }),
        );
      });
      return tr;
    });
    this.body.replaceChildren(...rows);
    if (rows.length === 0) {
      const none = page.total === 0 ? `No ${NOUN[this.grain][1]} in these rows.` : "Nothing matches these filters.";
      this.body.append(
        h("tr", {}, h("td", { class: "ew-empty", colspan: Math.max(1, page.columns.length), text: none })),
      );
    }
    this.renderPager();
  }

  private renderHead(): void {
    const names = h("tr");
    const filters = h("tr", { class: "ew-table-filters" });
    for (const column of this.columns) {
      const button = h("button", {
        type: "button",
        class: "ew-sort",
        text: column.name,
        "aria-label": `Sort by ${column.name}`,
      });
      button.addEventListener("click", () => this.sortBy(column.name));
      names.append(h("th", { scope: "col", "data-column": column.name }, button));
      const input = h("input", {
        type: "search",
        class: "ew-filter",
        "aria-label": `Filter ${column.name}`,
        placeholder: FILTER_HINT[column.type],
        spellcheck: "false",
      });
      input.value = this.filters[column.name] ?? "";
      input.addEventListener("input", () => this.filterBy(column.name, input.value));
      filters.append(h("th", {}, input));
    }
    this.head.replaceChildren(names, filters);
    this.renderSortMarks();
  }

  private renderSortMarks(): void {
    for (const th of this.head.querySelectorAll<HTMLTableCellElement>("th[data-column]")) {
      const sorted = th.dataset.column === this.sort;
      th.setAttribute("aria-sort", sorted ? (this.descending ? "descending" : "ascending") : "none");
      th.classList.toggle("ew-sorted", sorted);
    }
  }

  private sortBy(name: string): void {
    // Ascending, then descending, then back to export order.
    if (this.sort !== name) {
      this.sort = name;
      this.descending = false;
    } else if (!this.descending) this.descending = true;
    else this.sort = "";
    this.offset = 0;
    this.renderSortMarks();
    this.request(false);
  }

  private filterBy(name: string, value: string): void {
    if (value.trim()) this.filters[name] = value;
    else delete this.filters[name];
    this.offset = 0;
    if (this.filterTimer !== null) clearTimeout(this.filterTimer);
    this.filterTimer = setTimeout(() => this.request(false), FILTER_DELAY_MS);
  }

  private renderPager(): void {
    const shown = this.body.querySelectorAll("tr[data-line]").length;
    setText(
      this.range,
      this.matched === 0
        ? "No rows"
        : `Rows ${fmtInt(this.offset + 1)}–${fmtInt(this.offset + shown)} of ${fmtInt(this.matched)}`,
    );
    this.pager.first.disabled = this.offset === 0;
    this.pager.prev.disabled = this.offset === 0;
    this.pager.next.disabled = this.offset + PAGE >= this.matched;
    this.pager.last.disabled = this.offset + PAGE >= this.matched;
  }

  dispose(): void {
    this.disposed = true;
    if (this.poll !== null) clearTimeout(this.poll);
    if (this.filterTimer !== null) clearTimeout(this.filterTimer);
  }
}

function sameColumns(a: TableColumn[], b: TableColumn[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]?.name);
}

/** "1,234 annotations from 3,000 rows; 37 pass the filters", or the build's progress. */
export function describe(page: TablePage): string {
  const [one, many] = NOUN[page.grain];
  if (page.state === "failed") return "The table could not be built.";
  if (page.state === "building") return `Building the table… ${fmtInt(page.done)} of ${fmtInt(page.of)} rows read`;
  const records = `${fmtInt(page.total)} ${page.total === 1 ? one : many} from ${fmtInt(page.lines)} ${page.lines === 1 ? "row" : "rows"}`;
  const filtered = page.matched !== page.total ? `; ${fmtInt(page.matched)} pass the filters` : "";
  const newer = page.building
    ? `; rebuilding… ${fmtInt(page.done)} of ${fmtInt(page.of)} rows read`
    : page.spool_lines > page.lines
      ? `; ${fmtInt(page.spool_lines - page.lines)} more rows exported since: Rebuild to include them`
      : "";
  return records + filtered + newer;
}

function cellText(cell: Cell, column: TableColumn | undefined, isLine: boolean): string {
  if (cell === null) return "";
  if (isLine && typeof cell === "number") return fmtInt(cell + 1); // lines show 1-based, as in the viewer
  if (typeof cell === "number") return Number.isInteger(cell) ? String(cell) : cell.toFixed(2);
  if (column?.type === "time" && typeof cell === "string") return cell.replace("T", " ").replace(/\+00:00$/, "Z");
  return String(cell);
}

export function mountTable({ rpc, events }: PartContext): Part {
  const tab = new TableTab(rpc, (line) => {
    events.dispatchEvent(new CustomEvent("select-line", { detail: { line } }));
  });
  return tab;
}
