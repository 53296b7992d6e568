// The form with its Export, Cancel and Resume buttons. A button that cannot act says why.

import { h, setText } from "./dom";
import { ConfigForm } from "./form";
import type { Part, PartContext } from "./part";
import type { Reply, Validation } from "./types";

const ACTIVE = new Set(["queued", "running", "streaming"]);

function fieldList(validation: Validation): string {
  return Object.keys(validation).join(", ");
}

export function mountControls({ model, rpc, on }: PartContext): Part {
  const form = new ConfigForm(model);
  const why = h("span", { class: "ew-why", id: `${Math.random().toString(36).slice(2)}-why` });
  const exportBtn = h("button", { type: "button", class: "ew-btn ew-primary ew-export", text: "Export" });
  exportBtn.setAttribute("aria-describedby", why.id);
  const cancelBtn = h("button", { type: "button", class: "ew-btn ew-cancel", text: "Cancel" });
  const resumeBtn = h("button", {
    type: "button",
    class: "ew-btn ew-resume",
    text: "Resume",
    title: "Continue this export from the first row not yet read",
  });
  const actionMsg = h("div", { class: "ew-error ew-action-msg", role: "alert" });
  const actions = h("div", { class: "ew-actions" }, exportBtn, cancelBtn, resumeBtn, why, actionMsg);

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
    else if (errors > 0)
      reason = `Fix ${errors === 1 ? "the error" : `${errors} errors`} first (${fieldList(validation)}).`;
    exportBtn.disabled = reason !== "";
    setText(why, reason);
    cancelBtn.disabled = !active;
    resumeBtn.hidden = !((status.state === "failed" || status.state === "cancelled") && status.task_id);
  };
  const showRefusal = (reply: Reply): void => {
    if (reply.type === "ack" && !reply.ok) setText(actionMsg, reply.message);
    if (reply.type === "error") setText(actionMsg, reply.message);
  };

  exportBtn.addEventListener("click", () => {
    form.commit();
    starting = true;
    setText(actionMsg, "");
    refreshButtons();
    // The config rides along: ipywidgets may hold back a trait sync while a message goes out.
    rpc.request("action", { type: "start", config: form.read() }, (reply) => {
      starting = false;
      showRefusal(reply);
      refreshButtons();
    });
  });
  resumeBtn.addEventListener("click", () => {
    setText(actionMsg, "");
    rpc.request("action", { type: "resume" }, showRefusal);
  });
  cancelBtn.addEventListener("click", () => {
    rpc.request("cancel", { type: "cancel" }, showRefusal);
  });

  const onValidation = (): void => {
    form.showValidation(model.get("validation") ?? {});
    refreshButtons();
  };
  on("change:status", refreshButtons);
  on("change:validation", onValidation);
  on("change:config", () => form.sync());
  on("change:catalog", () => {
    form.sync();
    refreshButtons();
  });
  form.sync();
  onValidation();
  return { el: h("div", { class: "ew-controls" }, form.el, actions) };
}
