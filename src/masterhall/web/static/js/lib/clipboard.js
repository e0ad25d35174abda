/* MasterHall — copying text, with a fallback for non-secure (plain http) origins. */

import { el } from "./dom.js";

/** Copy `text` to the clipboard; resolves to true on success. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (err) {
      /* fall back below */
    }
  }
  const area = el("textarea", { value: text, readOnly: true, className: "clipboard-helper" });
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch (err) {
    ok = false;
  }
  area.remove();
  return ok;
}
