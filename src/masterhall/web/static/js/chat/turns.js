/* MasterHall — one streamed turn of the chat page: POST /api/messages (or …/regenerate, …/edit),
 * the answer streamed into a new assistant bubble (deltas as plain text, replaced by the server's
 * sanitized HTML when `done` arrives), Stop, and the pages opened while an answer is generating.
 * A round table's round is one stream: each `speaker` event opens the next reply's bubble, under
 * that master's avatar and name; `round` ends it (Stop ends the whole round).
 *
 * `createTurns(view)` takes the page's view (see main.js) and returns {runTurn, stop, followRemote, settleRemote}.
 */

import { api, describeError } from "../lib/api.js";
import { sleep } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { streamEvents } from "../lib/stream.js";
import * as M from "./messages.js";

const SYNC_TRIES = 20;
const SYNC_DELAY_MS = 250;

export function createTurns(view) {
  const { state, thread, master } = view;

  /**
   * POST `body` to `path` and stream the answer into a new assistant bubble.
   * `handlers.rejected(message)` runs when the server did not accept the request;
   * `handlers.userNode` gets the stored user message's id; `handlers.node` (a continuation)
   * is the bubble to stream into instead of a new one, its text going on after what it shows.
   */
  async function runTurn(path, body, handlers) {
    view.setBusy(true);
    const controller = new AbortController();
    state.controller = controller;
    state.stopRequested = false;
    state.stopped = null;
    let node = handlers.node || M.create({ role: "assistant", content: "", status: "streaming" }, master);
    let speakers = 0;
    let round = false;
    let text = handlers.node ? M.rawText(node) : "";
    if (handlers.node) M.update(node, { role: "assistant", id: node.dataset.id, content: text, status: "streaming" });
    else thread.append(node);
    view.updateActions();
    view.keepFocus(); // Regenerate and Continue were pressed on buttons that are gone now
    view.scrollToBottom();
    view.announce(t("status_answering", { name: master.name }));
    let ended = false;
    let fresh = true;

    function onEvent(event) {
      const data = event.data || {};
      if (event.event === "start") {
        if (data.message_id) node.dataset.id = String(data.message_id);
        if (data.round) {
          round = true;
          view.showMembers(data.members);
          for (const id of data.joined || []) view.announce(t("round_table_joined", { name: view.speaker(id).name }));
        }
        if (handlers.userNode) handlers.userNode.dataset.id = String(data.user_message_id);
        if (!state.conversationId) view.setConversation(data.conversation_id);
        if (data.title) view.setTitle(data.title);
      } else if (event.event === "speaker") {
        if (speakers++ > 0) {
          node = M.create({ role: "assistant", content: "", status: "streaming" }, view.speaker(data.master_id));
          thread.append(node);
        }
        M.setSpeaker(node, view.speaker(data.master_id));
        M.update(node, { role: "assistant", id: data.message_id, content: "", status: "streaming" });
        text = "";
        fresh = true;
        view.updateActions();
        view.announce(t("status_answering", { name: data.name }));
        if (view.nearBottom()) view.scrollToBottom();
      } else if (event.event === "round") {
        ended = true;
      } else if (event.event === "context") {
        M.setContext(node, data.notes);
      } else if (event.event === "loading") {
        M.setNote(node, t("loading_model"), "info");
        view.announce(t("loading_model"));
      } else if (event.event === "delta") {
        const stick = view.nearBottom();
        if (fresh) M.setNote(node, "");
        fresh = false;
        text += data.text || "";
        M.setStreamingText(node, text);
        if (stick) view.scrollToBottom();
      } else if (event.event === "done" || event.event === "error") {
        ended = !round;
        if (round && event.event === "error" && !data.master_id) {
          ended = true;
          if (!speakers && !handlers.node) node.remove();
          view.showNotice(describeError(data.code, data.message), "error");
          return;
        }
        const stick = view.nearBottom();
        if (event.event === "done") {
          M.update(node, {
            role: "assistant", id: data.message_id, content: data.text, html: data.html, status: data.status, error: data.error,
            finish_reason: data.finish_reason, notes: data.notes, cards: data.cards, citations: data.citations,
          });
        } else {
          M.update(node, { role: "assistant", id: data.message_id, content: text, status: "error", code: data.code, error: data.message });
        }
        announceEnd(node);
        if (stick) view.scrollToBottom();
      }
    }

    try {
      await streamEvents(path, body, { signal: controller.signal, onEvent });
    } catch (err) {
      if (!handlers.node) node.remove();
      state.controller = null;
      view.setBusy(false);
      handlers.rejected(err.name === "AbortError" ? "" : describeError(err.code, err.message));
      return;
    }
    state.controller = null;
    const stick = view.nearBottom();
    if (!ended) {
      if (state.stopRequested) {
        // The server's text (the stop's answer) is what it stores: a delta it sent before the stop
        // that this page had not read yet is in it; one in flight at the stop is in neither.
        const answer = state.stopped;
        const stored = answer && String(answer.message_id) === node.dataset.id ? answer.text : text;
        M.update(node, { role: "assistant", content: stored, status: "stopped" });
        syncMessage(node);
      } else {
        M.update(node, { role: "assistant", content: text, status: "error", code: "connection_lost" });
      }
      announceEnd(node);
    }
    view.setBusy(false);
    if (stick) view.scrollToBottom();
    view.sidebar.refresh();
  }

  /** Announce a finished answer once, whole (its text, then its note: stopped, error, cut at the
   *  length limit, ended for repeating itself). */
  function announceEnd(node) {
    const text = node.querySelector(".msg-content").textContent.trim();
    const who = node.querySelector(".msg-who");
    if (text) view.announce(t("status_answered", { name: who ? who.textContent : master.name, text }));
    const note = node.querySelector(".msg-note:not([hidden])");
    if (note) view.announce(note.textContent);
    const cut = node.querySelector(".msg-cut:not([hidden]) .msg-cut-text");
    if (cut) view.announce(cut.textContent.replace(/\s*[—-]\s*$/, "") + ".");
  }

  /**
   * Read the conversation every SYNC_DELAY_MS (at most SYNC_TRIES times) until `settle(data)`
   * returns true; a failed read ends it.
   */
  async function pollConversation(settle) {
    const id = state.conversationId;
    for (let i = 0; id && i < SYNC_TRIES; i++) {
      await sleep(SYNC_DELAY_MS);
      let data;
      try {
        data = await api("/api/conversations/" + encodeURIComponent(id));
      } catch (err) {
        return;
      }
      if (settle(data)) return;
    }
  }

  /** After a stop, show the answer exactly as stored (rendered) once the server has finished it. */
  function syncMessage(node) {
    if (!node.dataset.id) return;
    pollConversation((data) => {
      const stored = data.messages.find((m) => String(m.id) === node.dataset.id);
      if (!stored) return true;
      if (stored.status === "streaming" || data.generating || data.stopping) return false;
      if (node.isConnected) M.update(node, stored);
      view.updateActions();
      return true;
    });
  }

  /** Stop: tell the server first (so the answer is stored as stopped by the user; its answer
   *  says the text it stores), then close the stream. */
  async function stop() {
    if (!state.busy) return;
    state.stopRequested = true;
    if (state.conversationId) {
      try {
        const response = await fetch("/api/conversations/" + encodeURIComponent(state.conversationId) + "/stop", { method: "POST" });
        const data = response.ok ? await response.json() : {};
        if (data.stopped) state.stopped = data;
      } catch (err) {
        /* the stream is closed below either way */
      }
    }
    if (state.controller) state.controller.abort();
  }

  /** Stream the running answer into its bubble from GET …/live (wherever the hall runs it: the
   *  server replays it from its start), until it ends or the stream breaks off; then the caller
   *  shows the conversation as stored. */
  async function followLive() {
    const nodes = view.messageNodes();
    let node = nodes[nodes.length - 1];
    if (!node || node.dataset.role !== "assistant") {
      node = M.create({ role: "assistant", content: "", status: "streaming" }, master);
      thread.append(node);
    }
    let text = "";
    function onEvent(event) {
      const data = event.data || {};
      if (event.event === "start") {
        node.dataset.id = String(data.message_id);
        text = "";
      } else if (event.event === "delta") {
        const stick = view.nearBottom();
        text += data.text || "";
        M.setStreamingText(node, text);
        if (stick) view.scrollToBottom();
      }
    }
    const path = "/api/conversations/" + encodeURIComponent(state.conversationId) + "/live";
    try {
      await streamEvents(path, null, { method: "GET", onEvent });
    } catch (err) {
      /* none running any more (409), or no live stream: the stored answer is shown below */
    }
  }

  /** A page opened while its answer is still being generated: follow it live, then show it as stored. */
  async function followRemote() {
    state.remote = true;
    view.setBusy(true);
    await followLive();
    for (;;) {
      await sleep(1000);
      let data;
      try {
        data = await api("/api/conversations/" + encodeURIComponent(state.conversationId));
      } catch (err) {
        continue;
      }
      if (!data.generating) {
        view.renderThread(data.messages);
        const last = view.messageNodes().pop();
        if (last && last.dataset.role === "assistant") announceEnd(last);
        break;
      }
    }
    state.remote = false;
    view.setBusy(false);
  }

  /** A page opened while its answer is being stopped (by this very reload, say): the server
   *  already shows it as stopped; once the turn has written its end, show it exactly as stored. */
  function settleRemote() {
    return pollConversation((data) => {
      if (data.generating || state.busy) return true; // a new turn started meanwhile
      if (data.stopping) return false;
      view.renderThread(data.messages);
      return true;
    });
  }

  return { runTurn, stop, followRemote, settleRemote };
}
