/* MasterHall — the chat page: the thread, the composer, the sidebar, export, and the wiring.
 * A round table (page.members, or a conversation whose members are set) shows the members bar
 * (table.js), each reply under its own master, and a Regenerate on every reply; @-mentions
 * (mention.js) work in every conversation (the master mentioned joins).
 *
 * Page data comes from <script id="mh-page"> (see routers/pages.py). Answers stream through
 * turns.js; regenerate and edit are in edit.js, the bubbles in messages.js, the conversations
 * list in sidebar.js. A message the server did not accept goes back into the input box.
 */

import { copyText } from "../lib/clipboard.js";
import { $, el, keepFocus, readJSON } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { autosize, bindEnter } from "./composer.js";
import { Drawer } from "./drawer.js";
import { createEditing } from "./edit.js";
import * as M from "./messages.js";
import { Mentions } from "./mention.js";
import { Sidebar } from "./sidebar.js";
import { Table } from "./table.js";
import { createTurns } from "./turns.js";

function setup() {
  const page = readJSON("mh-page", null);
  if (!page) return;
  const master = page.master;
  const box = $("messages");
  const thread = $("thread");
  const starters = $("intro-starters");
  const form = $("composer");
  const input = $("input");
  const sendButton = $("send-button");
  const stopButton = $("stop-button");
  const exportMenu = $("export-menu");
  const titleNode = $("chat-title");
  const live = $("chat-live");

  const state = {
    conversationId: page.conversation ? page.conversation.id : null,
    busy: false,
    controller: null,
    stopRequested: false,
    stopped: null, // the answer to this page's Stop: {stopped, message_id, text}
    remote: false, // an answer started before this page was loaded is still being generated
    members: null, // a round table's master ids (null: one master)
  };
  const masters = page.masters || {};

  /* ---- the view the other modules act on -------------------------------------------------- */

  const view = {
    state,
    master,
    thread,
    input,
    sidebar: null,
    table: null,

    /** The master who gave an answer (`master_id`, a round table's), for its avatar and name. */
    speaker(id) {
      return id && masters[id] ? { id, ...masters[id] } : master;
    },

    /** Show the members bar for a round table of `members` (null: none). */
    showMembers(members) {
      view.table.show(members);
    },

    showNotice(text, kind) {
      if (!text) return;
      const notice = el(
        "div",
        { className: "chat-notice" + (kind === "error" ? " is-error" : ""), attrs: { role: kind === "error" ? "alert" : "status" } },
        el("p", { className: "chat-notice-text" }, text),
        el("button", {
          type: "button", className: "chat-notice-close", title: t("dismiss"), attrs: { "aria-label": t("dismiss") },
          onclick: () => {
            notice.remove();
            input.focus();
          },
        }, "✕")
      );
      thread.append(notice);
      view.scrollToBottom();
    },

    /** Say `text` through the page's polite live region (role="log"): finished answers and
     *  status changes, never the answer token by token. Keeps the last few entries. */
    announce(text) {
      if (!text) return;
      live.append(el("p", {}, text));
      while (live.children.length > 6) live.firstElementChild.remove();
    },

    /** Focus never drops to the page after an action: the composer's visible button or the input. */
    keepFocus() {
      keepFocus(state.busy ? stopButton : input, input);
    },

    clearNotices() {
      thread.querySelectorAll(".chat-notice").forEach((n) => n.remove());
    },

    nearBottom() {
      return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    },

    scrollToBottom() {
      box.scrollTop = box.scrollHeight;
    },

    setTitle(title) {
      if (title) titleNode.textContent = title;
      document.title = (title || master.name) + " · " + t("site_name");
    },

    messageNodes() {
      return Array.from(thread.querySelectorAll(".msg[data-role]"));
    },

    updateActions() {
      const nodes = view.messageNodes();
      const last = nodes[nodes.length - 1];
      const lastUser = nodes.filter((n) => n.dataset.role === "user").pop();
      for (const node of nodes) {
        const edit = node.querySelector('[data-action="edit"]');
        const regen = node.querySelector('[data-action="regenerate"]');
        const copy = node.querySelector('[data-action="copy"]');
        const more = node.querySelector('[data-action="continue"]');
        if (more) more.hidden = state.busy || !state.conversationId || node !== last;
        if (edit) edit.hidden = state.busy || !state.conversationId || node !== lastUser;
        if (regen) regen.hidden = state.busy || !state.conversationId || (node !== last && !state.members);
        if (copy) copy.hidden = !M.rawText(node) || (state.busy && node === last && node.dataset.role === "assistant");
      }
      starters.hidden = nodes.length > 0;
      if (view.table) view.table.render();
    },

    setBusy(busy) {
      state.busy = busy;
      sendButton.hidden = busy;
      stopButton.hidden = !busy;
      form.classList.toggle("is-busy", busy);
      view.updateActions();
      view.keepFocus();
    },

    setConversation(id) {
      state.conversationId = id;
      history.replaceState(null, "", "/chat/" + encodeURIComponent(id));
      const base = "/api/conversations/" + encodeURIComponent(id) + "/export?format=";
      $("export-md").href = base + "md&lang=" + encodeURIComponent(page.lang);
      $("export-json").href = base + "json";
      exportMenu.hidden = false;
      view.sidebar.setCurrent(id);
    },

    renderThread(messages) {
      thread.replaceChildren(...messages.map((m) => M.create({ ...m, restored: true },
        m.role === "assistant" ? view.speaker(m.master_id) : master)));
      view.updateActions();
    },
  };

  const turns = createTurns(view);
  const editing = createEditing(view, turns);

  /* ---- the user's actions ---------------------------------------------------------------- */

  async function sendMessage(text) {
    const content = text.trim();
    if (!content || state.busy) return;
    view.clearNotices();
    starters.hidden = true;
    input.value = "";
    autosize(input);
    const userNode = M.create({ role: "user", content, status: "complete" }, master);
    thread.append(userNode);
    const body = state.conversationId ? { content, conversation_id: state.conversationId }
      : state.members ? { content, master_ids: state.members } : { content, master_id: master.id };
    await turns.runTurn("/api/messages", body, {
      userNode,
      rejected(message) {
        userNode.remove();
        input.value = input.value ? text + "\n" + input.value : text;
        autosize(input);
        view.updateActions();
        view.showNotice(message ? message + " " + t("err_restored") : t("err_restored"), "error");
        input.focus();
      },
    });
  }

  function submitInput() {
    if (state.busy || !input.value.trim()) return;
    sendMessage(input.value);
  }

  async function copyMessage(node, button) {
    const ok = await copyText(M.rawText(node));
    button.textContent = ok ? t("copied") : t("copy_failed");
    button.classList.toggle("is-done", ok);
    setTimeout(() => {
      button.textContent = t("copy");
      button.classList.remove("is-done");
    }, 1500);
  }

  /* ---- wiring ------------------------------------------------------------------------------ */

  view.sidebar = Sidebar({
    list: $("conv-list"),
    empty: $("conv-empty"),
    search: $("conv-search"),
    masters: page.masters,
    currentId: state.conversationId,
    onDeleted: () => location.assign("/masters/" + encodeURIComponent(master.id) + "/chat"),
    onRenamed: (id, title) => {
      if (id === state.conversationId) view.setTitle(title);
    },
    onError: (message) => view.showNotice(message, "error"),
  });

  view.table = Table(view, {
    bar: $("members-bar"), list: $("members-list"), select: $("member-add"), add: $("member-add-button"),
    sumUp: $("sum-up"), masters, onSumUp: () => sendMessage(t("round_table_sum_up_message")),
  });
  view.table.show(page.conversation ? page.conversation.members : page.members);
  Mentions({ input, list: $("mention-list"), masters });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitInput();
  });
  bindEnter(input, submitInput);
  input.addEventListener("input", () => autosize(input));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.busy) turns.stop();
  });
  stopButton.addEventListener("click", () => {
    if (state.remote && state.conversationId) {
      fetch("/api/conversations/" + encodeURIComponent(state.conversationId) + "/stop", { method: "POST" }).catch(() => {});
    } else {
      turns.stop();
    }
  });
  starters.addEventListener("click", (event) => {
    const button = event.target.closest("[data-starter]");
    if (button) sendMessage(button.textContent);
  });
  thread.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const node = button.closest(".msg");
    if (button.dataset.action === "copy") copyMessage(node, button);
    else if (button.dataset.action === "edit") editing.startEdit(node);
    else if (button.dataset.action === "regenerate") {
      if (state.members) editing.regenerateReply(node);
      else editing.regenerate();
    }
    else if (button.dataset.action === "continue") editing.continueAnswer(node);
  });
  document.addEventListener("click", (event) => {
    if (exportMenu.open && !exportMenu.contains(event.target)) exportMenu.open = false;
  });

  Drawer({
    sidebar: $("sidebar"),
    toggle: $("sidebar-toggle"),
    close: $("sidebar-close"),
    backdrop: $("sidebar-backdrop"),
    outside: [document.querySelector(".skip-link"), document.querySelector(".site-header"), $("status-banner"), document.querySelector("section.chat")],
  });

  view.renderThread(page.messages);
  if (page.conversation) view.setTitle(page.conversation.title);
  view.scrollToBottom();
  view.sidebar.refresh();
  if (page.generating) turns.followRemote();
  else if (page.stopping) turns.settleRemote();
  if (page.initial && !state.conversationId) {
    // the first message is not sent twice by a reload; a round table's page keeps its masters
    const table = state.members ? "?" + new URLSearchParams({ masters: state.members.join(",") }).toString() : "";
    history.replaceState(null, "", location.pathname + table);
    sendMessage(page.initial);
  } else if (window.matchMedia("(pointer: fine)").matches) {
    input.focus();
  }
}

setup();
