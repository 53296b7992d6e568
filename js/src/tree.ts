// Collapsible JSON trees. Children are built only when a node is first opened, so a page of
// large rows costs little until someone looks inside. Every key and value goes in as text.

import { h } from "./dom";

export type CopyKind = "value" | "path";
export type CopyFn = (kind: CopyKind, text: string, path: string) => void;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return IDENT.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === "object" && v !== null;
}

function summary(v: Record<string, unknown> | unknown[]): string {
  if (Array.isArray(v)) return `[${v.length} item${v.length === 1 ? "" : "s"}]`;
  const n = Object.keys(v).length;
  return `{${n} key${n === 1 ? "" : "s"}}`;
}

function leafText(v: unknown): { text: string; cls: string } {
  if (v === null) return { text: "null", cls: "ew-null" };
  if (typeof v === "string") return { text: JSON.stringify(v), cls: "ew-str" };
  if (typeof v === "number") return { text: String(v), cls: "ew-num" };
  if (typeof v === "boolean") return { text: String(v), cls: "ew-bool" };
  return { text: String(v), cls: "ew-other" };
}

export class TreeNode {
  readonly el: HTMLLIElement;
  private readonly arrow: HTMLButtonElement | null = null;
  private group: HTMLUListElement | null = null;
  private children: TreeNode[] = [];
  private open = false;

  constructor(
    private readonly value: unknown,
    readonly label: string,
    readonly path: string,
    private readonly onCopy: CopyFn,
    rowLabel = false,
    hint = "",
  ) {
    const container = isContainer(value);
    const keyEl = h("span", { class: rowLabel ? "ew-key ew-rowlabel" : "ew-key", text: label });
    const line = h("div", { class: "ew-line" });
    this.el = h("li", { class: "ew-node", role: "treeitem", "data-path": path });
    if (container) {
      this.arrow = h("button", {
        type: "button",
        class: "ew-arrow",
        "aria-expanded": "false",
        "aria-label": `Expand ${label}`,
        text: "▸",
      });
      this.arrow.addEventListener("click", () => this.toggle());
      keyEl.addEventListener("click", () => this.toggle());
      keyEl.classList.add("ew-toggle");
      this.el.setAttribute("aria-expanded", "false");
      line.append(this.arrow, keyEl, h("span", { class: "ew-summary", text: summary(value) }));
      if (hint) line.append(h("span", { class: "ew-hint ew-rowhint", text: hint }));
    } else {
      const leaf = leafText(value);
      line.append(
        h("span", { class: "ew-arrow-space", "aria-hidden": "true" }),
        keyEl,
        h("span", { class: "ew-colon", text: ": " }),
        h("span", { class: `ew-value ${leaf.cls}`, text: leaf.text }),
      );
    }
    const copyValue = h("button", {
      type: "button",
      class: "ew-copy",
      "aria-label": `Copy value of ${path}`,
      title: "Copy value",
      text: "copy",
    });
    copyValue.addEventListener("click", () => {
      const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
      this.onCopy("value", text, path);
    });
    const copyPath = h("button", {
      type: "button",
      class: "ew-copy",
      "aria-label": `Copy path ${path}`,
      title: "Copy JSON path",
      text: "path",
    });
    copyPath.addEventListener("click", () => this.onCopy("path", path, path));
    line.append(h("span", { class: "ew-tools" }, copyValue, copyPath));
    this.el.append(line);
  }

  private build(): HTMLUListElement {
    if (this.group) return this.group;
    const v = this.value as Record<string, unknown> | unknown[];
    const group = h("ul", { class: "ew-group", role: "group" });
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [key, child] of entries) {
      const node = new TreeNode(child, String(key), childPath(this.path, key), this.onCopy);
      this.children.push(node);
      group.append(node.el);
    }
    this.el.append(group);
    this.group = group;
    return group;
  }

  toggle(): void {
    if (this.open) this.collapse();
    else this.expand();
  }

  expand(deep = false): void {
    if (!this.arrow) return;
    const group = this.build();
    group.hidden = false;
    this.open = true;
    this.arrow.setAttribute("aria-expanded", "true");
    this.arrow.setAttribute("aria-label", `Collapse ${this.label}`);
    this.arrow.textContent = "▾";
    this.el.setAttribute("aria-expanded", "true");
    if (deep) for (const c of this.children) c.expand(true);
  }

  collapse(deep = false): void {
    if (!this.arrow) return;
    if (this.group) this.group.hidden = true;
    this.open = false;
    this.arrow.setAttribute("aria-expanded", "false");
    this.arrow.setAttribute("aria-label", `Expand ${this.label}`);
    this.arrow.textContent = "▸";
    this.el.setAttribute("aria-expanded", "false");
    if (deep) for (const c of this.children) c.collapse(true);
  }
}
