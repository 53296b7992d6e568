// Once an export starts, the configuration folds into one line (scope, target, params on,
// filters set) with an Edit control, so the progress and the rows get the room.

import { h, setText } from "./dom";
import type { Part, PartContext } from "./part";
import type { Catalog, ExportConfig, State } from "./types";

const ACTIVE: ReadonlySet<State> = new Set(["queued", "running", "streaming"]);

const SCOPE_NAMES: Record<string, string> = {
  project: "Project",
  dataset: "Dataset",
  catalog: "Catalog",
  slice: "Slice",
  model_run: "Model run",
  data_rows: "Data rows",
};

function targetName(config: ExportConfig, catalog: Catalog): string {
  const id = config.target_id ?? "";
  const find = (list: { id: string; name: string }[]): string => list.find((x) => x.id === id)?.name || id;
  switch (config.scope) {
    case "project":
      return find(catalog.projects);
    case "dataset":
      return find(catalog.datasets);
    case "slice":
      return find(catalog.slices);
    case "model_run": {
      const run = catalog.model_runs.find((x) => x.id === id);
      return run ? `${run.model_name} / ${run.name}` : id;
    }
    case "data_rows": {
      const f = config.filters ?? {};
      const ids = f.data_row_ids ?? f.global_keys ?? [];
      const what = f.data_row_ids ? "data row ID" : "global key";
      return `${ids.length.toLocaleString("en-US")} ${what}${ids.length === 1 ? "" : "s"}`;
    }
    default:
      return "all data rows";
  }
}

/** The configuration in one line: "Project: Street scenes · params: a, b · filters: c". */
export function summarize(config: ExportConfig, catalog: Catalog): string {
  const parts = [`${SCOPE_NAMES[config.scope ?? "project"] ?? config.scope}: ${targetName(config, catalog)}`];
  const params = Object.entries(config.params ?? {})
    .filter(([, v]) => v !== false && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => (typeof v === "string" ? `${k}=${v}` : Array.isArray(v) ? `${k} (${v.length})` : k));
  parts.push(params.length ? `params: ${params.join(", ")}` : "no params");
  const filters =
    config.scope === "data_rows"
      ? []
      : Object.entries(config.filters ?? {})
          .filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && v.every((x) => x === null || x === "")))
          .map(([k, v]) => (k === "workflow_status" ? `${k}=${String(v)}` : k));
  if (config.scope !== "data_rows") parts.push(filters.length ? `filters: ${filters.join(", ")}` : "no filters");
  if (config.task_name) parts.push(`“${config.task_name}”`);
  return parts.join(" · ");
}

/**
 * The folded line. It comes first among the parts: while it carries `ew-folded`, the CSS
 * hides the form and the Code panel that follow it (sibling selectors), so no other part
 * needs to know about folding.
 */
export function mountFold({ model, on }: PartContext): Part {
  const text = h("span", { class: "ew-fold-text" });
  const editBtn = h("button", { type: "button", class: "ew-btn ew-edit", text: "Edit" });
  editBtn.setAttribute("aria-label", "Edit the export configuration");
  const el = h(
    "section",
    { class: "ew-fold", "aria-label": "Export configuration, folded" },
    h("span", { class: "ew-label", text: "Export" }),
    text,
    editBtn,
  );

  const setFolded = (folded: boolean): void => {
    el.classList.toggle("ew-folded", folded);
    el.hidden = !folded;
  };
  const refresh = (): void => {
    const line = summarize(model.get("config") ?? {}, model.get("catalog"));
    setText(text, line);
    text.title = line;
  };
  let wasActive = ACTIVE.has(model.get("status").state);
  on("change:status", () => {
    const active = ACTIVE.has(model.get("status").state);
    if (active && !wasActive) setFolded(true); // an export started (here, in another view or in Python)
    wasActive = active;
  });
  on("change:config", refresh);
  on("change:catalog", refresh);
  editBtn.addEventListener("click", () => {
    setFolded(false);
    // Keyboard users land on the first control of the form they asked to edit.
    const first = el.parentElement?.querySelector<HTMLElement>(".ew-config select, .ew-config input");
    first?.focus();
  });
  refresh();
  // A view opened after an export ran starts folded: the rows are what it is for.
  setFolded(model.get("status").state !== "idle");
  return { el };
}
