/* MasterHall — messages beside the builder's fields: the server's per-field errors
 * (`{field, message, type, ctx}`) said in the page's language, shown beside their fields and in a
 * summary that links to them. `createFieldErrors(form)` returns {clearErrors, showErrors, focusFirstError, labels}.
 */

import { $, el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";


/** A readable message for one server error `{field, message, type, ctx}`. */
export function fieldMessage(err) {
  const c = err.ctx || {};
  const detail = String(err.message || "").replace(/^Value error, /, "");
  switch (err.type) {
    case "missing":
      return t("v_required");
    case "string_too_short":
      return c.min_length > 1 ? t("v_min_chars", { n: c.min_length }) : t("v_required");
    case "string_too_long":
      return t("v_max_chars", { n: c.max_length });
    case "too_short":
      return t("v_min_items", { n: c.min_length });
    case "too_long":
      return t("v_max_items", { n: c.max_length });
    case "greater_than_equal":
      return t("v_ge", { n: c.ge });
    case "greater_than":
      return t("v_gt", { n: c.gt });
    case "less_than_equal":
      return t("v_le", { n: c.le });
    case "less_than":
      return t("v_lt", { n: c.lt });
    case "int_parsing":
    case "int_from_float":
    case "int_type":
      return t("v_int");
    case "float_parsing":
    case "float_type":
      return t("v_number");
    case "value_error":
      break;
    default:
      return detail;
  }
  const field = err.field || "";
  if (field === "id") return t("v_id");
  if (field === "category") return t("v_category");
  if (field === "avatar_image") return t("v_avatar_image", { detail });
  if (/^(starters|tags)\.(zh|en)$/.test(field) && /empty/.test(detail)) return t("v_blank_items");
  if (/safety/i.test(detail)) return t("v_safety");
  return detail;
}

export function createFieldErrors(form) {
  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((n) => n.remove());
    form.querySelectorAll("[aria-invalid]").forEach((n) => {
      n.removeAttribute("aria-invalid");
      if (n.dataset.hints) n.setAttribute("aria-describedby", n.dataset.hints); // the field's own hint again
      else n.removeAttribute("aria-describedby");
    });
    form.querySelectorAll(".has-error").forEach((n) => n.classList.remove("has-error"));
    $("form-summary").hidden = true;
    $("form-summary").replaceChildren();
  }

  /** The element that shows messages for `path` (`a.b.2`), falling back to its parents. */
  function fieldFor(path) {
    let p = path === "(master)" ? "" : path;
    while (p) {
      const node = form.querySelector('[data-field="' + CSS.escape(p) + '"]');
      if (node) return node;
      p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "";
    }
    return null;
  }

  /** Show `errors` ([{field, message, type, ctx}]) beside their fields and in a summary. */
  function showErrors(errors) {
    clearErrors();
    if (!errors || !errors.length) return;
    const summary = $("form-summary");
    const list = el("ul", { className: "form-summary-list" });
    let first = null;
    for (const err of errors) {
      let path = err.field || "";
      if (path === "(master)" && /safety/i.test(err.message || "")) path = "safety_duty";
      const text = fieldMessage(err);
      const node = fieldFor(path);
      if (node) {
        let box = node.querySelector(":scope > .field-error");
        if (!box) {
          box = el("p", { className: "field-error", id: "err-" + Math.random().toString(36).slice(2, 9) });
          node.append(box);
        }
        box.append(el("span", { className: "field-error-line" }, text));
        node.classList.add("has-error");
        const input = node.matches("input, textarea, select") ? node : node.querySelector("input:not([type=hidden]), textarea, select");
        if (input) {
          input.setAttribute("aria-invalid", "true");
          if (input.dataset.hints === undefined) input.dataset.hints = input.getAttribute("aria-describedby") || "";
          input.setAttribute("aria-describedby", (box.id + " " + input.dataset.hints).trim());
        }
        if (!first) first = input || node;
      }
      const link = el("a", { href: "#", className: "form-summary-link" }, labelOf(path) + ": " + text);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const target = node && (node.matches("input, textarea, select") ? node : node.querySelector("input, textarea, select"));
        if (target) target.focus();
        else if (node) node.scrollIntoView({ block: "center" });
      });
      list.append(el("li", {}, link));
    }
    summary.append(el("p", { className: "form-summary-title" }, t("form_errors", { n: errors.length })), list);
    summary.hidden = false;
    return first;
  }

  /** A short name of the field at `path` for the summary (its label text). */
  function labelOf(path) {
    const node = fieldFor(path);
    if (!node) return path || t("field_master");
    const label = node.querySelector(":scope > label, :scope > .field-label");
    const input = node.querySelector("input, textarea, select");
    const text = label
      ? label.textContent.replace(/\s+/g, " ").trim()
      : (input && input.getAttribute("aria-label")) || "";
    const m = /\.(\d+)(?:\.(user|assistant))?$/.exec(path);
    if (path.startsWith("examples.") && m) return t("example_n", { n: Number(m[1]) + 1 }) + (text ? " · " + text : "");
    return text || path;
  }

  /** The short names of the fields in `errors`, each once, in order. */
  function labels(errors) {
    const out = [];
    for (const err of errors || []) {
      let path = String(err.field || "");
      if (path === "(master)" && /safety/i.test(err.message || "")) path = "safety_duty";
      const name = labelOf(fieldFor(path) ? path : path.split(".")[0]);
      if (!out.includes(name)) out.push(name);
    }
    return out;
  }

  /** Bring the first field in error into view (the summary when none is in the form); the
   *  summary and fields keep a scroll margin below the sticky header and toolbar (builder.css). */
  function focusFirstError(first) {
    if (!first) {
      const summary = $("form-summary");
      if (!summary.hidden) summary.scrollIntoView({ block: "start" });
      return;
    }
    first.scrollIntoView({ block: "center" });
    if (first.focus) first.focus({ preventScroll: true });
  }

  return { clearErrors, showErrors, focusFirstError, labels };
}
