// The export configuration and filter form. It writes the `config` trait (the browser owns
// it) and shows the `validation` trait (Python owns it) next to each field, as text. The
// rules it applies while the user types (statuses, caps, which params are booleans, which
// scopes take a target) come from the `catalog` trait: the form hard-codes none of them.

import { fmtInt, h, setText, uid } from "./dom";
import type {
  Catalog,
  ExportConfig,
  Filters,
  FormRules,
  Model,
  ModelRunEntry,
  Named,
  ParamValue,
  Scope,
  ScopeRules,
  Validation,
} from "./types";

const SCOPE_LABELS: Record<Scope, string> = {
  project: "Project",
  dataset: "Dataset",
  catalog: "Catalog (all data rows)",
  slice: "Catalog slice",
  model_run: "Model run",
  data_rows: "Data rows (by id or global key)",
};

const PARAM_HINTS: Record<string, [string, string]> = {
  data_row_details: ["Data row details", "dataset, creator, created/updated/last-activity times"],
  attachments: ["Attachments", "files and text attached to each data row"],
  metadata_fields: ["Metadata fields", "each row's metadata schema names and values"],
  embeddings: ["Embeddings", "precomputed and custom embedding vectors (large)"],
  project_details: ["Project details", "batch, workflow status, priority and history per project"],
  label_details: ["Label details", "who created each label and when, with its reviews"],
  performance_details: ["Performance details", "seconds to create, review and rework each label"],
  interpolated_frames: ["Interpolated frames", "video: fill the frames between key frames"],
  predictions: ["Predictions", "model predictions alongside the ground truth"],
  model_run_details: ["Model run details", "model run fields such as the data split"],
  all_projects: ["All projects", "labels from every project the row is in"],
  all_model_runs: ["All model runs", "every model run the row is in"],
  media_type_override: ["Media type override", "export only rows of this media type"],
  project_ids: ["Projects to include", "labels from these projects"],
  model_run_ids: ["Model runs to include", "predictions and labels from these runs"],
};
const ID_LIST_PARAMS = ["project_ids", "model_run_ids"];
const NO_RULES: ScopeRules = { params: [], filters: [], target: null };
const DATE_HINT = "YYYY-MM-DD, YYYY-MM-DD hh:mm:ss or YYYY-MM-DDThh:mm:ss±hhmm; leave an end empty to leave it open";

interface Field {
  wrap: HTMLElement;
  error: HTMLElement;
  inputs: HTMLElement[];
}

export function parseIds(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function listOf(v: ParamValue | undefined): string[] {
  return Array.isArray(v) ? v : [];
}

export class ConfigForm {
  readonly el: HTMLElement;
  private readonly fields = new Map<string, Field>();
  private readonly scopeSelect: HTMLSelectElement;
  private readonly targetSelect: HTMLSelectElement;
  private readonly targetLabel: HTMLLabelElement;
  private readonly taskName: HTMLInputElement;
  private readonly checks = new Map<string, HTMLInputElement>();
  private readonly mediaType: HTMLSelectElement;
  private readonly multi = new Map<string, HTMLSelectElement>();
  private readonly multiCount = new Map<string, HTMLElement>();
  private readonly dates = new Map<string, [HTMLInputElement, HTMLInputElement]>();
  private readonly workflow: HTMLSelectElement;
  private readonly batches: HTMLSelectElement;
  private readonly idKind: HTMLSelectElement;
  private readonly idText: HTMLTextAreaElement;
  private readonly idCount: HTMLElement;
  private readonly tzNotes: HTMLElement[] = [];
  private readonly paramsBox: HTMLFieldSetElement;
  private readonly filtersBox: HTMLFieldSetElement;
  private readonly filtersLegend: HTMLLegendElement;
  private readonly general: HTMLElement;
  private idHint: HTMLElement | null = null;
  private timer: number | undefined;

  constructor(private readonly model: Model) {
    const { rules, scopes } = model.get("catalog");
    this.scopeSelect = h("select", { class: "ew-scope" });
    for (const scope of Object.keys(scopes)) {
      this.scopeSelect.append(h("option", { value: scope, text: SCOPE_LABELS[scope as Scope] ?? scope }));
    }
    this.targetSelect = h("select", { class: "ew-target" });
    this.taskName = h("input", { type: "text", class: "ew-taskname", placeholder: "optional" });
    this.mediaType = h("select", { class: "ew-mediatype" });
    this.workflow = h("select", { class: "ew-workflow" });
    this.workflow.append(h("option", { value: "", text: "Any status" }));
    for (const status of rules.workflow_statuses) this.workflow.append(h("option", { value: status, text: status }));
    this.batches = h("select", { class: "ew-batches", multiple: true, size: 4 });
    this.idKind = h("select", { class: "ew-idkind" });
    this.idKind.append(
      h("option", { value: "global_keys", text: "Global keys" }),
      h("option", { value: "data_row_ids", text: "Data row IDs" }),
    );
    this.idText = h("textarea", {
      class: "ew-ids",
      rows: 3,
      placeholder: "paste one per line (or separated by commas)",
    });
    this.idCount = h("span", { class: "ew-count", "aria-live": "polite" });

    const scopeField = this.field("scope", "Export", this.scopeSelect, "what to export");
    const targetField = this.field("target_id", "Project", this.targetSelect, "");
    this.targetLabel = targetField.wrap.querySelector("label") as HTMLLabelElement;
    const nameField = this.field("task_name", "Task name", this.taskName, "shown in the task list");

    this.paramsBox = h("fieldset", { class: "ew-params" }, h("legend", { text: "Include" }));
    for (const param of rules.bool_params) {
      const box = h("input", { type: "checkbox", class: `ew-param-${param}` });
      this.checks.set(param, box);
      this.paramsBox.append(this.checkField(param, box).wrap);
    }
    const [mediaLabel, mediaHint] = paramText("media_type_override");
    this.paramsBox.append(this.field("media_type_override", mediaLabel, this.mediaType, mediaHint).wrap);
    for (const param of ID_LIST_PARAMS) {
      const sel = h("select", { class: `ew-param-${param}`, multiple: true, size: 4 });
      const count = h("span", { class: "ew-count", "aria-live": "polite" });
      this.multi.set(param, sel);
      this.multiCount.set(param, count);
      const [label, hint] = paramText(param);
      const field = this.field(param, label, sel, `${hint}; at most ${rules.param_ids_max}`);
      field.wrap.insertBefore(count, field.error);
      this.paramsBox.append(field.wrap);
    }

    this.filtersLegend = h("legend", { text: "Filters" });
    this.filtersBox = h("fieldset", { class: "ew-filters" }, this.filtersLegend);
    for (const [name, text] of [
      ["last_activity_at", "Last activity"],
      ["label_created_at", "Label created"],
    ] as const) {
      const from = h("input", { type: "text", class: `ew-${name}-from`, placeholder: "from (open)" });
      const to = h("input", { type: "text", class: `ew-${name}-to`, placeholder: "to (open)" });
      from.setAttribute("aria-label", `${text} from`);
      to.setAttribute("aria-label", `${text} to`);
      this.dates.set(name, [from, to]);
      const tz = h("span", { class: "ew-tz" });
      this.tzNotes.push(tz);
      const field = this.groupField(name, text, [from, h("span", { text: " – " }), to], DATE_HINT, tz);
      this.filtersBox.append(field.wrap);
    }
    this.filtersBox.append(
      this.field("workflow_status", "Workflow status", this.workflow, "rows in this workflow step").wrap,
      this.field("batch_ids", "Batches", this.batches, "only rows in these batches; none = all").wrap,
    );
    const idField = this.groupField("ids", "Rows by", [this.idKind, this.idText], idHint(rules, false), this.idCount);
    this.idHint = idField.wrap.querySelector(".ew-hint") as HTMLElement;
    this.idKind.setAttribute("aria-label", "Identify rows by");
    this.idText.setAttribute("aria-label", "Ids to export");
    this.fields.set("global_keys", idField);
    this.fields.set("data_row_ids", idField);
    this.fields.set("data_rows", idField);
    this.filtersBox.append(idField.wrap);

    this.general = h("div", { class: "ew-error ew-general", role: "status" });
    this.el = h(
      "section",
      { class: "ew-config", "aria-label": "Export configuration" },
      h("div", { class: "ew-row" }, scopeField.wrap, targetField.wrap, nameField.wrap),
      this.paramsBox,
      this.filtersBox,
      this.general,
    );
    this.listen();
  }

  // -- building ---------------------------------------------------------------------------

  private field(name: string, label: string, input: HTMLElement, hint: string): Field {
    const id = uid(name);
    input.id = id;
    const hintEl = h("span", { class: "ew-hint", id: `${id}-hint`, text: hint });
    const error = h("div", { class: "ew-error", id: `${id}-error`, "data-field": name });
    input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    const wrap = h(
      "div",
      { class: "ew-field", "data-field": name },
      h("label", { for: id, text: label }),
      input,
      hintEl,
      error,
    );
    const field = { wrap, error, inputs: [input] };
    this.fields.set(name, field);
    return field;
  }

  private checkField(name: string, box: HTMLInputElement): Field {
    const id = uid(name);
    box.id = id;
    const [label, hint] = paramText(name);
    const error = h("div", { class: "ew-error", id: `${id}-error`, "data-field": name });
    box.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    const wrap = h(
      "div",
      { class: "ew-field ew-check", "data-field": name },
      box,
      h("label", { for: id, text: label }),
      h("span", { class: "ew-hint", id: `${id}-hint`, text: hint }),
      error,
    );
    const field = { wrap, error, inputs: [box] };
    this.fields.set(name, field);
    return field;
  }

  private groupField(name: string, label: string, parts: HTMLElement[], hint: string, extra: HTMLElement): Field {
    const id = uid(name);
    const error = h("div", { class: "ew-error", id: `${id}-error`, "data-field": name });
    const hintEl = h("span", { class: "ew-hint", id: `${id}-hint`, text: hint });
    const inputs = parts.filter(
      (part) =>
        part instanceof HTMLInputElement || part instanceof HTMLSelectElement || part instanceof HTMLTextAreaElement,
    );
    for (const i of inputs) i.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    const wrap = h(
      "div",
      { class: "ew-field", "data-field": name, role: "group", "aria-label": label },
      h("span", { class: "ew-label", text: label }),
      ...parts,
      extra,
      hintEl,
      error,
    );
    const field = { wrap, error, inputs };
    this.fields.set(name, field);
    return field;
  }

  private listen(): void {
    const now = (): void => this.commit();
    const soon = (): void => {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => this.commit(), 200);
    };
    this.scopeSelect.addEventListener("change", () => {
      this.targetSelect.value = "";
      this.applyScope();
      this.commit();
    });
    for (const el of [
      this.targetSelect,
      this.mediaType,
      this.workflow,
      this.batches,
      this.idKind,
      ...this.checks.values(),
      ...this.multi.values(),
    ]) {
      el.addEventListener("change", now);
    }
    this.targetSelect.addEventListener("change", () => this.fillBatches());
    for (const el of [this.taskName, this.idText, ...[...this.dates.values()].flat()]) {
      el.addEventListener("input", () => {
        this.updateCounts();
        soon();
      });
      el.addEventListener("change", now);
    }
  }

  // -- model -> form ----------------------------------------------------------------------

  /** Fill options from the catalog and values from the config (fields being edited are kept). */
  sync(): void {
    const catalog = this.model.get("catalog");
    const config = this.model.get("config") ?? {};
    this.fillMediaTypes(catalog);
    for (const [param, sel] of this.multi) {
      const items: [string, string][] =
        param === "project_ids"
          ? catalog.projects.map((project) => [project.id, labelFor(project)])
          : catalog.model_runs.map((run) => [run.id, runLabel(run)]);
      fillOptions(sel, items, null);
    }
    for (const tz of this.tzNotes) setText(tz, `read in ${catalog.timezone || "UTC"} unless an offset is given`);
    const scope: Scope = config.scope ?? "project";
    this.setValue(this.scopeSelect, scope);
    this.applyScope();
    this.setValue(this.targetSelect, config.target_id ?? "");
    if (!this.targetSelect.value && this.targetSelect.options.length > 0) {
      this.targetSelect.selectedIndex = 0;
    }
    this.fillBatches();
    this.setValue(this.taskName, config.task_name ?? "");
    const params = config.params ?? {};
    for (const [param, box] of this.checks) if (document.activeElement !== box) box.checked = params[param] === true;
    this.setValue(this.mediaType, typeof params.media_type_override === "string" ? params.media_type_override : "");
    for (const [param, sel] of this.multi) this.setSelected(sel, listOf(params[param]));
    const filters = config.filters ?? {};
    for (const [name, [from, to]] of this.dates) {
      const range = filters[name as "last_activity_at"] ?? [null, null];
      this.setValue(from, range[0] ?? "");
      this.setValue(to, range[1] ?? "");
    }
    this.setValue(this.workflow, filters.workflow_status ?? "");
    this.setSelected(this.batches, filters.batch_ids ?? []);
    let kind = this.idKind.value as "global_keys" | "data_row_ids";
    if (filters.data_row_ids?.length) kind = "data_row_ids";
    else if (filters.global_keys?.length) kind = "global_keys";
    this.setValue(this.idKind, kind);
    const ids = filters[kind] ?? [];
    if (document.activeElement !== this.idText && parseIds(this.idText.value).join("\n") !== ids.join("\n")) {
      this.idText.value = ids.join("\n");
    }
    this.updateCounts();
    const wantsTarget = this.scopeRules().target !== null;
    if (config.scope === undefined || (wantsTarget && (config.target_id ?? "") !== this.targetSelect.value)) {
      // First render (or the chosen target vanished): publish what the form shows.
      this.commit();
    }
  }

  private setValue(el: HTMLInputElement | HTMLSelectElement, value: string): void {
    if (document.activeElement !== el && el.value !== value) el.value = value;
  }

  private setSelected(sel: HTMLSelectElement, values: string[]): void {
    if (document.activeElement === sel) return;
    const want = new Set(values);
    for (const o of Array.from(sel.options)) o.selected = want.has(o.value);
  }

  private fillMediaTypes(catalog: Catalog): void {
    const items: [string, string][] = [
      ["", "No override"],
      ...catalog.media_types.map((media): [string, string] => [media, media]),
    ];
    fillOptions(this.mediaType, items, this.mediaType.value);
  }

  private fillBatches(): void {
    const catalog = this.model.get("catalog");
    const list = catalog.batches[this.targetSelect.value] ?? [];
    fillOptions(
      this.batches,
      list.map((batch) => [batch.id, batch.name]),
      null,
    );
    const config = this.model.get("config") ?? {};
    this.setSelected(this.batches, config.filters?.batch_ids ?? []);
  }

  private targetsFor(scope: Scope): [string, string][] {
    const catalog = this.model.get("catalog");
    switch (scope) {
      case "project":
        return catalog.projects.map((target) => [target.id, labelFor(target)]);
      case "dataset":
        return catalog.datasets.map((target) => [target.id, labelFor(target)]);
      case "slice":
        return catalog.slices.map((target) => [target.id, labelFor(target)]);
      case "model_run":
        return catalog.model_runs.map((target) => [target.id, runLabel(target)]);
      default:
        return [];
    }
  }

  private scopeRules(): ScopeRules {
    return this.model.get("catalog").scopes[this.scopeSelect.value] ?? NO_RULES;
  }

  private applyScope(): void {
    const scope = this.scopeSelect.value as Scope;
    const rules = this.scopeRules();
    const targets = this.targetsFor(scope);
    this.hide("target_id", rules.target === null);
    setText(this.targetLabel, (SCOPE_LABELS[scope] ?? scope).replace(/ \(.*\)$/, ""));
    fillOptions(this.targetSelect, targets, this.targetSelect.value || null);
    if (!this.targetSelect.value && targets.length > 0) this.targetSelect.selectedIndex = 0;
    const params = new Set(rules.params);
    for (const param of [...this.checks.keys(), "media_type_override", ...ID_LIST_PARAMS]) {
      this.hide(param, !params.has(param));
    }
    this.paramsBox.hidden = params.size === 0;
    const filters = new Set(rules.filters);
    const idsShown = filters.has("global_keys") || filters.has("data_row_ids");
    for (const filter of ["last_activity_at", "label_created_at", "workflow_status", "batch_ids"]) {
      this.hide(filter, !filters.has(filter));
    }
    this.hide("ids", !idsShown);
    setText(this.filtersLegend, scope === "data_rows" ? "Data rows to export" : "Filters");
    if (this.idHint) setText(this.idHint, idHint(this.model.get("catalog").rules, scope === "data_rows"));
    this.filtersBox.hidden = !idsShown && filters.size === 0;
  }

  private hide(field: string, hidden: boolean): void {
    const wrap = this.fields.get(field)?.wrap;
    if (wrap) wrap.hidden = hidden;
  }

  private updateCounts(): void {
    const { row_ids_max, param_ids_max } = this.model.get("catalog").rules;
    const ids = parseIds(this.idText.value).length;
    const what = this.idKind.value === "data_row_ids" ? "data row ID" : "global key";
    setText(this.idCount, `${fmtInt(ids)} ${what}${ids === 1 ? "" : "s"} (max ${fmtInt(row_ids_max)})`);
    this.idCount.classList.toggle("ew-over", ids > row_ids_max);
    for (const [param, sel] of this.multi) {
      const picked = sel.selectedOptions.length;
      const count = this.multiCount.get(param);
      if (!count) continue;
      setText(count, `${picked} selected (max ${fmtInt(param_ids_max)})`);
      count.classList.toggle("ew-over", picked > param_ids_max);
    }
  }

  // -- form -> model ----------------------------------------------------------------------

  /** The config the form shows, as the trait stores it. Empty lists and open ranges are left out. */
  read(): ExportConfig {
    const scope = this.scopeSelect.value as Scope;
    const rules = this.scopeRules();
    const params: Record<string, ParamValue> = {};
    for (const param of rules.params) {
      const box = this.checks.get(param);
      if (box) {
        if (box.checked) params[param] = true;
      } else if (param === "media_type_override") {
        if (this.mediaType.value) params[param] = this.mediaType.value;
      } else {
        const sel = this.multi.get(param);
        const picked = sel ? Array.from(sel.selectedOptions, (o) => o.value) : [];
        if (picked.length > 0) params[param] = picked;
      }
    }
    const filters: Filters = {};
    const allowed = new Set(rules.filters);
    for (const [name, [from, to]] of this.dates) {
      if (!allowed.has(name)) continue;
      const a = from.value.trim();
      const b = to.value.trim();
      if (a || b) filters[name as "last_activity_at"] = [a || null, b || null];
    }
    if (allowed.has("workflow_status") && this.workflow.value) filters.workflow_status = this.workflow.value;
    if (allowed.has("batch_ids")) {
      const picked = Array.from(this.batches.selectedOptions, (o) => o.value);
      if (picked.length > 0) filters.batch_ids = picked;
    }
    const ids = parseIds(this.idText.value);
    const kind = this.idKind.value as "global_keys" | "data_row_ids";
    if (ids.length > 0 && allowed.has(kind)) filters[kind] = ids;
    const config: ExportConfig = { scope, params, filters };
    if (rules.target !== null) config.target_id = this.targetSelect.value;
    const name = this.taskName.value.trim();
    if (name) config.task_name = name;
    return config;
  }

  commit(): void {
    window.clearTimeout(this.timer);
    this.model.set("config", this.read());
    this.model.save_changes();
  }

  // -- validation -------------------------------------------------------------------------

  showValidation(validation: Validation): void {
    const general: string[] = [];
    for (const field of new Set(this.fields.values())) {
      setText(field.error, "");
      field.wrap.classList.remove("ew-invalid");
      for (const i of field.inputs) i.removeAttribute("aria-invalid");
    }
    for (const [key, message] of Object.entries(validation)) {
      const field = this.fields.get(key);
      if (!field || field.wrap.hidden) {
        general.push(message);
        continue;
      }
      field.error.textContent = field.error.textContent ? `${field.error.textContent}\n${message}` : message;
      field.wrap.classList.add("ew-invalid");
      for (const i of field.inputs) i.setAttribute("aria-invalid", "true");
    }
    setText(this.general, general.join("\n"));
  }
}

function paramText(name: string): [string, string] {
  return PARAM_HINTS[name] ?? [name, ""];
}

function idHint(rules: FormRules, required: boolean): string {
  const cap = `at most ${fmtInt(rules.row_ids_max)} ids`;
  return required ? `required: the rows to export; ${cap}` : `empty = no filter; ${cap}`;
}

function labelFor(target: Named): string {
  return target.name || target.id;
}

function runLabel(run: ModelRunEntry): string {
  return `${run.model_name} / ${run.name}`;
}

function fillOptions(sel: HTMLSelectElement, items: [string, string][], keep: string | null): void {
  const same =
    sel.options.length === items.length &&
    items.every(([v, t], i) => sel.options[i]?.value === v && sel.options[i]?.text === t);
  if (same) return;
  const selected = new Set(Array.from(sel.selectedOptions, (o) => o.value));
  sel.replaceChildren(...items.map(([value, text]) => h("option", { value, text, title: value })));
  if (sel.multiple) {
    for (const o of Array.from(sel.options)) o.selected = selected.has(o.value);
  } else if (keep !== null) {
    sel.value = keep;
  }
}
