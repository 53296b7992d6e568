// The search box over the viewer: free text or SQL, run by the kernel over the spool.
// The kernel's search worker writes the `search` trait (state, rows scanned, matches); the
// viewer reads the same trait and pages over the matches. This part only asks and shows.

import { fmtInt, h, setText, uid } from "./dom";
import type { Part, PartContext } from "./part";
import type { Rpc } from "./rpc";
import type { Model, SearchKind, SearchStatus } from "./types";

const PLACEHOLDER: Record<SearchKind, string> = {
  text: "Find text in rows: a global key, an email, a feature name, Reject…",
  sql: "FROM annotations WHERE feature_name = 'car' AND width < 20",
};

const SQL_HELP: [string, string][] = [
  ["rows", "line, data_row_id, global_key, external_id, media_type, dataset_name, row_data, width, height, json"],
  [
    "labels",
    "line, data_row_id, global_key, media_type, source, project_id, project_name, model_run_id, model_run_name, split, " +
      "workflow_status, label_id, label_kind, created_by, created_at, updated_at, review_verdicts, reviewed_by",
  ],
  [
    "annotations",
    "the label columns, and feature_id, feature_name, feature_schema_id, annotation_kind, x, y, width, height, area, " +
      "point_count, mask_url, frame, span_start, span_end, span_text, message_id, page",
  ],
  [
    "classifications",
    "the label columns, and feature_name, feature_schema_id, answer_kind, answer, answer_schema_id, parent_feature_id, " +
      "frame, message_id, depth",
  ],
];

const SQL_EXAMPLES = [
  "FROM labels WHERE review_verdicts LIKE '%Reject%' AND reviewed_by = 'reviewer@example.com'",
  "FROM annotations WHERE feature_name = 'car' AND width < 20",
  "FROM labels WHERE created_by = 'labeler@example.com'",
  "FROM classifications WHERE answer = 'rainy'",
  "FROM rows WHERE json->>'$.data_row.details.dataset_name' = 'Street Scenes'",
];

export const idleSearch: SearchStatus = {
  id: "",
  kind: "",
  query: "",
  state: "idle",
  scanned: 0,
  total: 0,
  matches: 0,
  message: "",
  seq: 0,
};

/** The `search` trait, or idle when the kernel has not set it (an older kernel). */
export function searchOf(model: Model): SearchStatus {
  return model.get("search") ?? idleSearch;
}

/** "37 of 3,000 rows match", with what is still going on. */
export function describeSearch(s: SearchStatus): string {
  const match = `${fmtInt(s.matches)} of ${fmtInt(s.total)} ${s.total === 1 ? "row" : "rows"} ${s.matches === 1 ? "matches" : "match"}`;
  switch (s.state) {
    case "running":
      return `Searching… ${fmtInt(s.scanned)} of ${fmtInt(s.total)} rows read, ${fmtInt(s.matches)} ${s.matches === 1 ? "match" : "matches"} so far`;
    case "waiting":
      return `${match} so far; the export is still streaming`;
    case "done":
      return match;
    case "cancelled":
      return `Cancelled after ${fmtInt(s.scanned)} of ${fmtInt(s.total)} rows: ${fmtInt(s.matches)} ${s.matches === 1 ? "match" : "matches"}`;
    case "failed":
      return "The search failed.";
    default:
      return "";
  }
}

export class SearchBox implements Part {
  readonly el: HTMLElement;
  private readonly kind: HTMLSelectElement;
  private readonly input: HTMLInputElement;
  private readonly run: HTMLButtonElement;
  private readonly stop: HTMLButtonElement;
  private readonly clear: HTMLButtonElement;
  private readonly bar: HTMLProgressElement;
  private readonly summary: HTMLElement;
  private readonly error: HTMLElement;
  private readonly help: HTMLDetailsElement;

  constructor(
    private readonly rpc: Rpc,
    model: Model,
  ) {
    const errorId = uid("search-error");
    this.kind = h("select", { class: "ew-search-kind", "aria-label": "Search kind" });
    this.kind.append(h("option", { value: "text", text: "Text" }), h("option", { value: "sql", text: "SQL" }));
    this.input = h("input", {
      type: "search",
      class: "ew-search-input",
      "aria-label": "Search rows",
      "aria-describedby": errorId,
      placeholder: PLACEHOLDER.text,
      spellcheck: "false",
      autocomplete: "off",
    });
    this.run = h("button", { type: "button", class: "ew-btn ew-primary", text: "Search", "aria-label": "Search" });
    this.stop = h("button", { type: "button", class: "ew-btn", text: "Stop", "aria-label": "Stop the search" });
    this.clear = h("button", {
      type: "button",
      class: "ew-btn",
      text: "Clear search",
      title: "Show every row again",
    });
    this.bar = h("progress", { class: "ew-search-bar", max: 1, value: 0, "aria-label": "Search progress" });
    this.summary = h("span", { class: "ew-search-summary", role: "status", "aria-live": "polite" });
    this.error = h("div", { class: "ew-error ew-search-error", id: errorId, role: "alert" });
    this.help = h("details", { class: "ew-search-help" }, h("summary", { text: "How to write a SQL search" }));
    this.help.append(...helpBody());
    this.help.hidden = true;

    this.kind.addEventListener("change", () => {
      const kind = this.kind.value as SearchKind;
      this.input.placeholder = PLACEHOLDER[kind];
      this.help.hidden = kind !== "sql";
      this.showError("");
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.submit();
    });
    this.input.addEventListener("input", () => this.showError(""));
    this.run.addEventListener("click", () => this.submit());
    this.stop.addEventListener("click", () => {
      this.rpc.request("search:control", { type: "find_cancel" }, () => undefined);
    });
    this.clear.addEventListener("click", () => {
      this.rpc.request("search:control", { type: "find_clear" }, () => undefined);
    });
    this.el = h(
      "section",
      { class: "ew-search", "aria-label": "Find rows" },
      h("div", { class: "ew-search-bar-row" }, this.kind, this.input, this.run, this.stop, this.clear),
      this.error,
      h("div", { class: "ew-search-state" }, this.bar, this.summary),
      this.help,
    );
    this.update(searchOf(model));
  }

  submit(): void {
    const query = this.input.value;
    if (!query.trim()) {
      this.showError(`${this.kind.value === "sql" ? "sql" : "text"}: type something to search for`);
      return;
    }
    const kind = this.kind.value as SearchKind;
    this.showError("");
    this.rpc.request("search", { type: "find", kind, query }, (reply) => {
      if (reply.type === "error") this.showError(reply.message);
      else if (reply.type === "find" && !reply.ok) this.showError(reply.message);
    });
  }

  private showError(text: string): void {
    setText(this.error, text);
    this.input.setAttribute("aria-invalid", text ? "true" : "false");
  }

  /** New `search` trait from the kernel. */
  update(s: SearchStatus): void {
    const active = s.state === "running" || s.state === "waiting";
    this.stop.hidden = !active;
    this.clear.hidden = s.state === "idle";
    this.bar.hidden = s.state !== "running";
    this.bar.max = Math.max(1, s.total);
    this.bar.value = s.scanned;
    setText(this.summary, describeSearch(s));
    this.summary.dataset.state = s.state;
    if (s.state === "failed") this.showError(s.message);
    if (s.state !== "idle" && s.kind && !this.input.value) {
      // Another view (or a re-run cell) started it: show what it was.
      this.kind.value = s.kind;
      this.input.value = s.query;
      this.help.hidden = s.kind !== "sql";
    }
  }
}

function helpBody(): HTMLElement[] {
  const list = h("dl", { class: "ew-search-tables" });
  for (const [name, columns] of SQL_HELP) {
    list.append(h("dt", {}, h("code", { text: name })), h("dd", { text: columns }));
  }
  const examples = h("ul", { class: "ew-search-examples" });
  for (const example of SQL_EXAMPLES) examples.append(h("li", {}, h("code", { text: example })));
  return [
    h("p", {
      text:
        "One DuckDB query over four tables; the rows whose line it returns match. " +
        "FROM table WHERE … is enough (DuckDB fills in SELECT *). Every table has a line column.",
    }),
    list,
    h("p", { text: "Examples:" }),
    examples,
  ];
}

export function mountSearch({ model, rpc, on }: PartContext): Part {
  const box = new SearchBox(rpc, model);
  on("change:search", () => box.update(searchOf(model)));
  return box;
}
