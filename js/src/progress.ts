// Live progress: state, bar, counts, rate, times, and the reason when an export fails.

import { fmtBytes, fmtDuration, fmtInt, h, setText } from "./dom";
import type { Part, PartContext } from "./part";
import type { Status } from "./types";

const STATE_TEXT: Record<string, string> = {
  idle: "Not started",
  queued: "Queued",
  running: "Running on the server",
  streaming: "Streaming rows",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

// Each figure under the bar: its key (a CSS class), its label and its text for a status.
const STATS: [string, string, (status: Status) => string][] = [
  [
    "rows",
    "Rows",
    (status) => `${fmtInt(status.rows)}${status.total_rows === null ? "" : ` of ${fmtInt(status.total_rows)}`}`,
  ],
  ["bytes", "Size", (status) => fmtBytes(status.bytes)],
  ["rate", "Rows/s", (status) => (status.rows_per_s > 0 ? fmtInt(status.rows_per_s) : "—")],
  ["elapsed", "Elapsed", (status) => (status.state === "idle" ? "—" : fmtDuration(status.elapsed_s))],
  ["eta", "ETA", (status) => (status.state === "done" ? "0s" : fmtDuration(status.eta_s))],
  ["errors", "Errors", (status) => fmtInt(status.errors)],
];

export class Progress {
  readonly el: HTMLElement;
  private readonly state: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly fill: HTMLElement;
  private readonly stats: [HTMLElement, (status: Status) => string][] = [];
  private readonly message: HTMLElement;

  constructor() {
    this.state = h("span", { class: "ew-state", "data-state": "idle" });
    this.fill = h("div", { class: "ew-bar-fill" });
    this.bar = h(
      "div",
      {
        class: "ew-bar",
        role: "progressbar",
        "aria-label": "Export progress",
        "aria-valuemin": 0,
        "aria-valuemax": 100,
      },
      this.fill,
    );
    const stats = h("div", { class: "ew-stats" });
    for (const [key, label, text] of STATS) {
      const value = h("span", { class: `ew-stat-value ew-stat-${key}`, text: "—" });
      this.stats.push([value, text]);
      stats.append(h("span", { class: "ew-stat" }, h("span", { class: "ew-stat-label", text: `${label}:` }), value));
    }
    this.message = h("div", { class: "ew-message", role: "status", "aria-live": "polite" });
    this.el = h(
      "section",
      { class: "ew-progress", "aria-label": "Export progress" },
      h("div", { class: "ew-row" }, this.state, this.bar),
      stats,
      this.message,
    );
  }

  update(status: Status): void {
    setText(this.state, STATE_TEXT[status.state] ?? status.state);
    this.state.dataset.state = status.state;
    this.el.dataset.state = status.state;
    const percent = status.state === "done" ? 100 : status.percent;
    if (percent === null) {
      this.bar.removeAttribute("aria-valuenow");
      this.fill.style.width = "0%";
      this.bar.setAttribute("aria-valuetext", STATE_TEXT[status.state] ?? status.state);
    } else {
      const shown = Math.max(0, Math.min(100, percent));
      this.bar.setAttribute("aria-valuenow", shown.toFixed(0));
      this.bar.setAttribute("aria-valuetext", `${shown.toFixed(0)}%`);
      this.fill.style.width = `${shown}%`;
    }
    for (const [value, text] of this.stats) setText(value, text(status));
    setText(this.message, status.message);
    this.message.classList.toggle("ew-error", status.state === "failed");
  }
}

export function mountProgress({ model, on }: PartContext): Part {
  const progress = new Progress();
  const onStatus = (): void => progress.update(model.get("status"));
  on("change:status", onStatus);
  onStatus();
  return progress;
}
