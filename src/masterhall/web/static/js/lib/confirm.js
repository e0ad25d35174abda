/* MasterHall — asking before something that cannot be undone (deleting): a modal <dialog> that
 * says what will happen, with Cancel (focused first; Escape too) and the action's own button.
 * It waits as long as the person needs (no timer). Focus goes back where it was when it closes.
 *
 *   if (await confirmAction(t("confirm_delete_master", { name }), t("delete"))) …
 */

import { el } from "./dom.js";
import { t } from "./i18n.js";

/** Ask `message`; resolve to true when `actionLabel` was chosen, false on Cancel or Escape. */
export function confirmAction(message, actionLabel) {
  const opener = document.activeElement;
  const text = el("p", { className: "confirm-text", id: "confirm-text" }, message);
  const cancel = el("button", { type: "button", className: "button", dataset: { confirm: "cancel" } }, t("cancel"));
  const ok = el("button", { type: "button", className: "button button-danger", dataset: { confirm: "ok" } }, actionLabel);
  const dialog = el(
    "dialog",
    { className: "confirm-dialog", attrs: { "aria-labelledby": "confirm-text", role: "alertdialog" } },
    text,
    el("div", { className: "confirm-actions" }, cancel, ok)
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answer = false;
    cancel.addEventListener("click", () => dialog.close());
    ok.addEventListener("click", () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
      resolve(answer);
    });
    dialog.showModal();
    cancel.focus();
  });
}
