/* MasterHall — the Fork button of a master's page: copy the master (built-ins are read-only) into
 * a new draft of your own through POST /api/builder/fork/{id}, then open it in the builder. */
(function () {
  "use strict";

  const MH = window.MasterHall;

  function setup() {
    const button = document.getElementById("fork-master");
    if (!button) return;
    const note = document.getElementById("fork-note");
    button.addEventListener("click", async () => {
      if (button.disabled) return;
      button.disabled = true;
      note.textContent = MH.t("forking");
      note.classList.remove("is-error");
      try {
        const copy = await MH.api("/api/builder/fork/" + encodeURIComponent(button.dataset.fork), { method: "POST" });
        location.assign("/builder/" + encodeURIComponent(copy.master.id));
      } catch (err) {
        button.disabled = false;
        note.textContent = MH.t("fork_failed", { message: err.message });
        note.classList.add("is-error");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
