/* MasterHall — a master's page: the Fork button copies the master (built-ins are read-only) into a
 * new draft of your own through POST /api/builder/fork/{id}, then opens it in the builder. */

import { api } from "./lib/api.js";
import { $ } from "./lib/dom.js";
import { t } from "./lib/i18n.js";

function setup() {
  const button = $("fork-master");
  if (!button) return;
  const note = $("fork-note");
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    button.disabled = true;
    note.textContent = t("forking");
    note.classList.remove("is-error");
    try {
      const copy = await api("/api/builder/fork/" + encodeURIComponent(button.dataset.fork), { method: "POST" });
      location.assign("/builder/" + encodeURIComponent(copy.master.id));
    } catch (err) {
      button.disabled = false;
      note.textContent = t("fork_failed", { message: err.message });
      note.classList.add("is-error");
    }
  });
}

setup();
