/* MasterHall — the builder's one-click test: every conversation starter of the form's master
 * answered at once (POST /api/builder/test, SSE), each in its own card. `createTestRun(ctx, runs)`
 * returns {runTest, stop}.
 */

import { $, el, keepFocus } from "../lib/dom.js";
import { t } from "../lib/i18n.js";
import { streamEvents } from "../lib/stream.js";

export function createTestRun(ctx, runs) {
  const test = { controller: null, running: false };

  function testNotice(text) {
    const node = $("test-notice");
    node.textContent = text || "";
    node.hidden = !text;
    node.classList.toggle("is-error", !!text);
  }

  function setTestRunning(running) {
    test.running = running;
    $("run-test").hidden = running;
    $("stop-test").hidden = !running;
    keepFocus(running ? $("stop-test") : $("run-test"));
  }

  function testCard(item) {
    return el(
      "article",
      { className: "test-card", dataset: { index: String(item.index), lang: item.lang, status: "waiting", probe: item.probe ? "leak" : "" } },
      el(
        "header",
        { className: "test-card-head" },
        el("span", { className: "lang-badge" }, t("lang_" + item.lang)),
        el("span", { className: "test-starter" }, item.text)
      ),
      el("div", { className: "test-answer", attrs: { "aria-live": "off" } }),
      el("p", { className: "test-usage" })
    );
  }

  async function runTest() {
    if (test.running) return;
    testNotice("");
    const master = runs.draftForRun(testNotice);
    if (!master) return;
    const langs = Array.from(document.querySelectorAll(".test-lang:checked")).map((n) => n.value);
    if (!langs.length) {
      testNotice(t("test_pick_lang"));
      return;
    }
    const grid = $("test-grid");
    const controller = new AbortController();
    test.controller = controller;
    setTestRunning(true);
    const cards = new Map();

    function onEvent(event) {
      const data = event.data || {};
      if (event.event === "draft") {
        runs.incomplete(data.missing, (text) => {
          testNotice(text);
          $("test-notice").classList.remove("is-error");
        });
        return;
      }
      if (event.event === "starters") {
        if (data.context_warning) testNotice(runs.contextWarning(data.context_warning));
        for (const item of data.starters || []) {
          const card = testCard(item);
          card._text = "";
          cards.set(item.index, card);
          grid.append(card);
        }
        return;
      }
      const card = cards.get(data.index);
      if (!card) return;
      const answer = card.querySelector(".test-answer");
      if (event.event === "delta") {
        card._text += data.text || "";
        card.dataset.status = "streaming";
        answer.textContent = card._text;
      } else if (event.event === "done") {
        card._text = typeof data.text === "string" ? data.text : card._text;
        answer.textContent = card._text;
        card.dataset.status = "complete";
        card.querySelector(".test-usage").textContent = runs.usageLine(data.usage);
      } else if (event.event === "error") {
        card.dataset.status = "error";
        card.querySelector(".test-usage").textContent = t("err_generic", { message: data.message || "" });
      }
    }

    function onOpen() {
      ctx.fields.clearErrors();
      grid.replaceChildren();
    }

    try {
      await streamEvents("/api/builder/test", { master, langs }, { signal: controller.signal, onOpen, onEvent });
    } catch (err) {
      setTestRunning(false);
      runs.refused(err, testNotice);
      return;
    }
    /* stopped, or the connection broke: the cards still running are marked */
    for (const card of cards.values()) {
      if (card.dataset.status === "waiting" || card.dataset.status === "streaming") {
        card.dataset.status = "stopped";
        card.querySelector(".test-usage").textContent = controller.signal.aborted ? t("status_stopped") : t("err_connection_lost");
      }
    }
    test.controller = null;
    setTestRunning(false);
  }

  function stop() {
    if (test.controller) test.controller.abort();
  }

  return { runTest, stop };
}
