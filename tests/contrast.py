"""Text contrast of the widget's main controls, computed in the page from computed styles
(WCAG 2.x relative luminance; backgrounds and opacity composited up the ancestor chain)."""

from __future__ import annotations

from typing import Any

WCAG_AA = 4.5  # normal-size text

# The controls a user reads to configure and follow an export.
MAIN_CONTROLS = ", ".join([
    "label", "legend", "button", "select", "input[type=text]", "textarea", ".ew-hint",
    ".ew-label", ".ew-fold-text", ".ew-state", ".ew-message", ".ew-stat-label",
    ".ew-stat-value", ".ew-why", ".ew-error", ".ew-range", ".ew-code-notes", ".ew-rowlabel",
    ".ew-key",
])

CONTRAST_JS = """([root, selector]) => {
  const parse = (text) => {
    // rgb()/rgba() with 0-255 channels, or color(srgb ...) with 0-1 ones (from color-mix)
    const m = /^(rgba?|color)\\((?:srgb\\s+)?([^)]+)\\)/.exec(text);
    if (!m) throw new Error(`contrast: cannot read the colour ${text}`);
    const p = m[2].split(/[\\s,\\/]+/).filter(Boolean).map(parseFloat);
    const scale = m[1] === "color" ? 255 : 1;
    return [p[0] * scale, p[1] * scale, p[2] * scale, p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) =>
    [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    return o;
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const out = [];
  for (const el of root.querySelectorAll(selector)) {
    if (el.getClientRects().length === 0 || !el.textContent.trim() && !el.value) continue;
    if (el.disabled || el.closest('[aria-disabled="true"]')) continue;  // WCAG exempts them
    const o = opacity(el);
    if (o === 0) continue;  // shown on hover only
    const bg = background(el);
    const own = parse(getComputedStyle(el).color);
    const fg = over([own[0], own[1], own[2], own[3] * o], bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const name = el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40) || el.value;
    out.push({ what: `${el.tagName.toLowerCase()}.${el.className} "${name}"`,
               ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
               color: getComputedStyle(el).color,
               background: `rgb(${bg.slice(0, 3).map(Math.round)})` });
  }
  return out;
}"""


def contrasts(page: Any, root_selector: str) -> list[dict[str, Any]]:
    """Every visible main control under the first `root_selector`, with its contrast ratio."""
    handle = page.locator(root_selector).first.element_handle()
    return list(page.evaluate(CONTRAST_JS, [handle, MAIN_CONTROLS]))


def low_contrast(page: Any, root_selector: str) -> tuple[list[dict[str, Any]], int]:
    """The controls below WCAG AA, and how many were checked."""
    found = contrasts(page, root_selector)
    return [c for c in found if c["ratio"] < WCAG_AA], len(found)
