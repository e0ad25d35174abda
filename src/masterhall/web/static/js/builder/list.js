/* MasterHall — "My masters" (/builder): your drafts and published masters with their actions
 * (edit, publish / unpublish, view in the hall, export, delete), and the import form.
 *
 * The list comes from <script id="mh-page"> and is reloaded from GET /api/builder/masters after
 * each change. Names, taglines and import reports are only ever put into the page as text.
 */

import { api } from "../lib/api.js";
import { fillAvatar } from "../lib/avatar.js";
import { $, el, readJSON } from "../lib/dom.js";
import { confirmAction } from "../lib/confirm.js";
import { t } from "../lib/i18n.js";

function setup() {
  const page = readJSON("mh-page", null);
  const list = $("um-list");
  if (!page || !list) return;
  const lang = page.lang === "zh" ? "zh" : "en";

  function notice(text) {
    const node = $("list-notice");
    node.textContent = text || "";
    node.hidden = !text;
  }

  function exportMenu(id) {
    const panel = el("div", { className: "menu-panel" });
    for (const format of page.export_formats) {
      panel.append(
        el(
          "a",
          { download: "", href: "/api/masters/" + encodeURIComponent(id) + "/export?format=" + encodeURIComponent(format), dataset: { format } },
          t("export_format_" + format.replace("-", "_"))
        )
      );
    }
    return el("details", { className: "menu export-menu" }, el("summary", { className: "button button-ghost button-sm" }, t("export")), panel);
  }

  function button(action, label, primary) {
    return el("button", { type: "button", className: "button button-sm " + (primary ? "button-primary" : "button-ghost"), dataset: { action } }, label);
  }

  function item(um) {
    const m = um.master;
    const published = um.status === "published";
    const href = "/builder/" + encodeURIComponent(m.id);
    const actions = el(
      "div",
      { className: "um-actions" },
      el("a", { className: "button button-sm button-ghost", href, dataset: { action: "edit" } }, t("edit")),
      published ? button("unpublish", t("unpublish")) : button("publish", t("publish"), true),
      published ? el("a", { className: "button button-sm button-ghost", href: "/masters/" + encodeURIComponent(m.id), dataset: { action: "view" } }, t("view_in_hall")) : null,
      exportMenu(m.id),
      button("delete", t("delete"))
    );
    const meta = [el("code", { className: "um-id" }, m.id)];
    if (um.forked_from) meta.push(el("span", {}, t("forked_from", { id: um.forked_from })));
    const node = el(
      "li",
      { className: "um-item", dataset: { id: m.id, status: um.status } },
      fillAvatar(el("span", { className: "avatar", attrs: { "aria-hidden": "true" } }), m),
      el(
        "div",
        { className: "um-text" },
        el("a", { className: "um-name", href }, (m.name && m.name[lang]) || m.id),
        el("span", { className: "um-tagline" }, (m.tagline && m.tagline[lang]) || ""),
        el("span", { className: "um-meta" }, ...meta)
      ),
      el("span", { className: "status-badge", dataset: { status: um.status } }, t("status_" + um.status)),
      actions
    );
    return node;
  }

  function render(masters) {
    list.replaceChildren(...masters.map(item));
    $("um-empty").hidden = masters.length > 0;
    $("um-count").textContent = masters.length ? t("builder_count", { n: masters.length }) : "";
  }

  async function refresh() {
    try {
      render(await api("/api/builder/masters"));
    } catch (err) {
      notice(err.message);
    }
  }

  async function act(node, action, target) {
    const id = node.dataset.id;
    const path = "/api/builder/masters/" + encodeURIComponent(id);
    if (action === "delete") {
      const name = node.querySelector(".um-name").textContent;
      if (!(await confirmAction(t("confirm_delete_master", { name }), t("delete")))) return;
    }
    const next = node.nextElementSibling && node.nextElementSibling.dataset.id;
    notice("");
    target.disabled = true;
    try {
      if (action === "delete") await api(path, { method: "DELETE" });
      else await api(path + "/" + action, { method: "POST" });
    } catch (err) {
      notice(err.message);
    }
    await refresh();
    refocus(id, action, next);
  }

  /** After the list was drawn again, focus never drops to the page: the same action of the same
   *  master, else its counterpart (publish ↔ unpublish), else the next master, else "New master". */
  function refocus(id, action, next) {
    const counterpart = { publish: "unpublish", unpublish: "publish" }[action];
    const item = list.querySelector('.um-item[data-id="' + CSS.escape(id) + '"]');
    const nextItem = next && list.querySelector('.um-item[data-id="' + CSS.escape(next) + '"]');
    const target =
      (item && (item.querySelector('[data-action="' + action + '"]') || item.querySelector('[data-action="' + counterpart + '"]'))) ||
      (nextItem && nextItem.querySelector(".um-name")) ||
      list.querySelector(".um-name") ||
      $("new-master");
    if (target) target.focus();
  }

  list.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (!target) return;
    act(target.closest(".um-item"), target.dataset.action, target);
  });
  document.addEventListener("click", (event) => {
    for (const menu of list.querySelectorAll("details.export-menu[open]")) if (!menu.contains(event.target)) menu.open = false;
  });

  /* ---- import ---------------------------------------------------------------------------- */

  const form = $("import-form");
  const result = $("import-result");

  function showResult(kind, title, items, notes, warnings) {
    result.className = "import-result is-" + kind;
    const children = [el("p", { className: "import-result-title" }, title)];
    if (items && items.length) children.push(el("ul", { className: "import-result-list" }, ...items));
    if (warnings && warnings.length) {
      children.push(el("p", { className: "import-warnings-title" }, t("import_warnings", { n: warnings.length })));
      children.push(el("ul", { className: "import-warnings" }, ...warnings.map((w) => el("li", {}, w))));
    }
    if (notes && notes.length) children.push(el("ul", { className: "import-notes" }, ...notes.map((n) => el("li", {}, n))));
    result.replaceChildren(...children);
    result.hidden = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("import-file").files[0];
    if (!file) {
      showResult("error", t("import_no_file"));
      return;
    }
    const params = new URLSearchParams({
      format: $("import-format").value,
      publish: String($("import-publish").checked),
      dry_run: String($("import-dry-run").checked),
    });
    if ($("import-category").value) params.set("category", $("import-category").value);
    const data = new FormData();
    data.append("file", file, file.name);
    const submit = $("import-submit");
    submit.disabled = true;
    result.hidden = true;
    let response;
    let body = null;
    try {
      response = await fetch("/api/builder/import?" + params.toString(), { method: "POST", body: data, headers: { Accept: "application/json" } });
      body = await response.json().catch(() => null);
    } catch (err) {
      submit.disabled = false;
      showResult("error", t("err_network"));
      return;
    }
    submit.disabled = false;
    if (response.ok && body) {
      const dry = $("import-dry-run").checked;
      const ids = body.masters || [];
      const items = ids.map((id) =>
        el("li", { dataset: { id } }, dry ? el("code", {}, id) : el("a", { href: "/builder/" + encodeURIComponent(id) }, id))
      );
      const title = dry
        ? t("import_checked", { n: ids.length, format: body.format })
        : t($("import-publish").checked ? "import_done_published" : "import_done", { n: ids.length, format: body.format });
      showResult("ok", title, items, body.notes, body.warnings);
      if (!dry) {
        form.reset();
        refresh();
      }
      return;
    }
    const error = (body && body.error) || {};
    if (error.code === "rejected_records") {
      const items = (error.rejected || []).map((r) => el("li", { className: "import-rejected" }, r));
      showResult("error", t("import_rejected", { n: (error.rejected || []).length }), items, error.notes, error.warnings);
    } else {
      showResult("error", t("import_failed", { message: error.message || response.statusText || String(response.status) }));
    }
  });

  render(page.masters);
}

setup();
