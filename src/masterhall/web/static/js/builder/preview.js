/* MasterHall — the builder's preview: chat with the form's master as it is (POST
 * /api/builder/preview, SSE, nothing stored); each turn shows exactly what the model received in
 * a debug panel (messages with their tokens, the context window, what was left out, timing).
 * `createPreview(ctx, runs)` returns {sendPreview, resetPreview, stop, isRunning}.
 */

import { describeError } from "../lib/api.js";
import { fillAvatar, isAvatarImage } from "../lib/avatar.js";
import { $, el, keepFocus } from "../lib/dom.js";
import { lang, number, t } from "../lib/i18n.js";
import { streamEvents } from "../lib/stream.js";

export function createPreview(ctx, runs) {
  const preview = { history: [], controller: null, running: false };

  function previewNotice(text) {
    if (!text) return;
    $("preview-thread").append(el("p", { className: "form-notice is-error preview-notice", attrs: { role: "alert" } }, text));
  }

  function bubble(role, text) {
    const isUser = role === "user";
    const avatar = el("div", { className: "msg-avatar", attrs: { "aria-hidden": "true" } });
    if (isUser) avatar.textContent = "🙂";
    else fillAvatar(avatar, { avatar: $("f-avatar").value.trim() || "✨", avatar_image: isAvatarImage(ctx.state.avatarImage) ? ctx.state.avatarImage : null });
    return el(
      "article",
      { className: "msg " + (isUser ? "msg-user" : "msg-assistant"), dataset: { role } },
      avatar,
      el("div", { className: "msg-main" }, el("div", { className: "msg-content plain" }, text || ""))
    );
  }

  function resetPreview() {
    if (preview.controller) preview.controller.abort();
    preview.history = [];
    const greeting = $("f-greeting-" + (lang === "zh" ? "zh" : "en")).value.trim();
    const thread = $("preview-thread");
    thread.replaceChildren();
    if (greeting) {
      const node = bubble("greeting", greeting);
      node.classList.add("msg-greeting");
      thread.append(node);
    }
  }

  function kindOf(index, count, info, sentHistory) {
    const given = info.messages[index].kind;
    if (given) return given;
    if (index === 0 && info.messages[0].role === "system") return "system";
    if (index === count - 1) return "new";
    const kept = Math.max(0, sentHistory - (info.dropped_turns || 0));
    if (index >= count - 1 - kept) return "history";
    return "example";
  }

  function dlRow(key, label, value) {
    return [el("dt", {}, label), el("dd", { dataset: { debug: key } }, value)];
  }

  /** The debug panel of one preview turn, from the `debug` event. */
  function debugPanel(info, sentHistory) {
    const box = el("details", { className: "debug", open: true });
    box.append(el("summary", { className: "debug-summary" }, t("debug_title")));
    const params = Object.entries(info.params || {})
      .map(([k, v]) => k + " = " + v)
      .join(", ");
    const meta = el("dl", { className: "debug-meta" });
    meta.append(...dlRow("backend", t("debug_backend"), info.backend || "—"));
    meta.append(...dlRow("model", t("debug_model"), info.model || "—"));
    meta.append(...dlRow("params", t("debug_params"), params || t("debug_none")));
    if (info.safety) {
      // What the safety guard decided and why (rule id or classifier score), for an audit.
      const s = info.safety;
      const why = s.rule ? s.rule + (s.matched ? " «" + s.matched + "»" : "") : "score " + number(s.score || 0, 2);
      const summary = [s.level, s.kind, s.source, why, s.action].filter(Boolean).join(" · ");
      meta.append(...dlRow("safety", t("debug_safety_label"), summary));
    }
    if (info.guard) {
      meta.append(...dlRow("guard", t("debug_guard_label"), t("debug_guard")));
      box.append(meta);
      return box;
    }
    const used = info.prompt_tokens || 0;
    const windowSize = info.context_window || 0;
    const meter = el("meter", { className: "debug-meter", min: 0, max: windowSize || 1, value: used, high: Math.max(1, windowSize - (info.reply_reserve || 0)) });
    meta.append(
      ...dlRow(
        "context",
        t("debug_context"),
        el("span", {}, t("debug_context_value", { used: number(used, 0), window: number(windowSize, 0), reserve: number(info.reply_reserve, 0) })),
      )
    );
    meta.lastChild.append(meter);
    const left = [];
    if (info.dropped_turns) left.push(t("debug_dropped_turns", { n: info.dropped_turns }));
    if (info.dropped_examples) left.push(t("debug_dropped_examples", { n: info.dropped_examples }));
    meta.append(...dlRow("dropped", t("debug_dropped"), left.length ? left.join(" · ") : t("debug_nothing_dropped")));
    if (info.context_warning) meta.append(...dlRow("context-warning", t("debug_warning"), runs.contextWarning(info.context_warning)));
    if (info.knowledge) {
      // What the master's stored knowledge gave this turn: the passages used, with source and scores.
      const k = info.knowledge;
      const used = (k.used || []).map((c) => c.source + (c.position ? " · " + c.position : "") + " (" + c.score + ")");
      const summary = k.qa_first ? t("knowledge_qa_first", { score: k.qa_first.qa_score }) + ": " + k.qa_first.source
        : used.length ? used.join("; ") : t("knowledge_nothing");
      meta.append(...dlRow("knowledge", t("knowledge_title"), summary));
    }
    if (left.length) meta.lastChild.classList.add("is-warn");
    meta.append(...dlRow("timing", t("debug_timing"), t("debug_waiting")));
    box.append(meta);

    const list = el("ol", { className: "debug-messages" });
    const count = (info.messages || []).length;
    (info.messages || []).forEach((msg, i) => {
      const kind = kindOf(i, count, info, sentHistory);
      const share = windowSize ? Math.round((msg.tokens / windowSize) * 1000) / 10 : 0;
      list.append(
        el(
          "li",
          { className: "debug-message", dataset: { kind, role: msg.role } },
          el(
            "div",
            { className: "debug-message-head" },
            el("span", { className: "debug-role" }, msg.role),
            el("span", { className: "debug-kind" }, t("debug_kind_" + kind)),
            el("span", { className: "debug-tokens" }, t("debug_tokens", { n: msg.tokens, share: number(share, 1) }))
          ),
          el("pre", { className: "debug-content" }, msg.content)
        )
      );
    });
    if ((info.examples || []).length) {
      const examples = el("ol", { className: "debug-examples" });
      info.examples.forEach((ex) => {
        examples.append(
          el("li", { className: "debug-example" },
            el("pre", { className: "debug-content debug-example-user" }, ex.user),
            el("pre", { className: "debug-content debug-example-assistant" }, ex.assistant))
        );
      });
      box.append(el("p", { className: "debug-subtitle" }, t("debug_examples", { n: info.examples.length })), examples);
    }
    box.append(el("p", { className: "debug-subtitle" }, t("debug_messages", { n: count })), list);
    return box;
  }

  function setPreviewRunning(running) {
    preview.running = running;
    $("preview-send").hidden = running;
    $("preview-stop").hidden = !running;
    keepFocus(running ? $("preview-stop") : $("preview-input"));
  }

  async function sendPreview() {
    const input = $("preview-input");
    const content = input.value.trim();
    if (!content || preview.running) return;
    const thread = $("preview-thread");
    thread.querySelectorAll(".preview-notice").forEach((n) => n.remove());
    const master = runs.draftForRun(previewNotice);
    if (!master) return;
    const sentHistory = preview.history.length;
    const controller = new AbortController();
    preview.controller = controller;
    setPreviewRunning(true);
    const userNode = bubble("user", content);
    thread.append(userNode);
    thread.scrollTop = userNode.offsetTop - 8; // the new turn at the top: answer, then its debug panel
    input.value = "";
    let turn = null;
    let answerNode = null;
    let contentNode = null;
    let text = "";
    let panel = null;
    let ended = false;

    function onOpen() {
      ctx.fields.clearErrors();
      turn = el("div", { className: "preview-turn" });
      answerNode = bubble("assistant", "");
      answerNode.dataset.status = "streaming";
      turn.append(answerNode);
      thread.append(turn);
      contentNode = answerNode.querySelector(".msg-content");
    }

    function onEvent(event) {
      const data = event.data || {};
      if (event.event === "draft") {
        runs.incomplete(data.missing, (text) => turn.append(el("p", { className: "form-notice preview-notice" }, text)));
      } else if (event.event === "debug") {
        thread.querySelectorAll("details.debug[open]").forEach((d) => (d.open = false));
        panel = debugPanel(data, sentHistory);
        turn.append(panel);
      } else if (event.event === "delta") {
        text += data.text || "";
        contentNode.textContent = text;
      } else if (event.event === "done") {
        ended = true;
        text = typeof data.text === "string" ? data.text : text;
        contentNode.textContent = text;
        answerNode.dataset.status = "complete";
        if (panel) {
          const timing = panel.querySelector('[data-debug="timing"]');
          if (timing) timing.textContent = runs.usageLine(data.usage);
        }
        for (const note of data.notes || []) turn.append(el("p", { className: "msg-note" }, note));
      } else if (event.event === "error") {
        ended = true;
        answerNode.dataset.status = "error";
        turn.append(el("p", { className: "msg-note is-error" }, describeError(data.code, data.message)));
      }
    }

    try {
      await streamEvents("/api/builder/preview", { master, history: preview.history, content }, { signal: controller.signal, onOpen, onEvent });
    } catch (err) {
      userNode.remove();
      input.value = content;
      setPreviewRunning(false);
      preview.controller = null;
      runs.refused(err, previewNotice);
      return;
    }
    if (!ended) {
      answerNode.dataset.status = "stopped";
      turn.append(el("p", { className: "msg-note" }, controller.signal.aborted ? t("status_stopped") : t("err_connection_lost")));
    }
    if (answerNode.dataset.status === "complete" || (answerNode.dataset.status === "stopped" && text)) {
      preview.history.push({ role: "user", content }, { role: "assistant", content: text });
    }
    preview.controller = null;
    setPreviewRunning(false);
  }

  function stop() {
    if (preview.controller) preview.controller.abort();
  }

  return { sendPreview, resetPreview, stop, isRunning: () => preview.running };
}
