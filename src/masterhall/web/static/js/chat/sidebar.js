/* MasterHall — the conversations sidebar: newest first, search by title, rename in place, delete
 * after a confirmation dialog, the current conversation highlighted. After a rename or a delete,
 * focus goes to the conversation (or the next one, or the search box), never to the page. Titles come from users'
 * messages, so they are only ever set as text.
 */

import { api } from "../lib/api.js";
import { fillAvatar } from "../lib/avatar.js";
import { confirmAction } from "../lib/confirm.js";
import { el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

/**
 * `options`: list, empty, search (elements), masters ({id: {avatar, name}}), currentId,
 * onDeleted(id) (called after the current conversation was deleted), onRenamed(id, title),
 * onError(message).
 */
export function Sidebar(options) {
  const { list, empty, search, masters } = options;
  let currentId = options.currentId || null;
  let query = "";
  let timer = null;
  let seq = 0;

  function item(conv) {
    const master = masters[conv.master_id] || { avatar: "💬", name: conv.master_id };
    const title = conv.title || t("untitled");
    const link = el(
      "a",
      { className: "conv-link", href: "/chat/" + encodeURIComponent(conv.id), title },
      fillAvatar(el("span", { className: "conv-avatar", attrs: { "aria-hidden": "true" } }), master),
      el(
        "span",
        { className: "conv-text" },
        el("span", { className: "conv-title" }, title),
        el("span", { className: "conv-master" }, master.name)
      )
    );
    const rename = el("button", { type: "button", className: "conv-action", dataset: { action: "rename" }, title: t("rename") }, "✎");
    const remove = el("button", { type: "button", className: "conv-action", dataset: { action: "delete" }, title: t("delete") }, "🗑");
    rename.setAttribute("aria-label", t("rename"));
    remove.setAttribute("aria-label", t("delete"));
    const node = el(
      "li",
      { className: "conv-item", dataset: { id: conv.id } },
      link,
      el("span", { className: "conv-actions" }, rename, remove)
    );
    node._conv = conv;
    if (conv.id === currentId) {
      node.classList.add("is-current");
      link.setAttribute("aria-current", "page");
    }
    return node;
  }

  /** Reload the list from the server (keeps the current search). */
  async function refresh() {
    const mine = ++seq;
    const params = new URLSearchParams({ limit: "100" });
    if (query) params.set("q", query);
    let conversations;
    try {
      conversations = await api("/api/conversations?" + params.toString());
    } catch (err) {
      if (mine === seq && options.onError) options.onError(err.message);
      return;
    }
    if (mine !== seq) return;
    list.replaceChildren(...conversations.map(item));
    empty.hidden = conversations.length > 0;
    empty.textContent = conversations.length ? "" : t(query ? "no_conversations_match" : "no_conversations");
  }

  function startRename(node) {
    if (node.querySelector(".conv-rename")) return;
    const conv = node._conv;
    const link = node.querySelector(".conv-link");
    const input = el("input", {
      className: "conv-rename",
      value: conv.title || "",
      maxLength: 200,
      attrs: { "aria-label": t("rename") },
    });
    let finished = false;
    let byKey = false;
    async function finish(save) {
      if (finished) return;
      finished = true;
      const title = input.value.trim();
      if (save && title && title !== conv.title) {
        try {
          const updated = await api("/api/conversations/" + encodeURIComponent(conv.id), {
            method: "PATCH",
            body: { title },
          });
          if (options.onRenamed) options.onRenamed(conv.id, updated.title);
        } catch (err) {
          if (options.onError) options.onError(err.message);
        }
      }
      await refresh();
      if (byKey) focusItem(conv.id);
    }
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        byKey = true;
        finish(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        byKey = true;
        finish(false);
      }
    });
    input.addEventListener("blur", () => finish(true));
    link.hidden = true;
    node.classList.add("is-renaming");
    node.prepend(input);
    input.focus();
    input.select();
  }

  /** Focus the link of conversation `id`, else the first conversation, else the search box. */
  function focusItem(id, fallbackId) {
    const find = (key) => key && list.querySelector('.conv-item[data-id="' + CSS.escape(key) + '"] .conv-link');
    (find(id) || find(fallbackId) || list.querySelector(".conv-link") || search).focus();
  }

  async function confirmDelete(node) {
    const title = (node._conv && node._conv.title) || t("untitled");
    if (!(await confirmAction(t("confirm_delete_conversation", { title }), t("delete")))) return;
    const id = node.dataset.id;
    const next = (node.nextElementSibling || node.previousElementSibling || {}).dataset;
    try {
      await api("/api/conversations/" + encodeURIComponent(id), { method: "DELETE" });
    } catch (err) {
      if (options.onError) options.onError(err.message);
      return;
    }
    node.remove();
    if (id === currentId && options.onDeleted) options.onDeleted(id);
    else {
      await refresh();
      focusItem(next && next.id);
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    event.preventDefault();
    const node = button.closest(".conv-item");
    if (button.dataset.action === "rename") startRename(node);
    else if (button.dataset.action === "delete") confirmDelete(node);
  });
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      query = search.value.trim();
      refresh();
    }, 200);
  });

  return {
    refresh,
    /** Highlight the conversation `id` (after a new conversation got its id). */
    setCurrent(id) {
      currentId = id;
      refresh();
    },
  };
}
