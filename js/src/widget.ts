// export-widget front end: configure an export, watch it run, page through its rows.
// Traits: `config` is ours to write; `status`, `catalog` and `validation` are the kernel's.

import { h, setText } from "./dom";
import { ConfigForm } from "./form";
import { Progress } from "./progress";
import { Rpc } from "./rpc";
import type { Model, Status, Validation } from "./types";
import { Viewer } from "./viewer";

const ACTIVE = new Set(["queued", "running", "streaming"]);

function fieldList(v: Validation): string {
  return Object.keys(v).join(", ");
}

export function renderWidget(model: Model, el: HTMLElement): () => void {
  const rpc = new Rpc(model);
  const form = new ConfigForm(model);
  const progress = new Progress();
  const viewer = new Viewer(rpc);
  const why = h("span", { class: "ew-why", id: `${Math.random().toString(36).slice(2)}-why` });
  const exportBtn = h("button", { type: "button", class: "ew-btn ew-primary ew-export", text: "Export" });
  exportBtn.setAttribute("aria-describedby", why.id);
  const cancelBtn = h("button", { type: "button", class: "ew-btn ew-cancel", text: "Cancel" });
  const resumeBtn = h("button", { type: "button", class: "ew-btn ew-resume", text: "Resume",
    title: "Continue this export from the first row not yet read" });
  const actionMsg = h("div", { class: "ew-error ew-action-msg", role: "alert" });
  const actions = h("div", { class: "ew-actions" }, exportBtn, cancelBtn, resumeBtn, why, actionMsg);
  const root = h("div", { class: "ew-root" }, form.el, actions, progress.el, viewer.el);
  el.replaceChildren(root);

  let starting = false;
  const refreshButtons = (): void => {
    const status = model.get("status");
    const validation = model.get("validation") ?? {};
    const catalog = model.get("catalog");
    const errors = Object.keys(validation).length;
    const active = ACTIVE.has(status.state);
    let reason = "";
    if (catalog.error) reason = `The workspace could not be read: ${catalog.error}`;
    else if (active) reason = "An export is running; cancel it to start another.";
    else if (starting) reason = "Starting…";
    else if (errors > 0) reason = `Fix ${errors === 1 ? "the error" : `${errors} errors`} first (${fieldList(validation)}).`;
    exportBtn.disabled = reason !== "";
    setText(why, reason);
    cancelBtn.disabled = !active;
    resumeBtn.hidden = !((status.state === "failed" || status.state === "cancelled") && status.task_id);
  };

  const onStatus = (): void => {
    const status = model.get("status");
    progress.update(status);
    viewer.update(status);
    refreshButtons();
  };
  const onValidation = (): void => {
    form.showValidation(model.get("validation") ?? {});
    refreshButtons();
  };
  const onConfig = (): void => form.sync();
  const onCatalog = (): void => {
    form.sync();
    refreshButtons();
  };

  exportBtn.addEventListener("click", () => {
    form.commit();
    starting = true;
    setText(actionMsg, "");
    refreshButtons();
    // The config rides along: ipywidgets may hold back a trait sync while a message goes out.
    rpc.request("action", { type: "start", config: form.read() }, (reply) => {
      starting = false;
      if (reply.type === "ack" && !reply.ok) setText(actionMsg, reply.message);
      if (reply.type === "error") setText(actionMsg, reply.message);
      refreshButtons();
    });
  });
  resumeBtn.addEventListener("click", () => {
    setText(actionMsg, "");
    rpc.request("action", { type: "resume" }, (reply) => {
      if (reply.type === "ack" && !reply.ok) setText(actionMsg, reply.message);
    });
  });
  cancelBtn.addEventListener("click", () => {
    rpc.request("cancel", { type: "cancel" }, (reply) => {
      if (reply.type === "ack" && !reply.ok) setText(actionMsg, reply.message);
    });
  });

  model.on("change:status", onStatus);
  model.on("change:validation", onValidation);
  model.on("change:config", onConfig);
  model.on("change:catalog", onCatalog);
  form.sync();
  onValidation();
  onStatus();
  viewer.load(0);

  return () => {
    model.off("change:status", onStatus);
    model.off("change:validation", onValidation);
    model.off("change:config", onConfig);
    model.off("change:catalog", onCatalog);
    rpc.dispose();
    el.replaceChildren();
  };
}

export default {
  render({ model, el }: { model: unknown; el: HTMLElement }): () => void {
    return renderWidget(model as Model, el);
  },
};
