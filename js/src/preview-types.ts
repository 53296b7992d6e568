// What the kernel sends for a preview. Mirrors export_widget/inspect/shapes.py (RowShapes,
// Shape, Layer, Classification, Feature) and export_widget/media.py (MediaInfo, MediaPart).

export type MediaKind =
  | "IMAGE"
  | "VIDEO"
  | "TEXT"
  | "CONVERSATIONAL"
  | "PDF"
  | "AUDIO"
  | "TMS_GEO"
  | "HTML"
  | "UNKNOWN";

export type ShapeKind =
  | "bounding_box"
  | "polygon"
  | "polyline"
  | "point"
  | "mask"
  | "relationship"
  | "text_span"
  | "message_span"
  | "document_tokens"
  | "document_box"
  | "geo_point"
  | "geo_line"
  | "geo_polygon"
  | "geo_box"
  | "segment";

export type LayerKind = "label" | "ground_truth" | "prediction";

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Shape {
  id: string;
  kind: ShapeKind;
  feature: string;
  feature_id: string;
  schema_id: string | null;
  layer: string;
  // Per kind (see inspect/shapes.py): a Box, [[x, y], ...], [x, y], {url, color}, ...
  coordinates: unknown;
  name: string;
  attributes: string[];
  frame?: number;
  keyframe?: boolean;
  page?: number;
  page_size?: [number, number];
  message_id?: string;
  text?: string;
  iou?: number | null;
  match?: string | null;
}

export interface Layer {
  id: string;
  kind: LayerKind;
  label_id: string;
  source_id: string;
  source: string;
  author: string | null;
  review: string | null;
  name: string;
}

export interface Classification {
  feature: string;
  answer: string;
  layer: string;
  depth: number;
  scope: "global" | "frame" | "message";
  frame?: number;
  message_id?: string;
}

export interface Feature {
  name: string;
  color: string;
  count: number;
}

export interface MediaPart {
  role: "media" | "mask" | "page";
  mime: string;
  index: number;
  size: number;
  shape?: string;
  page?: number;
  width?: number;
  height?: number;
}

export interface Message {
  message_id: string;
  actor: string;
  content: string;
  align: string;
}

export interface MediaInfo {
  parts: MediaPart[];
  error: string | null;
  notes: string[];
  natural_size: [number, number] | null;
  pages: [number, number][];
  page_count: number;
  transcript: Message[];
  waveform: number[];
  duration_s: number | null;
}

export interface PreviewData {
  media_type: MediaKind;
  data_row_id: string;
  global_key: string | null;
  row_data: string;
  media_attributes: Record<string, unknown>;
  width: number | null;
  height: number | null;
  layers: Layer[];
  shapes: Shape[];
  classifications: Classification[];
  features: Feature[];
  frames: number[];
  bounds: [[number, number], [number, number]] | null;
  notes: string[];
  line: number;
  media: MediaInfo;
}

export interface PreviewReply {
  type: "preview";
  id: string;
  line: number;
  preview: PreviewData | null;
  message: string;
}

/** Buffers as ipywidgets hands them over: DataViews in JupyterLab, ArrayBuffers elsewhere. */
export type Buffer = ArrayBuffer | ArrayBufferView;
