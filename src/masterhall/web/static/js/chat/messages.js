/* MasterHall — message bubbles of the chat page.
 *
 * A message is `{id, role, content, html, status, error, finish_reason, notes, cards, citations}`.
 * `citations` (the sources of the master's knowledge it drew on) show under it. An answer
 * that stopped at the token limit (finish_reason "length") says so under it, with a Continue
 * button (data-action="continue"); one the hall ended because it repeated itself ("loop") says
 * that. `notes` (what the hall left out of the prompt to fit the context window) show in a small
 * note above the answer. `cards` (the master-finder's answers only) are the recommended masters,
 * real ones only, shown under the answer: avatar, name, one-line reason and a "talk to" link; or
 * "no master fits" with a link to create one. User text and streaming model text are set with
 * textContent; only `html` that the server produced (Markdown rendered, then sanitized by nh3) is
 * ever assigned as HTML.
 */

import { describeError } from "../lib/api.js";
import { fillAvatar } from "../lib/avatar.js";
import { el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

function noteText(message) {
  if (message.status === "stopped") {
    const reason = message.error || "";
    return reason && !/user|client/i.test(reason) ? t("status_interrupted", { reason }) : t("status_stopped");
  }
  if (message.status === "error") return describeError(message.code, message.error || message.message || "");
  if (message.status === "streaming" && message.restored) return t("status_generating");
  if (message.role === "assistant" && message.finish_reason === "loop") return t("status_loop");
  return "";
}

/** Whether `message` is an answer cut at the token limit (it can be continued). */
export function isCut(message) {
  return message.role === "assistant" && message.status === "complete" && message.finish_reason === "length";
}

function actionButton(action, label) {
  return el("button", { type: "button", className: "msg-action", dataset: { action }, title: label }, label);
}

/** Build the element of one message (`master` gives the assistant's avatar and name). */
export function create(message, master) {
  const isUser = message.role === "user";
  const content = el("div", { className: "msg-content" });
  const note = el("p", { className: "msg-note", hidden: true }); // announced through the page's live region
  const context = el("p", { className: "msg-context", hidden: true });
  const cut = el(
    "p",
    { className: "msg-cut", hidden: true },
    el("span", { className: "msg-cut-text" }, t("status_length")),
    " ",
    el("button", { type: "button", className: "msg-continue", dataset: { action: "continue" } }, t("continue_answer"))
  );
  const actions = el("div", { className: "msg-actions" }, actionButton("copy", t("copy")));
  if (isUser) actions.append(actionButton("edit", t("edit")));
  else actions.append(actionButton("regenerate", t("regenerate")));
  const node = el(
    "article",
    { className: "msg " + (isUser ? "msg-user" : "msg-assistant"), dataset: { role: message.role } },
    isUser
      ? el("div", { className: "msg-avatar", attrs: { "aria-hidden": "true" } }, "🙂")
      : fillAvatar(el("div", { className: "msg-avatar", attrs: { "aria-hidden": "true" } }), master),
    el(
      "div",
      { className: "msg-main" },
      el("div", { className: "msg-meta" }, el("span", { className: "msg-who" }, isUser ? t("you") : master.name)),
      context,
      content,
      note,
      cut,
      actions
    )
  );
  update(node, message);
  return node;
}

/** Show `message` in `node`: rendered HTML when final, plain text otherwise, plus its note. */
export function update(node, message) {
  const content = node.querySelector(".msg-content");
  if (message.id !== undefined && message.id !== null) node.dataset.id = String(message.id);
  node.dataset.status = message.status || "complete";
  node._raw = message.content || "";
  node._message = message;
  if (message.role === "assistant" && typeof message.html === "string" && message.status !== "streaming") {
    content.classList.add("markdown");
    content.classList.remove("plain");
    content.innerHTML = message.html; // sanitized by the server (render.py)
  } else {
    content.classList.add("plain");
    content.classList.remove("markdown");
    content.textContent = message.content || "";
  }
  showCards(node, message.cards);
  showCitations(node, message.citations);
  const waiting = message.role === "assistant" && message.status === "streaming" && !message.content;
  node.classList.toggle("is-waiting", waiting);
  if (waiting && !message.restored) content.append(typingDots());
  setNote(node, noteText(message), message.status === "error" ? "error" : "info");
  const cut = node.querySelector(".msg-cut");
  if (cut) cut.hidden = !isCut(message);
  if (isCut(message)) node.dataset.finish = "length";
  else delete node.dataset.finish;
  if (message.notes) setContext(node, message.notes);
}

const DROPPED = /^(\d+) earlier message\(s\) left out to fit the context window$/;

/** Show the earlier messages the hall left out of the prompt to fit the context window, from
 *  its `notes` (a list of strings; the other notes are for the builder's debug view), above the
 *  answer, in the page's language. */
export function setContext(node, notes) {
  const context = node.querySelector(".msg-context");
  if (!context) return;
  const dropped = (notes || []).map((note) => DROPPED.exec(note)).find(Boolean);
  const text = dropped ? t("note_history_dropped", { n: dropped[1] }) : "";
  context.textContent = text;
  context.hidden = !text;
}

/** The sources an answer drew on, under it: file name or Q&A title, position and a short
 *  snippet each (text only; nothing links to the files, which stay private). */
function showCitations(node, citations) {
  const old = node.querySelector(".msg-citations");
  if (old) old.remove();
  if (!Array.isArray(citations) || !citations.length) return;
  const list = el("ol", { className: "citation-list" });
  for (const c of citations) {
    const where = [c.kind === "qa" ? t("citation_qa") : c.kind === "lore" ? t("citation_lore") : null, c.position]
      .filter(Boolean).join(" · ");
    list.append(el("li", { className: "citation", dataset: { kind: c.kind || "file" } },
      el("span", { className: "citation-n" }, "[" + (c.n || "") + "] "),
      el("span", { className: "citation-source" }, c.source || ""),
      where ? el("span", { className: "citation-where" }, " — " + where) : null,
      c.snippet ? el("q", { className: "citation-snippet" }, c.snippet) : null));
  }
  const box = el("aside", { className: "msg-citations", attrs: { "aria-label": t("citations_label") } },
    el("p", { className: "citations-title" }, t("citations_label")), list);
  node.querySelector(".msg-content").after(box);
}

/** Only the hall's own paths are used as card links. */
function samePath(url) {
  return typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : null;
}

/** The guide's recommendations under its answer (replacing any shown before). */
function showCards(node, cards) {
  const old = node.querySelector(".guide-cards");
  if (old) old.remove();
  if (!cards) return;
  let box;
  if (cards.no_fit) {
    const create = samePath(cards.create_url);
    box = el(
      "div",
      { className: "guide-cards is-nofit" },
      el("p", { className: "guide-nofit" }, t("finder_no_fit")),
      create ? el("a", { className: "button button-primary guide-create", href: create }, t("finder_create")) : null
    );
  } else {
    box = el("div", { className: "guide-cards" });
    for (const m of cards.matches || []) {
      const url = samePath(m.url);
      if (!url) continue;
      box.append(
        el(
          "div",
          { className: "guide-card" + (m.strength === "weak" ? " is-weak" : ""), dataset: { id: m.id } },
          fillAvatar(el("span", { className: "avatar", attrs: { "aria-hidden": "true" } }), m),
          el("span", { className: "guide-card-text" }, el("span", { className: "card-name" }, m.name),
            el("span", { className: "finder-reason" }, m.reason)),
          el("a", { className: "button guide-talk", href: url }, t("finder_talk"))
        )
      );
    }
    if (!box.children.length) return;
  }
  node.querySelector(".msg-content").after(box);
}

function typingDots() {
  return el(
    "span",
    { className: "typing", attrs: { role: "img", "aria-label": t("thinking") } },
    el("span"),
    el("span"),
    el("span")
  );
}

/** Streaming: show `text` as plain text (never parsed as HTML). */
export function setStreamingText(node, text) {
  const content = node.querySelector(".msg-content");
  node.classList.remove("is-waiting");
  node._raw = text;
  content.textContent = text;
}

/** Set (or clear, with an empty text) the note under a message; `kind` is info or error. */
export function setNote(node, text, kind) {
  const note = node.querySelector(".msg-note");
  if (!note) return;
  note.textContent = text || "";
  note.hidden = !text;
  note.classList.toggle("is-error", kind === "error");
}

/** The raw text of a message, for Copy. */
export function rawText(node) {
  return node._raw !== undefined ? node._raw : node.querySelector(".msg-content").textContent;
}

/** Show `master` (avatar and name) as the speaker of an answer: a round table's replies. */
export function setSpeaker(node, master) {
  const avatar = node.querySelector(".msg-avatar");
  if (avatar) fillAvatar(avatar, master);
  const who = node.querySelector(".msg-who");
  if (who && master) who.textContent = master.name;
  if (master && master.id) node.dataset.master = master.id;
}
