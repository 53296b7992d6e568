// A part is one section of the widget (the form, the progress, the row viewer, a panel).
// widget.ts mounts each part with the same context and disposes of it with the view.

import type { Rpc } from "./rpc";
import type { Model } from "./types";

export interface PartContext {
  readonly model: Model;
  /** Requests to the kernel; each message type has one handler in export_widget/routes.py. */
  readonly rpc: Rpc;
  /** Listen to a model event for the life of the view: removed when the view goes. */
  on(event: string, callback: () => void): void;
  /** Events between the parts of one view, e.g. `select-line` (detail: 0-based line) when a
   * Table row is clicked and the viewer should show that row. */
  readonly events: EventTarget;
}

/** The 0-based line a `select-line` event asks the viewer to show. */
export type SelectLine = CustomEvent<{ line: number }>;

export interface Part {
  readonly el: HTMLElement;
  dispose?(): void;
}

export type MountPart = (context: PartContext) => Part;
