/* MasterHall — the chat page: send, stream, stop, regenerate, edit, copy, export, sidebar.
 *
 * Page data comes from <script id="mh-page"> (see pages.py). Answers stream from POST
 * /api/messages (or …/regenerate, …/edit) as Server-Sent Events: deltas are shown as plain
 * text, then replaced by the server's sanitized HTML when `done` arrives. A message the
 * server did not accept goes back into the input box.
 */
(function () {
  "use strict";

  const MH = window.MasterHall;
  const { el, t } = MH;
  const M = MH.messages;
  const SYNC_TRIES = 20;
  const SYNC_DELAY_MS = 250;

  /** Call `onSend` on Enter, never while an input method is composing; Shift+Enter is a newline. */
  function bindEnter(area, onSend) {
    let composing = false;
    area.addEventListener("compositionstart", () => {
      composing = true;
    });
    area.addEventListener("compositionend", () => {
      composing = false;
    });
    area.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
      if (event.isComposing || event.keyCode === 229 || composing) return;
      event.preventDefault();
      onSend();
    });
  }

  function autosize(area) {
    area.style.height = "auto";
    area.style.height = Math.min(area.scrollHeight + 2, Math.round(window.innerHeight * 0.4)) + "px";
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function setup() {
    const pageNode = document.getElementById("mh-page");
    if (!pageNode) return;
    const page = JSON.parse(pageNode.textContent);
    const master = page.master;
    const box = document.getElementById("messages");
    const thread = document.getElementById("thread");
    const starters = document.getElementById("intro-starters");
    const form = document.getElementById("composer");
    const input = document.getElementById("input");
    const sendButton = document.getElementById("send-button");
    const stopButton = document.getElementById("stop-button");
    const exportMenu = document.getElementById("export-menu");
    const titleNode = document.getElementById("chat-title");

    const state = {
      conversationId: page.conversation ? page.conversation.id : null,
      busy: false,
      controller: null,
      stopRequested: false,
      remote: false, // an answer started before this page was loaded is still being generated
    };

    /* ---- notices, scrolling, title --------------------------------------------------- */

    function showNotice(text, kind) {
      if (!text) return;
      const notice = el(
        "div",
        { className: "chat-notice" + (kind === "error" ? " is-error" : ""), attrs: { role: kind === "error" ? "alert" : "status" } },
        el("p", { className: "chat-notice-text" }, text),
        el("button", { type: "button", className: "chat-notice-close", title: t("dismiss"), onclick: () => notice.remove() }, "✕")
      );
      thread.append(notice);
      scrollToBottom();
    }

    function clearNotices() {
      thread.querySelectorAll(".chat-notice").forEach((n) => n.remove());
    }

    function nearBottom() {
      return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    }

    function scrollToBottom() {
      box.scrollTop = box.scrollHeight;
    }

    function setTitle(title) {
      if (title) titleNode.textContent = title;
      document.title = (title || master.name) + " · " + t("site_name");
    }

    function messageNodes() {
      return Array.from(thread.querySelectorAll(".msg[data-role]"));
    }

    /* ---- busy state and per-message actions ------------------------------------------ */

    function updateActions() {
      const nodes = messageNodes();
      const last = nodes[nodes.length - 1];
      const lastUser = nodes.filter((n) => n.dataset.role === "user").pop();
      for (const node of nodes) {
        const edit = node.querySelector('[data-action="edit"]');
        const regen = node.querySelector('[data-action="regenerate"]');
        const copy = node.querySelector('[data-action="copy"]');
        if (edit) edit.hidden = state.busy || !state.conversationId || node !== lastUser;
        if (regen) regen.hidden = state.busy || !state.conversationId || node !== last;
        if (copy) copy.hidden = !M.rawText(node) || (state.busy && node === last && node.dataset.role === "assistant");
      }
      starters.hidden = nodes.length > 0;
    }

    function setBusy(busy) {
      state.busy = busy;
      sendButton.hidden = busy;
      stopButton.hidden = !busy;
      form.classList.toggle("is-busy", busy);
      updateActions();
    }

    function setConversation(id) {
      state.conversationId = id;
      history.replaceState(null, "", "/chat/" + encodeURIComponent(id));
      const base = "/api/conversations/" + encodeURIComponent(id) + "/export?format=";
      document.getElementById("export-md").href = base + "md&lang=" + encodeURIComponent(page.lang);
      document.getElementById("export-json").href = base + "json";
      exportMenu.hidden = false;
      sidebar.setCurrent(id);
    }

    /* ---- one streamed turn ------------------------------------------------------------ */

    /**
     * POST `body` to `path` and stream the answer into a new assistant bubble.
     * `handlers.rejected(message)` runs when the server did not accept the request;
     * `handlers.userNode` gets the stored user message's id.
     */
    async function runTurn(path, body, handlers) {
      setBusy(true);
      const controller = new AbortController();
      state.controller = controller;
      state.stopRequested = false;
      const node = M.create({ role: "assistant", content: "", status: "streaming" }, master);
      thread.append(node);
      updateActions();
      scrollToBottom();
      let response;
      try {
        response = await MH.postStream(path, body, controller.signal);
      } catch (err) {
        node.remove();
        state.controller = null;
        setBusy(false);
        handlers.rejected(err.name === "AbortError" ? "" : M.describeError(err.code, err.message));
        return;
      }
      let text = "";
      let ended = false;
      try {
        for await (const event of MH.readEvents(response)) {
          const data = event.data || {};
          if (event.event === "start") {
            node.dataset.id = String(data.message_id);
            if (handlers.userNode) handlers.userNode.dataset.id = String(data.user_message_id);
            if (!state.conversationId) setConversation(data.conversation_id);
            if (data.title) setTitle(data.title);
          } else if (event.event === "loading") {
            M.setNote(node, t("loading_model"), "info");
          } else if (event.event === "delta") {
            const stick = nearBottom();
            if (!text) M.setNote(node, "");
            text += data.text || "";
            M.setStreamingText(node, text);
            if (stick) scrollToBottom();
          } else if (event.event === "done" || event.event === "error") {
            ended = true;
            const stick = nearBottom();
            if (event.event === "done") {
              M.update(node, { role: "assistant", id: data.message_id, content: data.text, html: data.html, status: data.status, error: data.error });
            } else {
              M.update(node, { role: "assistant", id: data.message_id, content: text, status: "error", code: data.code, error: data.message });
            }
            if (stick) scrollToBottom();
          }
        }
      } catch (err) {
        /* aborted by Stop, or the connection broke: handled below */
      }
      state.controller = null;
      const stick = nearBottom();
      if (!ended) {
        if (state.stopRequested) {
          M.update(node, { role: "assistant", content: text, status: "stopped" });
          syncMessage(node);
        } else {
          M.update(node, { role: "assistant", content: text, status: "error", code: "connection_lost" });
        }
      }
      setBusy(false);
      if (stick) scrollToBottom();
      sidebar.refresh();
    }

    /** After a stop, show the answer exactly as stored (rendered) once the server has finished it. */
    async function syncMessage(node) {
      const id = state.conversationId;
      if (!id || !node.dataset.id) return;
      for (let i = 0; i < SYNC_TRIES; i++) {
        await sleep(SYNC_DELAY_MS);
        let data;
        try {
          data = await MH.api("/api/conversations/" + encodeURIComponent(id));
        } catch (err) {
          return;
        }
        const stored = data.messages.find((m) => String(m.id) === node.dataset.id);
        if (!stored) return;
        if (stored.status !== "streaming" && !data.generating) {
          if (node.isConnected) M.update(node, stored);
          updateActions();
          return;
        }
      }
    }

    /* ---- the user's actions ------------------------------------------------------------ */

    async function sendMessage(text) {
      const content = text.trim();
      if (!content || state.busy) return;
      clearNotices();
      starters.hidden = true;
      input.value = "";
      autosize(input);
      const userNode = M.create({ role: "user", content, status: "complete" }, master);
      thread.append(userNode);
      const body = state.conversationId
        ? { content, conversation_id: state.conversationId }
        : { content, master_id: master.id };
      await runTurn("/api/messages", body, {
        userNode,
        rejected(message) {
          userNode.remove();
          input.value = input.value ? text + "\n" + input.value : text;
          autosize(input);
          updateActions();
          showNotice(message ? message + " " + t("err_restored") : t("err_restored"), "error");
          input.focus();
        },
      });
    }

    function submitInput() {
      if (state.busy || !input.value.trim()) return;
      sendMessage(input.value);
    }

    /** Stop: tell the server first (so the answer is stored as stopped by the user), then
     *  close the stream; the server ends the answer after its current token. */
    async function stop() {
      if (!state.busy) return;
      state.stopRequested = true;
      if (state.conversationId) {
        try {
          await fetch("/api/conversations/" + encodeURIComponent(state.conversationId) + "/stop", { method: "POST" });
        } catch (err) {
          /* the stream is closed below either way */
        }
      }
      if (state.controller) state.controller.abort();
    }

    function nodesAfter(node) {
      const after = [];
      for (let next = node.nextElementSibling; next; next = next.nextElementSibling) after.push(next);
      return after;
    }

    async function regenerate() {
      if (state.busy || !state.conversationId) return;
      const lastUser = messageNodes().filter((n) => n.dataset.role === "user").pop();
      if (!lastUser) return;
      clearNotices();
      const removed = nodesAfter(lastUser);
      removed.forEach((n) => n.remove());
      await runTurn("/api/conversations/" + encodeURIComponent(state.conversationId) + "/regenerate", null, {
        rejected(message) {
          thread.append(...removed);
          updateActions();
          showNotice(message, "error");
        },
      });
    }

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
          el("button", { type: "button", className: "button button-ghost", dataset: { editor: "cancel" }, onclick: close }, t("cancel")),
          el("button", { type: "button", className: "button button-primary", dataset: { editor: "save" }, onclick: submit }, t("save_and_send"))
        )
      );
      bindEnter(area, submit);
      area.addEventListener("keydown", (event) => {
        if (event.key === "Escape") close();
      });
      area.addEventListener("input", () => autosize(area));
      node.classList.add("is-editing");
      content.hidden = true;
      content.after(editor);
      autosize(area);
      area.focus();
    }

    async function resend(node, original, text) {
      clearNotices();
      M.update(node, { role: "user", content: text, status: "complete" });
      const removed = nodesAfter(node);
      removed.forEach((n) => n.remove());
      await runTurn("/api/conversations/" + encodeURIComponent(state.conversationId) + "/edit", { content: text }, {
        userNode: node,
        rejected(message) {
          M.update(node, { role: "user", content: original, status: "complete" });
          thread.append(...removed);
          input.value = input.value ? text + "\n" + input.value : text;
          autosize(input);
          updateActions();
          showNotice(message ? message + " " + t("err_restored") : t("err_restored"), "error");
        },
      });
    }

    async function copyMessage(node, button) {
      const ok = await MH.copyText(M.rawText(node));
      button.textContent = ok ? t("copied") : t("copy_failed");
      button.classList.toggle("is-done", ok);
      setTimeout(() => {
        button.textContent = t("copy");
        button.classList.remove("is-done");
      }, 1500);
    }

    /* ---- a page opened while its answer is still being generated ---------------------- */

    async function followRemote() {
      state.remote = true;
      setBusy(true);
      for (;;) {
        await sleep(1000);
        let data;
        try {
          data = await MH.api("/api/conversations/" + encodeURIComponent(state.conversationId));
        } catch (err) {
          continue;
        }
        if (!data.generating) {
          renderThread(data.messages);
          break;
        }
      }
      state.remote = false;
      setBusy(false);
    }

    function renderThread(messages) {
      thread.replaceChildren(...messages.map((m) => M.create({ ...m, restored: true }, master)));
      updateActions();
    }

    /* ---- wiring ------------------------------------------------------------------------ */

    const sidebar = MH.Sidebar({
      list: document.getElementById("conv-list"),
      empty: document.getElementById("conv-empty"),
      search: document.getElementById("conv-search"),
      masters: page.masters,
      currentId: state.conversationId,
      onDeleted: () => location.assign("/masters/" + encodeURIComponent(master.id) + "/chat"),
      onRenamed: (id, title) => {
        if (id === state.conversationId) setTitle(title);
      },
      onError: (message) => showNotice(message, "error"),
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitInput();
    });
    bindEnter(input, submitInput);
    input.addEventListener("input", () => autosize(input));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.busy) stop();
    });
    stopButton.addEventListener("click", () => {
      if (state.remote && state.conversationId) {
        fetch("/api/conversations/" + encodeURIComponent(state.conversationId) + "/stop", { method: "POST" }).catch(() => {});
      } else {
        stop();
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
      else if (button.dataset.action === "edit") startEdit(node);
      else if (button.dataset.action === "regenerate") regenerate();
    });
    document.addEventListener("click", (event) => {
      if (exportMenu.open && !exportMenu.contains(event.target)) exportMenu.open = false;
    });

    const toggle = document.getElementById("sidebar-toggle");
    const backdrop = document.getElementById("sidebar-backdrop");
    function openSidebar(open) {
      document.body.classList.toggle("sidebar-open", open);
      toggle.setAttribute("aria-expanded", String(open));
      backdrop.hidden = !open;
    }
    toggle.addEventListener("click", () => openSidebar(!document.body.classList.contains("sidebar-open")));
    backdrop.addEventListener("click", () => openSidebar(false));
    document.getElementById("sidebar-close").addEventListener("click", () => openSidebar(false));

    renderThread(page.messages);
    if (page.conversation) setTitle(page.conversation.title);
    scrollToBottom();
    sidebar.refresh();
    if (page.generating) followRemote();
    if (page.initial && !state.conversationId) {
      history.replaceState(null, "", location.pathname);
      sendMessage(page.initial);
    } else if (window.matchMedia("(pointer: fine)").matches) {
      input.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
