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
  search: SearchStatus;
}

export type Request =
  | { type: "start"; id: string; config: ExportConfig }
  | { type: "cancel"; id: string }
  | { type: "resume"; id: string }
  | { type: "page"; id: string; stream: StreamName; line: number; n: number }
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
  | { type: "save"; id: string; what: SaveWhat; format: SaveFormat; grain: Grain; only_matches: boolean };

export type Reply =
  | { type: "page"; id: string; stream: StreamName; line: number; total: number; lines: string[] }
  | { type: "ack"; id: string; action: string; ok: boolean; message: string }
  | { type: "error"; id: string; message: string }
  | { type: "find"; id: string; ok: boolean; message: string; search_id: string }
  | { type: "save"; id: string; ok: boolean; message: string; save_id: string; name: string }
  | MatchPage
  | TablePage;

/** The part of anywidget's model the widget uses; the static test page fakes exactly this. */
export interface Model {
  get<K extends keyof WidgetModel>(key: K): WidgetModel[K];
  set<K extends keyof WidgetModel>(key: K, value: WidgetModel[K]): void;
  save_changes(): void;
  send(content: Request): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  off(event?: string | null, cb?: ((...args: unknown[]) => void) | null): void;
}
