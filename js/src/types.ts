// Shapes shared with export_widget/messages.py. Declared once here, once in Python.

export type Scope = "project" | "dataset" | "catalog" | "slice" | "model_run" | "data_rows";
export type State = "idle" | "queued" | "running" | "streaming" | "done" | "failed" | "cancelled";
export type StreamName = "result" | "errors";
export type DateRange = [string | null, string | null];

export interface Filters {
  last_activity_at?: DateRange;
  label_created_at?: DateRange;
  workflow_status?: string;
  batch_ids?: string[];
  global_keys?: string[];
  data_row_ids?: string[];
}

export type ParamValue = boolean | string | string[] | null;

export interface ExportConfig {
  scope?: Scope;
  target_id?: string;
  task_name?: string;
  params?: Record<string, ParamValue>;
  filters?: Filters;
}

export interface Status {
  state: State;
  task_id: string | null;
  percent: number | null;
  rows: number;
  bytes: number;
  total_rows: number | null;
  rows_per_s: number;
  elapsed_s: number;
  eta_s: number | null;
  errors: number;
  message: string;
  seq: number;
}

export interface Named {
  id: string;
  name: string;
}

export interface ModelRunEntry extends Named {
  model_name: string;
}

export interface ScopeRules {
  params: string[];
  filters: string[];
  target: string | null;
}

export interface FormRules {
  workflow_statuses: string[];
  bool_params: string[];
  row_ids_max: number;
  param_ids_max: number;
}

export interface Catalog {
  projects: Named[];
  datasets: Named[];
  slices: Named[];
  model_runs: ModelRunEntry[];
  batches: Record<string, Named[]>;
  scopes: Record<string, ScopeRules>;
  rules: FormRules;
  media_types: string[];
  timezone: string;
  error?: string;
}

export type Validation = Record<string, string>;

export type CodeFlavour = "client" | "sdk";
/** The form as Python, per flavour (the kernel writes the `code` trait). */
export type CodeTexts = Record<CodeFlavour, string>;

export interface WidgetModel {
  config: ExportConfig;
  status: Status;
  catalog: Catalog;
  validation: Validation;
  code: CodeTexts;
}

export type Request =
  | { type: "start"; id: string; config: ExportConfig }
  | { type: "cancel"; id: string }
  | { type: "resume"; id: string }
  | { type: "page"; id: string; stream: StreamName; line: number; n: number }
  | { type: "code"; id: string; source: string };

export type Reply =
  | { type: "page"; id: string; stream: StreamName; line: number; total: number; lines: string[] }
  | { type: "ack"; id: string; action: string; ok: boolean; message: string }
  | { type: "error"; id: string; message: string }
  | { type: "code"; id: string; ok: boolean; config: ExportConfig | null; notes: string[];
      code: CodeTexts; message: string };

/** The part of anywidget's model the widget uses; the static test page fakes exactly this. */
export interface Model {
  get<K extends keyof WidgetModel>(key: K): WidgetModel[K];
  set<K extends keyof WidgetModel>(key: K, value: WidgetModel[K]): void;
  save_changes(): void;
  send(content: Request): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  off(event?: string | null, cb?: ((...args: unknown[]) => void) | null): void;
}
