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
