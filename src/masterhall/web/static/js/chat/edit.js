/* MasterHall — changing the chat's last turn: regenerate the last answer, continue an answer cut
 * at the length limit (the rest streams into the same bubble), or edit the last message in place
 * and send it again. `createEditing(view, turns)` returns {regenerate, regenerateReply, continueAnswer, startEdit}
 * (regenerateReply: one reply of a round table, in place). */

import { el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { autosize, bindEnter } from "./composer.js";
import * as M from "./messages.js";

function nodesAfter(node) {
  const after = [];
  for (let next = node.nextElementSibling; next; next = next.nextElementSibling) after.push(next);
  return after;
}

export function createEditing(view, turns) {
  const { state, thread, input } = view;

  async function regenerate() {
    if (state.busy || !state.conversationId) return;
    const lastUser = view.messageNodes().filter((n) => n.dataset.role === "user").pop();
    if (!lastUser) return;
    view.clearNotices();
    const removed = nodesAfter(lastUser);
    removed.forEach((n) => n.remove());
    await turns.runTurn("/api/conversations/" + encodeURIComponent(state.conversationId) + "/regenerate", null, {
      rejected(message) {
        thread.append(...removed);
        view.updateActions();
        view.showNotice(message, "error");
      },
    });
  }

  /** Run ``action`` (``regenerate`` or ``continue``) on a stored answer in place; a refusal puts it back. */
  async function redoInPlace(node, action) {
    if (state.busy || !state.conversationId || !node.dataset.id) return;
    view.clearNotices();
    const before = node._message;
    const path = "/api/conversations/" + encodeURIComponent(state.conversationId) + "/messages/" +
      encodeURIComponent(node.dataset.id) + "/" + action;
    await turns.runTurn(path, null, {
      node,
      rejected(message) {
        if (before) M.update(node, before);
        view.updateActions();
        view.showNotice(message, "error");
      },
    });
  }

  /** A round table's reply, generated again in place by the same master (the replies after it stay). */
  const regenerateReply = (node) => redoInPlace(node, "regenerate");

  const continueAnswer = (node) => redoInPlace(node, "continue");

  function startEdit(node) {
    if (state.busy || node.classList.contains("is-editing")) return;
    const original = M.rawText(node);
    const content = node.querySelector(".msg-content");
    const area = el("textarea", { className: "msg-editor-input", value: original, rows: 2, attrs: { "aria-label": t("edit") } });
    const close = () => {
      editor.remove();
      node.classList.remove("is-editing");
      content.hidden = false;
    };
    const cancel = () => {
      close();
      const edit = node.querySelector('[data-action="edit"]');
      (edit && !edit.hidden ? edit : input).focus(); // focus stays on the message it was on
    };
    const submit = () => {
      const text = area.value.trim();
      if (!text || state.busy) return;
      close();
      resend(node, original, text);
    };
    const editor = el(
      "div",
      { className: "msg-editor" },
      area,
      el(
        "div",
        { className: "msg-editor-actions" },
        el("button", { type: "button", className: "button button-ghost", dataset: { editor: "cancel" }, onclick: cancel }, t("cancel")),
        el("button", { type: "button", className: "button button-primary", dataset: { editor: "save" }, onclick: submit }, t("save_and_send"))
      )
    );
    bindEnter(area, submit);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel();
    });
    area.addEventListener("input", () => autosize(area));
    node.classList.add("is-editing");
    content.hidden = true;
    content.after(editor);
    autosize(area);
    area.focus();
  }

  async function resend(node, original, text) {
    view.clearNotices();
    M.update(node, { role: "user", content: text, status: "complete" });
    const removed = nodesAfter(node);
    removed.forEach((n) => n.remove());
    await turns.runTurn("/api/conversations/" + encodeURIComponent(state.conversationId) + "/edit", { content: text }, {
      userNode: node,
      rejected(message) {
        M.update(node, { role: "user", content: original, status: "complete" });
        thread.append(...removed);
        input.value = input.value ? text + "\n" + input.value : text;
        autosize(input);
        view.updateActions();
        view.showNotice(message ? message + " " + t("err_restored") : t("err_restored"), "error");
      },
    });
  }

  return { regenerate, regenerateReply, continueAnswer, startEdit };
}
