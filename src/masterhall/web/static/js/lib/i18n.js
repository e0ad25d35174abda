/* MasterHall — the interface strings of the page's language (locales/<lang>.json on the server,
 * embedded in every page as <script id="mh-strings">). */

import { readJSON } from "./dom.js";

const strings = readJSON("mh-strings", {});

/** The page's language: "zh" or "en". */
export const lang = document.documentElement.dataset.lang || "en";

/** The interface string `key`, with `{name}` placeholders replaced from `values`. */
export function t(key, values) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** A number in the page's language with `digits` decimals ("—" for none). */
export function number(value, digits) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  return Number(value).toLocaleString(lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
