/* MasterHall — @-mentions in the chat's composer: "@" and a few letters of a master's name (in
 * either language, or its id) list the matching masters; ↑/↓ choose, Enter, Tab or a click puts
 * "@Name " into the text, Escape closes the list. The server reads the mention (a master who is
 * not at the table joins it); see conversations/chair.py.
 *
 *   Mentions({ input, list, masters })   // masters: {id: {name, names: [en, zh], avatar, guide}}
 *
 * Call it before bindEnter() so that Enter picks a master instead of sending while the list is open.
 */

import { fillAvatar } from "../lib/avatar.js";
import { el } from "../lib/dom.js";

// "@" at the start, after a space or punctuation, or right after Chinese text ("请问@苏格"), but
// not inside a word or an e-mail address ("me@example"); a full-width "＠" anywhere: as the
// server reads mentions (chair.py).
const MENTION = /(?:(?:^|[^\w.+-])@|＠)([^\s@＠]{0,24})$/;
const MAX_OPTIONS = 6;

export function Mentions({ input, list, masters }) {
  const entries = Object.entries(masters || {}).filter(([, m]) => !m.guide);
  let options = [];
  let active = 0;

  function query() {
    const before = input.value.slice(0, input.selectionStart);
    const match = MENTION.exec(before);
    return match ? { text: match[1].toLowerCase(), start: before.length - match[1].length - 1 } : null;
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    input.removeAttribute("aria-activedescendant");
  }

  function render() {
    list.replaceChildren(
      ...options.map(([id, m], i) =>
        el(
          "li",
          {
            id: "mention-" + id,
            className: "mention-option",
            dataset: { id },
            attrs: { role: "option", "aria-selected": String(i === active) },
            onmousedown: (event) => {
              event.preventDefault();
              pick(i);
            },
          },
          fillAvatar(el("span", { className: "avatar", attrs: { "aria-hidden": "true" } }), m),
          el("span", { className: "mention-name" }, m.name),
          el("span", { className: "mention-other" }, (m.names || []).filter((n) => n !== m.name).join(" · "))
        )
      )
    );
    list.hidden = !options.length;
    if (options.length) input.setAttribute("aria-activedescendant", "mention-" + options[active][0]);
    else input.removeAttribute("aria-activedescendant");
  }

  function update() {
    const q = query();
    if (!q) {
      close();
      return;
    }
    const starts = [];
    const contains = [];
    for (const entry of entries) {
      const [id, m] = entry;
      const names = [id, m.name, ...(m.names || [])].map((n) => String(n).toLowerCase());
      if (names.some((n) => n.startsWith(q.text))) starts.push(entry);
      else if (names.some((n) => n.includes(q.text))) contains.push(entry);
    }
    options = starts.concat(contains).slice(0, MAX_OPTIONS);
    active = 0;
    render();
  }

  function pick(index) {
    const q = query();
    const chosen = options[index];
    if (!q || !chosen) return close();
    const name = chosen[1].name;
    const after = input.value.slice(input.selectionStart);
    input.value = input.value.slice(0, q.start) + "@" + name + " " + after.replace(/^\s+/, "");
    const caret = q.start + name.length + 2;
    input.setSelectionRange(caret, caret);
    close();
    input.focus();
    input.dispatchEvent(new Event("input"));
  }

  input.addEventListener("input", update);
  input.addEventListener("keydown", (event) => {
    if (list.hidden || !options.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      render();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.isComposing && !event.shiftKey) {
      pick(active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return { close };
}
