// The Code panel: the form as Python, in this project's client or the official labelbox SDK,
// kept live from the kernel's `code` trait; and the way back: paste or edit an export call,
// and the kernel's parser (Python's `ast`, never eval) fills the form.

import { copyText, h, setText, uid } from "./dom";
import type { Part, PartContext } from "./part";
import type { Rpc } from "./rpc";
import type { CodeFlavour, ExportConfig, Model, Reply } from "./types";

const FLAVOURS: [CodeFlavour, string][] = [
  ["client", "export-widget client"],
  ["sdk", "labelbox SDK"],
];
const MAX_ROWS = 18;

export class CodePanel {
  readonly el: HTMLElement;
  private flavour: CodeFlavour = "client";
  private edited = false; // the text is the user's: stop following the form until applied
  private readonly flavourSelect: HTMLSelectElement;
  private readonly text: HTMLTextAreaElement;
  private readonly copyBtn: HTMLButtonElement;
  private readonly fillBtn: HTMLButtonElement;
  private readonly revertBtn: HTMLButtonElement;
  private readonly said: HTMLElement;
  private readonly notes: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  private readonly body: HTMLElement;

  constructor(
    private readonly model: Model,
    private readonly rpc: Rpc,
    private readonly load: (config: ExportConfig) => void,
  ) {
    this.flavourSelect = h("select", { class: "ew-code-flavour", "aria-label": "Code for" });
    for (const [value, text] of FLAVOURS) this.flavourSelect.append(h("option", { value, text }));
    this.copyBtn = h("button", { type: "button", class: "ew-btn ew-code-copy", text: "Copy" });
    this.copyBtn.setAttribute("aria-label", "Copy code");
    this.said = h("span", { class: "ew-code-said", "aria-live": "polite" });
    this.text = h("textarea", {
      class: "ew-code-text",
      "aria-label": "Export code",
      spellcheck: "false",
      autocomplete: "off",
      wrap: "off",
      rows: 6,
    });
    this.fillBtn = h("button", { type: "button", class: "ew-btn ew-code-fill", text: "Fill the form" });
    this.fillBtn.title = "Read the export call above into the form (Ctrl+Enter)";
    this.revertBtn = h("button", { type: "button", class: "ew-btn ew-code-revert", text: "Show the form's code" });
    this.notes = h("div", { class: "ew-code-notes", role: "status" });
    const bodyId = uid("code");
    this.toggle = h("button", {
      type: "button",
      class: "ew-btn ew-code-toggle",
      "aria-expanded": "false",
      "aria-controls": bodyId,
      text: "Code",
    });
    this.body = h(
      "div",
      { class: "ew-code-body", id: bodyId },
      this.text,
      h(
        "div",
        { class: "ew-code-bar" },
        this.fillBtn,
        this.revertBtn,
        h("span", { class: "ew-hint", text: "paste an export call to fill the form" }),
      ),
      this.notes,
    );
    this.body.hidden = true; // folded by default: the form comes first
    this.el = h(
      "section",
      { class: "ew-code", "aria-label": "Code" },
      h("div", { class: "ew-code-bar" }, this.toggle, this.flavourSelect, this.copyBtn, this.said),
      this.body,
    );
    this.listen();
    this.setEdited(false);
    this.update();
  }

  private listen(): void {
    this.toggle.addEventListener("click", () => this.open(this.body.hidden));
    this.flavourSelect.addEventListener("change", () => {
      this.flavour = this.flavourSelect.value as CodeFlavour;
      if (!this.edited) this.update();
    });
    this.copyBtn.addEventListener("click", () => {
      void copyText(this.text.value).then((ok) =>
        setText(this.said, ok ? "Copied." : "Copy failed; select the text and copy it."),
      );
    });
    this.text.addEventListener("input", () => this.setEdited(true));
    // A paste is a whole call: read it at once; typed edits wait for the button.
    this.text.addEventListener("paste", () => window.setTimeout(() => this.fill(), 0));
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.fill();
      }
    });
    this.fillBtn.addEventListener("click", () => this.fill());
    this.revertBtn.addEventListener("click", () => {
      this.setEdited(false);
      setText(this.notes, "");
      this.update();
    });
  }

  open(open: boolean): void {
    this.body.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    if (open) this.update();
  }

  /** Show the form's code, unless the user is editing the text. */
  update(): void {
    if (this.edited) return;
    const code = this.model.get("code")?.[this.flavour] ?? "";
    if (this.text.value !== code) this.text.value = code;
    this.text.rows = Math.min(MAX_ROWS, Math.max(4, code.split("\n").length));
    setText(this.said, "");
  }

  private setEdited(edited: boolean): void {
    this.edited = edited;
    this.fillBtn.classList.toggle("ew-primary", edited);
    this.revertBtn.disabled = !edited;
  }

  private fill(): void {
    const source = this.text.value;
    if (!source.trim()) return;
    this.notes.classList.remove("ew-code-failed");
    setText(this.notes, "Reading the code…");
    this.rpc.request("code", { type: "code", source }, (reply: Reply) => {
      if (reply.type === "code" && reply.ok && reply.config) {
        this.setEdited(false);
        this.load(reply.config);
        // The reply carries the parsed call as the form writes it: shown at once, and the
        // same text the `code` trait brings once the form's config reaches the kernel.
        this.text.value = reply.code[this.flavour];
        const left = reply.notes.length;
        setText(
          this.notes,
          left === 0
            ? "The form now holds this export."
            : `The form now holds this export, except:\n${reply.notes.map((n) => `• ${n}`).join("\n")}`,
        );
        return;
      }
      const message = reply.type === "code" || reply.type === "error" ? reply.message : "No reply.";
      this.notes.classList.add("ew-code-failed");
      setText(this.notes, message);
    });
  }
}

export function mountCode({ model, rpc, on }: PartContext): Part {
  // The browser owns `config`: a config read from code is written here, and the form
  // follows it as it follows any config change.
  const panel = new CodePanel(model, rpc, (config) => {
    model.set("config", config);
    model.save_changes();
  });
  on("change:code", () => panel.update());
  return { el: panel.el };
}
