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

export class Progress {
  readonly el: HTMLElement;
  private readonly state: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly fill: HTMLElement;
  private readonly stats = new Map<string, HTMLElement>();
  private readonly message: HTMLElement;

  constructor() {
    this.state = h("span", { class: "ew-state", "data-state": "idle" });
    this.fill = h("div", { class: "ew-bar-fill" });
    this.bar = h("div", {
      class: "ew-bar",
      role: "progressbar",
      "aria-label": "Export progress",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
    }, this.fill);
    const stats = h("div", { class: "ew-stats" });
    for (const [key, label] of [["rows", "Rows"], ["bytes", "Size"], ["rate", "Rows/s"],
      ["elapsed", "Elapsed"], ["eta", "ETA"], ["errors", "Errors"]] as const) {
      const value = h("span", { class: `ew-stat-value ew-stat-${key}`, text: "—" });
      this.stats.set(key, value);
      stats.append(h("span", { class: "ew-stat" },
        h("span", { class: "ew-stat-label", text: `${label}:` }), value));
    }
    this.message = h("div", { class: "ew-message", role: "status", "aria-live": "polite" });
    this.el = h("section", { class: "ew-progress", "aria-label": "Export progress" },
      h("div", { class: "ew-row" }, this.state, this.bar), stats, this.message);
  }

  update(s: Status): void {
    setText(this.state, STATE_TEXT[s.state] ?? s.state);
    this.state.dataset.state = s.state;
    this.el.dataset.state = s.state;
    const pct = s.state === "done" ? 100 : s.percent;
    if (pct === null) {
      this.bar.removeAttribute("aria-valuenow");
      this.fill.style.width = "0%";
      this.bar.setAttribute("aria-valuetext", STATE_TEXT[s.state] ?? s.state);
    } else {
      const v = Math.max(0, Math.min(100, pct));
      this.bar.setAttribute("aria-valuenow", v.toFixed(0));
      this.bar.setAttribute("aria-valuetext", `${v.toFixed(0)}%`);
      this.fill.style.width = `${v}%`;
    }
    const total = s.total_rows === null ? "" : ` of ${fmtInt(s.total_rows)}`;
    setText(this.stats.get("rows")!, `${fmtInt(s.rows)}${total}`);
    setText(this.stats.get("bytes")!, fmtBytes(s.bytes));
    setText(this.stats.get("rate")!, s.rows_per_s > 0 ? fmtInt(s.rows_per_s) : "—");
    setText(this.stats.get("elapsed")!, s.state === "idle" ? "—" : fmtDuration(s.elapsed_s));
    setText(this.stats.get("eta")!, s.state === "done" ? "0s" : fmtDuration(s.eta_s));
    setText(this.stats.get("errors")!, fmtInt(s.errors));
    setText(this.message, s.message);
    this.message.classList.toggle("ew-error", s.state === "failed");
  }
}

export function mountProgress({ model, on }: PartContext): Part {
  const progress = new Progress();
  const onStatus = (): void => progress.update(model.get("status"));
  on("change:status", onStatus);
  onStatus();
  return progress;
}
