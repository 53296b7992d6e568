// Shapes shared with export_widget/messages.py. Declared once here, once in Python.

import type { PreviewReply } from "./preview-types";

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
// -- find, tabulate, save (export_widget/messages.py, second half) ----------------------------

export type SearchKind = "text" | "sql";
export type SearchState = "idle" | "running" | "waiting" | "done" | "failed" | "cancelled";

/** The `search` trait: written only by the kernel's search worker. */
export interface SearchStatus {
  id: string;
  kind: SearchKind | "";
  query: string;
  state: SearchState;
  scanned: number;
  total: number;
  matches: number;
  message: string;
  seq: number;
}

export type Grain = "label" | "annotation" | "classification";
export type Cell = string | number | boolean | null;

export interface TableColumn {
  name: string;
  type: "text" | "number" | "time";
}

export interface TablePage {
  type: "table_page";
  id: string;
  grain: Grain;
  state: "building" | "ready" | "failed";
  building: boolean;
  message: string;
  done: number;
  of: number;
  columns: TableColumn[];
  rows: Cell[][];
  offset: number;
  matched: number;
  total: number;
  lines: number;
  spool_lines: number;
  sort: string;
  descending: boolean;
}

export interface MatchPage {
  type: "match_page";
  id: string;
  search_id: string;
  index: number;
  matches: number;
  total: number;
  numbers: number[];
  lines: string[];
}

export type SaveWhat = "rows" | "matches" | "table";
export type SaveFormat = "ndjson" | "csv" | "parquet" | "coco";

/** Pushed by the kernel (no request id): one piece of a download, its bytes in buffers[0]. */
export interface SavePiece {
  type: "save_piece";
  save_id: string;
  request_id: string;
  index: number;
  pieces: number;
  size: number;
  name: string;
  mime: string;
}

export interface SaveFailed {
  type: "save_failed";
  save_id: string;
  request_id: string;
  message: string;
}

export interface WidgetModel {
  config: ExportConfig;
  status: Status;
  catalog: Catalog;
  validation: Validation;
  code: CodeTexts;
  /** The result line (0-based) the preview shows; written by the kernel. */
  selected: number | null;
  search: SearchStatus;
}

export type Request =
  | { type: "start"; id: string; config: ExportConfig }
  | { type: "cancel"; id: string }
  | { type: "resume"; id: string }
  | { type: "page"; id: string; stream: StreamName; line: number; n: number }
  | { type: "code"; id: string; source: string }
  | { type: "select"; id: string; line: number }
  | { type: "preview"; id: string; line: number }
  | { type: "find"; id: string; kind: SearchKind; query: string }
  | { type: "find_cancel"; id: string }
  | { type: "find_clear"; id: string }
  | { type: "match_page"; id: string; n: number; index?: number; line?: number }
  | {
      type: "table_page";
      id: string;
      grain: Grain;
      offset: number;
      n: number;
      sort: string;
      descending: boolean;
      filters: Record<string, string>;
      rebuild: boolean;
    }
  | { type: "save"; id: string; what: SaveWhat; format: SaveFormat; grain: Grain; only_matches: boolean }
  | { type: "history_list"; id: string }
  | { type: "history_open" | "history_delete" | "history_resume"; id: string; entry: string }
  | { type: "attach"; id: string; task_id: string }
  | { type: "compare"; id: string; a: string; b: string }
  | { type: "compare_page"; id: string; a: string; b: string; kind: string | null; line: number; n: number }
  | { type: "compare_row"; id: string; a: string; b: string; key: string }
  | { type: "metrics"; id: string; entry: string; iou: number };

export type Reply =
  | { type: "page"; id: string; stream: StreamName; line: number; total: number; lines: string[] }
  | { type: "ack"; id: string; action: string; ok: boolean; message: string }
  | { type: "select"; id: string; line: number | null; ok: boolean; message: string }
  | PreviewReply
  | { type: "error"; id: string; message: string }
  | { type: "find"; id: string; ok: boolean; message: string; search_id: string }
  | { type: "save"; id: string; ok: boolean; message: string; save_id: string; name: string }
  | MatchPage
  | TablePage
  | {
      type: "code";
      id: string;
      ok: boolean;
      config: ExportConfig | null;
      notes: string[];
      code: CodeTexts;
      message: string;
    }
  | {
      type: "history_list";
      id: string;
      entries: HistoryEntry[];
      current: string | null;
      disk_bytes: number;
      directory: string;
      max_entries: number | null;
      max_bytes: number | null;
    }
  | { type: "compare"; id: string; a: string; b: string; a_label: string; b_label: string; summary: CompareSummary }
  | { type: "compare_page"; id: string; line: number; total: number; rows: CompareRow[] }
  | { type: "compare_row"; id: string; key: string; changes: Change[]; row_a: string | null; row_b: string | null }
  | MetricsReply;

// -- History and Compare (export_widget/history.py, history_routes.py) --------------------

export type EntryState = "running" | "incomplete" | "done" | "failed" | "cancelled";

export interface HistoryEntry {
  id: string;
  state: EntryState;
  task_id: string | null;
  origin: string;
  scope: string | null;
  target_name: string | null;
  task_name: string | null;
  endpoint: string | null;
  export_call: string | null;
  started_at: string;
  ended_at: string | null;
  rows: number;
  errors: number;
  bytes: number;
  disk_bytes: number;
  message: string;
}

export interface CompareSummary {
  key: "id" | "global_key";
  rows_a: number;
  rows_b: number;
  changed_rows: number;
  unchanged_rows: number;
  only_in_a: number;
  only_in_b: number;
  counts: Record<string, number>;
}

export interface CompareRow {
  key: string;
  data_row_id: string | null;
  global_key: string | null;
  status: "changed" | "only_in_a" | "only_in_b";
  kinds: string;
  changes: number;
  line_a: number | null;
  line_b: number | null;
}

export interface Change {
  kind: string;
  where: string | null;
  label_id: string | null;
  feature: string | null;
  feature_id: string | null;
  before: string | null;
  after: string | null;
}

export interface FeatureMetrics {
  model_run: string;
  feature: string;
  ground_truth: number;
  predictions: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
}

export interface MetricsReply {
  type: "metrics";
  id: string;
  entry: string;
  iou: number;
  features: FeatureMetrics[];
  confusion: { truth: string[]; predicted: string[]; counts: number[][] };
  skipped: number;
}

/** The part of anywidget's model the widget uses; the static test page fakes exactly this. */
export interface Model {
  get<K extends keyof WidgetModel>(key: K): WidgetModel[K];
  set<K extends keyof WidgetModel>(key: K, value: WidgetModel[K]): void;
  save_changes(): void;
  send(content: Request): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  off(event?: string | null, cb?: ((...args: unknown[]) => void) | null): void;
}
