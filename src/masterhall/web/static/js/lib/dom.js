/* MasterHall — building the page safely: elements whose children are only ever text nodes, and
 * the JSON data the server embeds in <script type="application/json"> tags. */

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** The JSON inside <script id="…" type="application/json">, or `fallback`. */
export function readJSON(id, fallback) {
  const node = document.getElementById(id);
  if (!node) return fallback;
  try {
    return JSON.parse(node.textContent);
  } catch (err) {
    return fallback;
  }
}

/** Create an element: `props` sets properties (className, hidden, dataset.*, attrs, on*), children are text. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "attrs") for (const [a, v] of Object.entries(value)) node.setAttribute(a, v);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A promise that resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/* The element that last had focus: when it is removed or hidden by what it did (Stop, Regenerate,
 * Close, Delete …), the browser drops focus to <body>; keepFocus() puts it somewhere useful. */
let lastFocus = null;
document.addEventListener("focusin", (event) => {
  lastFocus = event.target;
});

function gone(node) {
  return !node || !node.isConnected || !!node.closest("[hidden], [inert]") || node.getClientRects().length === 0;
}

/** When focus was dropped (the focused control was removed or hidden), focus the first of
 *  `candidates` that is shown; otherwise leave focus where the person put it. */
export function keepFocus(...candidates) {
  const active = document.activeElement;
  const dropped = !active || active === document.body ? lastFocus !== null && gone(lastFocus) : gone(active);
  if (!dropped) return;
  const next = candidates.find((node) => !gone(node));
  if (next) next.focus();
}
