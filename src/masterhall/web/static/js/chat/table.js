/* MasterHall — the members bar of a round table: who sits at the table (avatar, name, a button
 * to ask them to leave), a list to seat another master mid-conversation, and "Sum up" (asks the
 * chair for a closing synthesis). Changes to a stored conversation go to
 * PUT /api/conversations/{id}/members; before the first message they only change what the page
 * will send (`master_ids`). Who joins or leaves is announced (the page's live region); the focus
 * stays in the bar: on the next chip's ✕ after one leaves (the list to seat another when no one
 * more may leave).
 *
 *   const table = Table(view, { bar, list, select, add, sumUp, masters, onSumUp });
 *   table.show(["socrates", "laozi"]);   // or null: no round table (the bar is hidden)
 */

import { api, describeError } from "../lib/api.js";
import { fillAvatar } from "../lib/avatar.js";
import { el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

export function Table(view, { bar, list, select, add, sumUp, masters, onSumUp }) {
  const { state } = view;

  function render() {
    const members = state.members || [];
    bar.hidden = !state.members;
    list.replaceChildren(
      ...members.map((id) => {
        const m = masters[id] || { name: id };
        return el(
          "li",
          { className: "member-chip", dataset: { id } },
          fillAvatar(el("span", { className: "avatar", attrs: { "aria-hidden": "true" } }), m),
          el("span", { className: "member-name" }, m.name),
          el("button", {
            type: "button", className: "member-remove", title: t("round_table_remove", { name: m.name }),
            attrs: { "aria-label": t("round_table_remove", { name: m.name }) },
            disabled: members.length <= 2 || state.busy,
            onclick: () => change(members.filter((x) => x !== id), members.indexOf(id)),
          }, "✕")
        );
      })
    );
    const seated = new Set(members);
    const choices = Object.entries(masters)
      .filter(([id, m]) => !m.guide && !seated.has(id))
      .sort((a, b) => a[1].name.localeCompare(b[1].name));
    select.replaceChildren(select.options[0] || el("option", { value: "" }, t("round_table_add")),
      ...choices.map(([id, m]) => el("option", { value: id }, m.name)));
    select.value = "";
    // the round table's heading: the avatars of who sits there (and their names until the
    // conversation has a title of its own)
    if (members.length > 1) tableHeading();
    const avatars = document.querySelector(".table-avatars");
    if (avatars && members.length) {
      avatars.replaceChildren(...members.slice(0, 4).map((id) =>
        fillAvatar(el("span", { className: "avatar", attrs: { "aria-hidden": "true" } }), masters[id] || {})));
      const title = document.getElementById("chat-title");
      if (title && !state.conversationId) title.textContent = members.map((id) => (masters[id] || { name: id }).name).join(" · ");
    }
    add.disabled = state.busy || members.length >= 8;
    sumUp.disabled = state.busy || !state.conversationId;
  }

  /** Seat `members`; `removedAt`: the place of the chip whose ✕ was pressed (its focus moves on). */
  /** A chat that became a round table (a master @-mentioned in) gets the table's heading and
   *  placeholder, as its page shows them after a reload (the title's node is kept). */
  function tableHeading() {
    const heading = document.querySelector(".chat-heading");
    const title = document.getElementById("chat-title");
    if (!heading || !title || heading.querySelector(".table-avatars")) return;
    heading.replaceChildren(el("span", { className: "chat-master table-heading" },
      el("span", { className: "table-avatars", attrs: { "aria-hidden": "true" } }),
      el("span", { className: "chat-master-text" }, el("span", { className: "chat-master-name" }, t("round_table")), title)));
    view.input.placeholder = t("round_table_placeholder");
  }

  async function change(members, removedAt) {
    if (state.busy) return;
    const before = state.members || [];
    if (state.conversationId) {
      try {
        const conversation = await api("/api/conversations/" + encodeURIComponent(state.conversationId) + "/members", {
          method: "PUT", body: { master_ids: members },
        });
        members = conversation.members || null; // one master left: a plain chat again
      } catch (err) {
        view.showNotice(describeError(err.code, err.message), "error");
        return;
      }
    }
    state.members = members;
    render();
    const now = members || [];
    const name = (id) => (masters[id] || { name: id }).name;
    for (const id of now.filter((x) => !before.includes(x))) view.announce(t("round_table_joined", { name: name(id) }));
    for (const id of before.filter((x) => !now.includes(x))) view.announce(t("round_table_left", { name: name(id) }));
    if (removedAt !== undefined) {
      const buttons = Array.from(list.querySelectorAll(".member-remove:not(:disabled)"));
      (buttons[Math.min(removedAt, buttons.length - 1)] || select).focus();
    }
  }

  add.addEventListener("click", () => {
    if (select.value) change([...(state.members || []), select.value]);
  });
  sumUp.addEventListener("click", () => onSumUp());

  return {
    show(members) {
      state.members = members && members.length ? members.slice() : null;
      render();
    },
    render,
  };
}
