// The Compare view: two exports from history side by side. Counts per kind of change (each
// one filters the list), a paged list of the rows that differ, and for the row picked its
// changes and both sides as JSON trees. Also the model-run metrics table of one export.
// The kernel computes everything (export_widget/inspect); this file only shows it.

import { copyText, fmtInt, h, setText } from "./dom";
import type { Rpc } from "./rpc";
import { TreeNode } from "./tree";
import type { CompareRow, CompareSummary, MetricsReply, Reply } from "./types";

const PAGE = 25;
const KIND_TEXT: Record<string, string> = {
  only_in_a: "only in A",
  only_in_b: "only in B",
  workflow_status: "workflow status",
  label_added: "labels added",
  label_removed: "labels removed",
  annotation_added: "annotations added",
  annotation_removed: "annotations removed",
  annotation_moved: "annotations moved",
  annotation_changed: "annotations changed",
  review_added: "reviews added",
  review_removed: "reviews removed",
  metadata: "metadata",
};

function pct(v: number | null): string {
  return v === null || v === undefined ? "—" : `${(100 * v).toFixed(1)}%`;
}

/** Open the parts of a row's tree that hold its changes: each project (or run) and, below
 * it, its status details or its labels; the metadata when that changed. */
function openWhereChanged(box: HTMLElement, kinds: Set<string>): void {
  const open = (li: Element | null): void => {
    const arrow = li?.querySelector(":scope > .ew-line > .ew-arrow");
    if (arrow instanceof HTMLButtonElement && arrow.getAttribute("aria-expanded") === "false") arrow.click();
  };
  const children = (path: string): Element[] =>
    [...box.querySelectorAll(`li[data-path^="${path}."]`)].filter((li) => {
      const rest = (li.getAttribute("data-path") ?? "").slice(path.length + 1);
      return rest !== "" && !rest.includes(".") && !rest.includes("[");
    });
  const labels = [...kinds].some((k) => /^(label|annotation|review)_/.test(k));
  for (const top of ["row.projects", "row.experiments"]) {
    open(box.querySelector(`li[data-path="${top}"]`));
    for (const child of children(top)) {
      open(child);
      const path = child.getAttribute("data-path") ?? "";
      if (kinds.has("workflow_status")) open(box.querySelector(`li[data-path="${path}.project_details"]`));
      if (labels) open(box.querySelector(`li[data-path="${path}.labels"]`));
    }
  }
  if (kinds.has("metadata")) open(box.querySelector('li[data-path="row.metadata_fields"]'));
}

export class CompareView {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly kinds: HTMLElement;
  private readonly list: HTMLTableSectionElement;
  private readonly listTable: HTMLTableElement;
  private readonly pager: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly note: HTMLElement;
  private readonly metricsBox: HTMLElement;
  private a = "";
  private b = "";
  private kind: string | null = null;
  private line = 0;
  private total = 0;
  private selected: string | null = null;

  constructor(private readonly rpc: Rpc) {
    this.title = h("h4", { class: "ew-compare-title" });
    this.kinds = h("div", { class: "ew-compare-kinds", role: "group", "aria-label": "Changes per kind" });
    this.note = h("div", { class: "ew-hint ew-compare-note", role: "status" });
    this.list = h("tbody");
    this.listTable = h(
      "table",
      { class: "ew-compare-list", "aria-label": "Rows that differ" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col", text: "Row" }),
          h("th", { scope: "col", text: "Status" }),
          h("th", { scope: "col", text: "What changed" }),
          h("th", { scope: "col", class: "ew-numeric", text: "Changes" }),
        ),
      ),
      this.list,
    );
    this.pager = h("div", { class: "ew-pager ew-compare-pager" });
    this.detail = h("div", { class: "ew-compare-detail" });
    this.metricsBox = h("div", { class: "ew-metrics" });
    const close = h("button", { type: "button", class: "ew-btn ew-compare-close", text: "Close" });
    close.addEventListener("click", () => {
      this.el.hidden = true;
    });
    this.el = h(
      "section",
      { class: "ew-compare", "aria-label": "Compare two exports" },
      h("div", { class: "ew-compare-head" }, this.title, close),
      this.note,
      this.kinds,
      this.listTable,
      this.pager,
      this.detail,
      this.metricsBox,
    );
    this.el.hidden = true;
  }

  show(a: string, b: string): void {
    this.a = a;
    this.b = b;
    this.kind = null;
    this.line = 0;
    this.selected = null;
    this.el.hidden = false;
    this.el.dataset.mode = "compare";
    this.listTable.hidden = false;
    this.metricsBox.replaceChildren();
    this.detail.replaceChildren();
    this.list.replaceChildren();
    this.kinds.replaceChildren();
    setText(this.title, "Compare");
    setText(this.note, "Comparing…");
    this.rpc.request("compare", { type: "compare", a, b }, (reply) => this.receiveSummary(reply));
  }

  private receiveSummary(reply: Reply): void {
    if (reply.type === "error") {
      setText(this.note, reply.message);
      return;
    }
    if (reply.type !== "compare") return;
    const s: CompareSummary = reply.summary;
    setText(this.title, `Compare A: ${reply.a_label}  →  B: ${reply.b_label}`);
    setText(
      this.note,
      `${fmtInt(s.rows_a)} rows in A, ${fmtInt(s.rows_b)} in B, matched by ${s.key === "id" ? "data row id" : "global key"}: ` +
        `${fmtInt(s.changed_rows)} changed, ${fmtInt(s.only_in_a)} only in A, ${fmtInt(s.only_in_b)} only in B, ` +
        `${fmtInt(s.unchanged_rows)} unchanged.`,
    );
    const chips: HTMLElement[] = [];
    const all = h("button", { type: "button", class: "ew-chip", "aria-pressed": "true", "data-kind": "" }, "all rows");
    chips.push(all);
    for (const [kind, count] of Object.entries(s.counts)) {
      const chip = h(
        "button",
        { type: "button", class: "ew-chip", "aria-pressed": "false", "data-kind": kind },
        h("span", { class: "ew-chip-count", text: fmtInt(count) }),
        ` ${KIND_TEXT[kind] ?? kind}`,
      );
      chip.disabled = count === 0;
      chips.push(chip);
    }
    for (const chip of chips)
      chip.addEventListener("click", () => {
        for (const c of chips) c.setAttribute("aria-pressed", c === chip ? "true" : "false");
        this.kind = chip.dataset.kind || null;
        this.load(0);
      });
    this.kinds.replaceChildren(...chips);
    this.load(0);
  }

  private load(line: number): void {
    this.line = Math.max(0, line);
    this.rpc.request(
      "compare:page",
      { type: "compare_page", a: this.a, b: this.b, kind: this.kind, line: this.line, n: PAGE },
      (reply) => {
        if (reply.type === "error") setText(this.note, reply.message);
        if (reply.type !== "compare_page") return;
        this.total = reply.total;
        this.renderList(reply.rows);
      },
    );
  }

  private renderList(rows: CompareRow[]): void {
    const trs = rows.map((r) => {
      const tr = h(
        "tr",
        { class: r.key === this.selected ? "ew-crow ew-selected" : "ew-crow", tabindex: 0, "data-key": r.key },
        h("td", { class: "ew-crow-key", text: r.global_key ?? r.data_row_id ?? r.key }),
        h("td", { "data-status": r.status, text: r.status.replaceAll("_", " ") }),
        h("td", {
          text: r.kinds
            .split(", ")
            .map((k) => KIND_TEXT[k] ?? k)
            .join(", "),
        }),
        h("td", { class: "ew-numeric", text: fmtInt(r.changes) }),
      );
      const pick = (): void => this.pick(r.key, tr);
      tr.addEventListener("click", pick);
      tr.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          pick();
        }
      });
      return tr;
    });
    if (trs.length === 0) trs.push(h("tr", {}, h("td", { colspan: 4, class: "ew-hint", text: "No differences." })));
    this.list.replaceChildren(...trs);
    const prev = h("button", { type: "button", class: "ew-btn", text: "‹ Prev" });
    const next = h("button", { type: "button", class: "ew-btn", text: "Next ›" });
    prev.disabled = this.line === 0;
    next.disabled = this.line + PAGE >= this.total;
    prev.addEventListener("click", () => this.load(this.line - PAGE));
    next.addEventListener("click", () => this.load(this.line + PAGE));
    const shown = rows.length;
    const range =
      this.total === 0 ? "" : `Rows ${fmtInt(this.line + 1)}–${fmtInt(this.line + shown)} of ${fmtInt(this.total)}`;
    this.pager.replaceChildren(prev, next, h("span", { class: "ew-range", text: range }));
  }

  private pick(key: string, tr: HTMLElement): void {
    this.selected = key;
    for (const row of this.list.querySelectorAll(".ew-crow")) row.classList.toggle("ew-selected", row === tr);
    this.rpc.request("compare:row", { type: "compare_row", a: this.a, b: this.b, key }, (reply) => {
      if (reply.type === "error") setText(this.note, reply.message);
      if (reply.type !== "compare_row") return;
      const changes = h(
        "ul",
        { class: "ew-change-list" },
        ...reply.changes.map((c) => {
          const where = [c.where, c.feature].filter(Boolean).join(" · ");
          const fromTo = c.before !== null || c.after !== null ? `${c.before ?? "—"} → ${c.after ?? "—"}` : "";
          return h(
            "li",
            { "data-kind": c.kind },
            h("span", { class: "ew-change-kind", text: KIND_TEXT[c.kind] ?? c.kind }),
            where ? ` ${where}` : "",
            fromTo ? h("span", { class: "ew-change-values", text: ` ${fromTo}` }) : "",
          );
        }),
      );
      const kinds = new Set(reply.changes.map((c) => c.kind));
      const side = (label: string, raw: string | null): HTMLElement => {
        const box = h("div", { class: "ew-side" }, h("div", { class: "ew-side-title", text: label }));
        if (raw === null) {
          box.append(h("div", { class: "ew-hint", text: "Not in this export." }));
          return box;
        }
        const node = new TreeNode(JSON.parse(raw), "row", "row", (_kind, text) => void copyText(text), true);
        node.expand();
        box.append(h("ol", { class: "ew-rows", role: "tree", "aria-label": `Row in ${label}` }, node.el));
        openWhereChanged(box, kinds);
        return box;
      };
      this.detail.replaceChildren(
        h("h5", { text: `Row ${key}` }),
        changes,
        h("div", { class: "ew-sides" }, side("A", reply.row_a), side("B", reply.row_b)),
      );
    });
  }

  /** The model-run metrics of one export, at an IoU threshold the user can change. */
  metrics(entry: string, label: string, iou = 0.5): void {
    this.el.hidden = false;
    this.el.dataset.mode = "metrics";
    this.listTable.hidden = true;
    this.kinds.replaceChildren();
    this.list.replaceChildren();
    this.pager.replaceChildren();
    this.detail.replaceChildren();
    setText(this.title, `Model-run metrics: ${label}`);
    setText(this.note, "Matching predictions to ground truth…");
    this.rpc.request("compare:metrics", { type: "metrics", entry, iou }, (reply) => {
      if (reply.type === "error") {
        setText(this.note, reply.message);
        return;
      }
      if (reply.type !== "metrics") return;
      this.renderMetrics(entry, label, reply);
    });
  }

  private renderMetrics(entry: string, label: string, m: MetricsReply): void {
    setText(
      this.note,
      `Matched within each feature by IoU ≥ ${m.iou}. ${fmtInt(m.skipped)} points and lines have no area and are left out.`,
    );
    const iouInput = h("input", {
      type: "number",
      class: "ew-iou",
      min: 0.05,
      max: 1,
      step: 0.05,
      value: m.iou,
      "aria-label": "IoU threshold",
    });
    iouInput.addEventListener("change", () => {
      const v = Number(iouInput.value);
      if (v > 0 && v <= 1) this.metrics(entry, label, v);
    });
    const head = h(
      "tr",
      {},
      ...["Feature", "Truth", "Predicted", "TP", "FP", "FN", "Precision", "Recall"].map((t, i) =>
        h("th", { scope: "col", class: i > 0 ? "ew-numeric" : "", text: t }),
      ),
    );
    const body = m.features.map((f) =>
      h(
        "tr",
        { "data-feature": f.feature },
        h("td", { text: f.feature }),
        ...[f.ground_truth, f.predictions, f.tp, f.fp, f.fn].map((n) =>
          h("td", { class: "ew-numeric", text: fmtInt(n) }),
        ),
        h("td", { class: "ew-numeric", text: pct(f.precision) }),
        h("td", { class: "ew-numeric", text: pct(f.recall) }),
      ),
    );
    const features = h(
      "table",
      { class: "ew-metrics-table", "aria-label": "Per-feature metrics" },
      h("thead", {}, head),
      h("tbody", {}, ...body),
    );
    const c = m.confusion;
    const confusion = h(
      "table",
      { class: "ew-confusion", "aria-label": "Class confusions: truth by row, predicted by column" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col", text: "truth \\ predicted" }),
          ...c.predicted.map((p) => h("th", { scope: "col", class: "ew-numeric", text: p })),
        ),
      ),
      h(
        "tbody",
        {},
        ...c.truth.map((t, i) =>
          h(
            "tr",
            {},
            h("th", { scope: "row", text: t }),
            ...(c.counts[i] ?? []).map((n, j) =>
              h("td", {
                class:
                  n > 0 && c.predicted[j] === t ? "ew-numeric ew-diag" : n > 0 ? "ew-numeric ew-off" : "ew-numeric",
                text: fmtInt(n),
              }),
            ),
          ),
        ),
      ),
    );
    this.metricsBox.replaceChildren(
      h("label", { class: "ew-iou-label" }, "IoU threshold ", iouInput),
      features,
      h("h5", { text: "Class confusions" }),
      confusion,
    );
  }
}
