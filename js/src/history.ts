// The History panel: the exports kept on disk, newest first. Open one (its rows go to the
// viewer), resume one that was cut off, delete one, attach to a task started elsewhere by its
// id, and pick two to compare. The list comes from the kernel; nothing is cached here.

import { CompareView } from "./compare";
import { fmtBytes, fmtInt, h, setText, uid } from "./dom";
import type { Part, PartContext } from "./part";
import type { HistoryEntry, Reply } from "./types";

const FINAL = new Set(["done", "failed", "cancelled"]);
const STATE_TEXT: Record<string, string> = {
  running: "running",
  incomplete: "incomplete",
  done: "done",
  failed: "failed",
  cancelled: "cancelled",
};

function when(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function what(e: HistoryEntry): string {
  const scope = (e.scope ?? "task").replace("_", " ");
  return e.target_name ? `${scope}: ${e.target_name}` : scope;
}

export class HistoryPanel {
  readonly el: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly usage: HTMLElement;
  private readonly note: HTMLElement;
  private readonly attachInput: HTMLInputElement;
  private readonly compareBtn: HTMLButtonElement;
  private readonly picked: [string | null, string | null] = [null, null];
  private entries: HistoryEntry[] = [];
  private current: string | null = null;
  readonly compare: CompareView;

  constructor(private readonly ctx: PartContext) {
    const inputId = uid("attach");
    this.usage = h("span", { class: "ew-hint ew-history-usage" });
    this.note = h("div", { class: "ew-history-note", role: "status", "aria-live": "polite" });
    this.attachInput = h("input", {
      id: inputId,
      class: "ew-attach-id",
      type: "text",
      placeholder: "task id",
      spellcheck: "false",
      autocomplete: "off",
    });
    const attachBtn = h("button", { type: "button", class: "ew-btn ew-attach", text: "Attach" });
    attachBtn.addEventListener("click", () => this.attach());
    this.attachInput.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") this.attach();
    });
    const refresh = h("button", { type: "button", class: "ew-btn ew-history-refresh", text: "Refresh" });
    refresh.addEventListener("click", () => this.load());
    this.compareBtn = h("button", {
      type: "button",
      class: "ew-btn ew-primary ew-compare-btn",
      text: "Compare",
      title: "Tick A and B on two exports",
    });
    this.compareBtn.addEventListener("click", () => this.compareSelected());
    const head = h(
      "tr",
      {},
      h("th", { scope: "col", text: "A" }),
      h("th", { scope: "col", text: "B" }),
      h("th", { scope: "col", text: "Started" }),
      h("th", { scope: "col", text: "State" }),
      h("th", { scope: "col", text: "Export" }),
      h("th", { scope: "col", class: "ew-numeric", text: "Rows" }),
      h("th", { scope: "col", class: "ew-numeric", text: "On disk" }),
      h("th", { scope: "col", text: "Task" }),
      h("th", { scope: "col", text: "" }),
    );
    this.body = h("tbody");
    const table = h(
      "table",
      { class: "ew-history-table", "aria-label": "Exports kept on disk, newest first" },
      h("thead", {}, head),
      this.body,
    );
    this.compare = new CompareView(ctx.rpc);
    const summary = h("summary", { class: "ew-history-summary" }, "History ", this.usage);
    this.el = h(
      "details",
      { class: "ew-history" },
      summary,
      h(
        "div",
        { class: "ew-history-bar" },
        h("label", { for: inputId, text: "Attach to a task" }),
        this.attachInput,
        attachBtn,
        refresh,
        this.compareBtn,
      ),
      this.note,
      h("div", { class: "ew-history-scroll" }, table),
      this.compare.el,
    );
    this.el.addEventListener("toggle", () => {
      if ((this.el as HTMLDetailsElement).open) this.load();
    });
    this.renderButtons();
  }

  /** Ask the kernel for the list (again). */
  load(): void {
    this.ctx.rpc.request("history", { type: "history_list" }, (reply) => this.receive(reply));
  }

  private receive(reply: Reply): void {
    if (reply.type === "error") {
      setText(this.note, reply.message);
      return;
    }
    if (reply.type !== "history_list") return;
    this.entries = reply.entries;
    this.current = reply.current;
    const ids = new Set(this.entries.map((e) => e.id));
    for (const slot of [0, 1] as const) {
      const id = this.picked[slot];
      if (id !== null && !ids.has(id)) this.picked[slot] = null;
    }
    const n = this.entries.length;
    const limits = [
      reply.max_entries === null ? "" : `the newest ${fmtInt(reply.max_entries)}`,
      reply.max_bytes === null ? "" : `at most ${fmtBytes(reply.max_bytes)}`,
    ].filter(Boolean);
    const keeps = limits.length ? ` (keeps ${limits.join(", ")})` : "";
    setText(
      this.usage,
      `${fmtInt(n)} export${n === 1 ? "" : "s"}, ${fmtBytes(reply.disk_bytes)} on disk${keeps} · ${reply.directory}`,
    );
    this.render();
  }

  private render(): void {
    const rows = this.entries.map((e) => this.row(e));
    if (rows.length === 0)
      rows.push(h("tr", {}, h("td", { colspan: 9, class: "ew-hint", text: "No exports kept yet." })));
    this.body.replaceChildren(...rows);
    this.renderButtons();
  }

  private row(e: HistoryEntry): HTMLTableRowElement {
    const pick = (slot: 0 | 1): HTMLInputElement => {
      const box = h("input", {
        type: "radio",
        name: `${this.el.dataset.name ?? ""}pick${slot}`,
        class: `ew-pick ew-pick-${slot === 0 ? "a" : "b"}`,
        "aria-label": `Compare: use ${when(e.started_at)} as ${slot === 0 ? "A" : "B"}`,
      });
      box.checked = this.picked[slot] === e.id;
      box.addEventListener("change", () => {
        this.picked[slot] = e.id;
        this.render();
      });
      return box;
    };
    const open = h("button", { type: "button", class: "ew-btn ew-open", text: "Open" });
    open.disabled = e.state === "running";
    open.title = e.state === "running" ? "Still being written" : "Show its rows in the viewer";
    open.addEventListener("click", () => this.act("history_open", e.id, "Opening"));
    const del = h("button", { type: "button", class: "ew-btn ew-delete", text: "Delete" });
    del.disabled = e.state === "running";
    del.addEventListener("click", () => {
      if (window.confirm(`Delete the export of ${when(e.started_at)} (${fmtBytes(e.disk_bytes)})?`))
        this.act("history_delete", e.id, "Deleting");
    });
    const actions = h("td", { class: "ew-history-actions" }, open);
    if (e.state === "incomplete") {
      const resume = h("button", { type: "button", class: "ew-btn ew-resume-entry", text: "Resume" });
      resume.title = "Continue reading the task from the first row not kept";
      resume.addEventListener("click", () => this.act("history_resume", e.id, "Resuming"));
      actions.append(resume);
    }
    if (e.scope === "model_run" && FINAL.has(e.state)) {
      const metrics = h("button", { type: "button", class: "ew-btn ew-metrics-btn", text: "Metrics" });
      metrics.title = "Predictions against ground truth, matched by IoU";
      metrics.addEventListener("click", () => this.compare.metrics(e.id, what(e)));
      actions.append(metrics);
    }
    actions.append(del);
    const state = h("span", { class: "ew-entry-state", "data-state": e.state, text: STATE_TEXT[e.state] ?? e.state });
    if (e.message) state.title = e.message;
    const tr = h(
      "tr",
      { class: e.id === this.current ? "ew-entry ew-current" : "ew-entry", "data-entry": e.id },
      h("td", {}, pick(0)),
      h("td", {}, pick(1)),
      h("td", { text: when(e.started_at), title: e.started_at }),
      h("td", {}, state),
      h("td", { class: "ew-entry-what", text: what(e), title: e.export_call ?? "" }),
      h("td", { class: "ew-numeric", text: fmtInt(e.rows) }),
      h("td", { class: "ew-numeric", text: fmtBytes(e.disk_bytes) }),
      h("td", { class: "ew-entry-task", text: e.task_id ?? "—", title: e.task_id ?? "" }),
      actions,
    );
    return tr;
  }

  private renderButtons(): void {
    const [a, b] = this.picked;
    const ready = Boolean(a && b && a !== b);
    this.compareBtn.disabled = !ready;
    this.compareBtn.title = ready ? "Compare A with B" : "Tick A and B on two different exports";
  }

  private act(type: "history_open" | "history_delete" | "history_resume", entry: string, doing: string): void {
    setText(this.note, `${doing}…`);
    this.ctx.rpc.request(`history:${type}`, { type, entry }, (reply) => {
      if (reply.type === "ack") setText(this.note, reply.message || (reply.ok ? "" : "Refused."));
      else if (reply.type === "error") setText(this.note, reply.message);
      this.load();
    });
  }

  private attach(): void {
    const taskId = this.attachInput.value.trim();
    if (!taskId) {
      setText(this.note, "task id: paste the id of an export task");
      this.attachInput.focus();
      return;
    }
    setText(this.note, `Attaching to ${taskId}…`);
    this.ctx.rpc.request("history:attach", { type: "attach", task_id: taskId }, (reply) => {
      if (reply.type === "ack") {
        setText(this.note, reply.message);
        if (reply.ok) this.attachInput.value = "";
      } else if (reply.type === "error") setText(this.note, reply.message);
      this.load();
    });
  }

  private compareSelected(): void {
    const [a, b] = this.picked;
    if (!a || !b || a === b) return;
    this.compare.show(a, b);
  }

  /** An export ended (or started): the list may have changed. */
  statusChanged(state: string): void {
    if ((this.el as HTMLDetailsElement).open && (FINAL.has(state) || state === "running")) this.load();
  }
}

let panels = 0;

export function mountHistory(ctx: PartContext): Part {
  const panel = new HistoryPanel(ctx);
  panels += 1;
  panel.el.dataset.name = `ew-h${panels}-`;
  let last = ctx.model.get("status").state;
  ctx.on("change:status", () => {
    const state = ctx.model.get("status").state;
    if (state !== last) panel.statusChanged(state);
    last = state;
  });
  return { el: panel.el };
}
