/* MasterHall — what every page does: the model-status banner (polling /api/status while the model
 * loads; a "masterhall:status" event tells scripts of the change) and the language switch,
 * which returns to the page as it is now (a new chat may have become /chat/{id}), and Escape
 * closing an open menu. Loaded by every page; model or user text is only ever put into a page as text. */

import { api } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";

function showStatus(model) {
  const banner = $("status-banner");
  if (!banner || !model) return;
  const text = banner.querySelector(".status-text");
  banner.dataset.state = model.state;
  banner.classList.toggle("is-error", model.state === "error");
  if (model.state === "loading") {
    text.textContent = t("model_loading");
    banner.hidden = false;
  } else if (model.state === "error") {
    text.textContent = t("model_error", { message: model.message || "" });
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
  document.dispatchEvent(new CustomEvent("masterhall:status", { detail: model }));
}

/** Poll /api/status while the model loads; the banner goes away once it is ready. */
export function watchStatus(intervalMs) {
  const delay = intervalMs || 1500;
  let failures = 0;
  async function tick() {
    try {
      const body = await api("/api/status");
      failures = 0;
      showStatus(body.model);
      if (body.model && body.model.state === "loading") setTimeout(tick, delay);
    } catch (err) {
      failures += 1;
      setTimeout(tick, Math.min(delay * 2 ** failures, 15000));
    }
  }
  tick();
}

function bindLanguageSwitch() {
  const link = $("lang-switch");
  if (!link) return;
  link.addEventListener("click", function () {
    const here = location.pathname + location.search + location.hash;
    link.href = "/lang/" + encodeURIComponent(link.dataset.lang) + "?next=" + encodeURIComponent(here);
  });
}

const banner = $("status-banner");
if (banner && banner.dataset.state === "loading") watchStatus();
bindLanguageSwitch();

/* Menus (<details class="menu">): Escape closes the open one and puts focus back on its button. */
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = event.target instanceof Element ? event.target.closest("details.menu[open]") : null;
  const open = menu || document.querySelector("details.menu[open]");
  if (!open) return;
  open.open = false;
  open.querySelector("summary").focus();
});
