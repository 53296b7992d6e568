// export-widget front end: configure an export, watch it run, page through its rows.
// Traits: `config` is ours to write; `status`, `catalog` and `validation` are the kernel's.

import type { AnyWidget } from "@anywidget/types";
import { mountCode } from "./code";
import { mountControls } from "./controls";
import { h } from "./dom";
import { mountFold } from "./fold";
import { mountHistory } from "./history";
import type { MountPart, PartContext } from "./part";
import { mountPreview } from "./preview";
import { mountProgress } from "./progress";
import { Rpc } from "./rpc";
import { mountSave } from "./save";
import { mountSearch } from "./search";
import { mountTable } from "./table";
import type { Model, WidgetModel } from "./types";
import { mountViewer } from "./viewer";

// The widget is a column of parts, top to bottom. A new panel is a new file exporting a
// MountPart (see part.ts) plus one line here; the messages it sends through `rpc` are
// answered by the handler its message type has in export_widget/routes.py.
const PARTS: MountPart[] = [
  mountFold,
  mountControls,
  mountCode,
  mountProgress,
  mountSearch,
  mountViewer,
  mountPreview,
  mountTable,
  mountSave,
  mountHistory,
];

export function renderWidget(model: Model, el: HTMLElement): () => void {
  const rpc = new Rpc(model);
  const listeners: [string, () => void][] = [];
  const context: PartContext = {
    model,
    rpc,
    events: new EventTarget(),
    on(event, callback) {
      model.on(event, callback);
      listeners.push([event, callback]);
    },
  };
  const parts = PARTS.map((mount) => mount(context));
  el.replaceChildren(h("div", { class: "ew-root" }, ...parts.map((part) => part.el)));
  return () => {
    for (const [event, callback] of listeners) model.off(event, callback);
    for (const part of parts) part.dispose?.();
    rpc.dispose();
    el.replaceChildren();
  };
}

export default {
  render: ({ model, el }) => renderWidget(model, el),
} satisfies AnyWidget<WidgetModel>;
