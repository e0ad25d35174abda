/* MasterHall — the hall page: filter the master cards as you type.
 *
 * Every card carries `data-search` (names, taglines and tags in both languages, lower case);
 * a card shows when it contains every word typed. Categories with no visible card are hidden.
 *
 * Finder hook: when the server has a ranking endpoint (GET /api/match?q=&k=), the template
 * puts its URL in the search form's `data-match-url` and the hall shows its picks above the
 * cards, each with its one-line reason and a "talk to this master" button that opens the chat
 * with the need as the first message. Expected answer: a JSON list, best first, of
 * `{"id" or "master_id", "reason"?, "strength"?}`, or an object holding that list under `matches`
 * or `results`. Matches whose `strength` is null are not recommendations and are not shown; weak
 * ones are marked (their reason is already hedged). When the object says `no_fit`, the hall says
 * no master fits and links to `create_url` (the builder, prefilled with the need).
 * While the Finder's index is first built (`index: "building"`) its picks come from names and
 * keywords only, and the hall says so. The count line counts what is shown: the cards that hold
 * the words and, when there are picks, the picks too.
 * `window.MasterHall.hall.match(query)` can also be replaced by a script of its own: it must
 * resolve to such a list (or to plain master ids); a list with `noFit` set shows the no-fit box.
 */

import { api } from "./lib/api.js";
import { lang, t } from "./lib/i18n.js";

const MH = (window.MasterHall = window.MasterHall || {});

function words(query) {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

function setup() {
  const form = document.getElementById("hall-search");
  const input = document.getElementById("search-input");
  if (!form || !input) return;
  const clear = document.getElementById("search-clear");
  const status = document.getElementById("search-status");
  const none = document.getElementById("search-none");
  const sections = Array.from(document.querySelectorAll("section.category"));
  const cards = Array.from(document.querySelectorAll("section.category .master-card"));
  const finderBox = document.getElementById("finder-results");
  const finderGrid = document.getElementById("finder-grid");
  const finderTitle = document.getElementById("finder-title");
  const finderNoFit = document.getElementById("finder-nofit");
  const finderCreate = document.getElementById("finder-create");
  const finderIndexing = document.getElementById("finder-indexing");
  const total = cards.length;
  let shownCards = 0;
  let matchTimer = null;
  let matchSeq = 0;

  /** Show only the cards that contain every word of `query`; returns how many are shown. */
  function filter(query) {
    const terms = words(query);
    let shown = 0;
    for (const card of cards) {
      const haystack = card.dataset.search || "";
      const visible = terms.every((term) => haystack.includes(term));
      card.hidden = !visible;
      if (visible) shown += 1;
    }
    for (const section of sections) {
      section.hidden = !section.querySelector(".master-card:not([hidden])");
      const chip = document.querySelector('[data-category-link="' + section.dataset.category + '"]');
      if (chip) chip.hidden = section.hidden;
    }
    const q = query.trim();
    clear.hidden = !q;
    shownCards = shown;
    none.hidden = !q || shown > 0 || !finderBox.hidden;
    none.textContent = q && shown === 0 ? t("search_none", { q }) : "";
    showStatus();
    return shown;
  }

  /** The count line says what is shown: the cards that contain the words and, when the Finder
   *  shows picks, how many it suggests (so "0 found" never sits above three picks). */
  function showStatus() {
    const q = input.value.trim();
    const picks = finderBox.hidden ? 0 : finderGrid.children.length;
    if (!q) status.textContent = "";
    else if (picks) status.textContent = t("search_count_picks", { p: picks, n: shownCards, total });
    else status.textContent = t("search_count", { n: shownCards, total });
  }

  /** The default matcher: ask the Finder endpoint, if the server has one. */
  async function remoteMatch(query) {
    const url = form.dataset.matchUrl;
    if (!url) return [];
    const params = new URLSearchParams({ q: query, k: "3", lang: lang || "" });
    const body = await api(url + "?" + params.toString());
    const list = Array.isArray(body) ? body : (body && (body.matches || body.results)) || [];
    const picks = list
      .map((item) =>
        typeof item === "string"
          ? { id: item }
          : item && { id: item.id || item.master_id, reason: item.reason, strength: item.strength }
      )
      .filter((item) => item && item.id && item.strength !== null);
    picks.indexing = !!(body && body.index === "building");
    if (body && body.no_fit) {
      picks.length = 0;
      picks.noFit = true;
      picks.createUrl = body.create_url;
    }
    return picks;
  }

  /** Show the Finder's picks: the master's card, its one-line reason, and a button that opens
   *  a chat with the need already sent as the first message. */
  function showMatches(items, query) {
    finderGrid.replaceChildren();
    const noFit = !!(items && items.noFit && query);
    finderNoFit.hidden = !noFit;
    if (noFit) {
      const target = typeof items.createUrl === "string" && /^\/(?!\/)/.test(items.createUrl) ? items.createUrl : null;
      finderCreate.href = target || "/builder/new?" + new URLSearchParams({ need: query }).toString();
    }
    for (const raw of items) {
      const item = typeof raw === "string" ? { id: raw } : raw;
      const card = cards.find((c) => c.dataset.id === item.id);
      if (!card) continue;
      const pick = document.createElement("div");
      pick.className = "finder-pick" + (item.strength === "weak" ? " is-weak" : "");
      pick.dataset.id = item.id;
      const copy = card.cloneNode(true);
      copy.hidden = false;
      copy.classList.add("is-pick");
      copy.removeAttribute("data-search");
      pick.append(copy);
      if (item.reason) {
        const reason = document.createElement("p");
        reason.className = "finder-reason";
        reason.textContent = item.reason;
        pick.append(reason);
      }
      if (query) {
        const talk = document.createElement("a");
        talk.className = "button button-primary finder-talk";
        talk.href = "/masters/" + encodeURIComponent(item.id) + "/chat?" + new URLSearchParams({ q: query }).toString();
        talk.textContent = t("finder_talk");
        pick.append(talk);
      }
      finderGrid.append(pick);
    }
    const together = document.getElementById("finder-together");
    const picked = Array.from(finderGrid.children).slice(0, 4).map((p) => p.dataset.id);
    if (together) {
      together.hidden = !query || picked.length < 2;
      together.href = "/roundtable?" + new URLSearchParams({ masters: picked.join(","), q: query || "" }).toString();
    }
    finderTitle.hidden = noFit;
    if (finderIndexing) finderIndexing.hidden = !(items && items.indexing) || finderGrid.children.length === 0;
    finderBox.hidden = finderGrid.children.length === 0 && !noFit;
    if (!finderBox.hidden) none.hidden = true;  // the Finder answered: no "no match" line
    else none.hidden = !input.value.trim() || shownCards > 0;
    showStatus();
  }

  /** Worth asking the Finder: two Chinese characters, or a word of four letters or more. */
  function describesANeed(query) {
    const q = query.trim();
    return /[\u3400-\u9fff].*[\u3400-\u9fff]/.test(q) || q.replace(/[^\p{L}]/gu, "").length >= 4;
  }

  function scheduleMatch(query) {
    clearTimeout(matchTimer);
    const seq = ++matchSeq;
    if (!describesANeed(query) || (!form.dataset.matchUrl && MH.hall.match === remoteMatch)) {
      showMatches([]);
      return;
    }
    matchTimer = setTimeout(async () => {
      try {
        const picks = await MH.hall.match(query.trim());
        if (seq === matchSeq) showMatches(picks || [], query.trim());
      } catch (err) {
        if (seq === matchSeq) showMatches([]);
      }
    }, 300);
  }

  function update() {
    filter(input.value);
    scheduleMatch(input.value);
  }

  MH.hall = { filter, match: remoteMatch, showMatches };
  input.addEventListener("input", update);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    update();
  });
  clear.addEventListener("click", () => {
    input.value = "";
    update();
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && input.value) {
      input.value = "";
      update();
    }
  });
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input, textarea, [contenteditable]");
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
    }
  });
  tablePicker();
  const initial = new URLSearchParams(location.search).get("q");
  if (initial) input.value = initial;
  if (input.value) update();
}

const TABLE_MIN = 2;
const TABLE_MAX = 4;

/** The round-table picker: 2 to 4 masters ticked start a round table (the form goes to
 *  /roundtable). The hint under the button says why it cannot start yet (fewer than two) and
 *  why no fifth box can be ticked; the masters are seated in the order they were ticked. Without
 *  the script the form is sent as it is (too few or too many: the server's page says so). */
function tablePicker() {
  const form = document.getElementById("table-form");
  if (!form) return;
  const start = document.getElementById("table-start");
  const hint = document.getElementById("table-hint");
  const boxes = Array.from(form.querySelectorAll('input[name="masters"]'));
  let ticked = []; // in the order they were ticked: the table seats them so
  const sync = () => {
    ticked = ticked.filter((id) => boxes.some((b) => b.checked && b.value === id));
    for (const box of boxes) if (box.checked && !ticked.includes(box.value)) ticked.push(box.value);
    const n = boxes.filter((b) => b.checked).length;
    start.disabled = n < TABLE_MIN || n > TABLE_MAX;
    start.textContent = start.dataset.label.replace("{n}", String(n));
    for (const box of boxes) box.disabled = !box.checked && n >= TABLE_MAX;
    if (hint) {
      hint.textContent = n === 0 ? t("round_table_pick_min") : n < TABLE_MIN ? t("round_table_pick_more")
        : n >= TABLE_MAX ? t("round_table_pick_max") : "";
    }
  };
  const details = document.getElementById("table-picker");
  if (details && location.hash === "#table-picker") details.open = true; // "pick masters in the hall"
  form.addEventListener("change", sync);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!start.disabled) location.assign(form.action + "?" + new URLSearchParams({ masters: ticked.join(",") }).toString());
  });
  sync();
}

setup();
