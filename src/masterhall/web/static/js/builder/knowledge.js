/* MasterHall — a master's knowledge page: upload, list, preview chunks, delete files, toggle
 * downloads; add, edit, import and delete Q&A pairs; see the lorebook entries; and the "what would
 * be retrieved for…" box. Everything goes through /api/builder; text is only ever set as text. */

import { api, errorFromResponse } from "../lib/api.js";
import { $, el, readJSON } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

const page = readJSON("mh-page", {});
const base = "/api/builder/masters/" + encodeURIComponent(page.master_id);

function status(text, isError) {
  const node = $("knowledge-status");
  node.textContent = text;
  node.classList.toggle("is-error", Boolean(isError));
}

async function upload(path, file, method) {
  const form = new FormData();
  form.append("file", file);
  const response = await fetch(path, { method: method || "POST", body: form, headers: { Accept: "application/json" } });
  if (!response.ok) throw await errorFromResponse(response);
  return response.json();
}

async function guarded(action) {
  try {
    await action();
  } catch (err) {
    status(err.message || String(err), true);
  }
}

async function showChunks(file) {
  const chunks = await api(base + "/chunks?source_id=" + encodeURIComponent(file.id));
  $("chunk-heading").textContent = t("knowledge_chunks_of", { name: file.filename });
  const list = $("chunk-list");
  list.replaceChildren(...chunks.map((c) => el("li", { className: "knowledge-chunk" },
    c.position ? el("span", { className: "chunk-position" }, c.position) : null, el("p", {}, c.text))));
  $("chunk-preview").hidden = false;
}

async function loadFiles() {
  const files = await api(base + "/files");
  const list = $("file-list");
  if (!files.length) {
    list.replaceChildren(el("li", { className: "field-hint" }, t("knowledge_no_files")));
    return;
  }
  list.replaceChildren(...files.map((f) => {
    const toggle = el("input", { type: "checkbox", checked: f.downloadable, attrs: { "aria-label": t("knowledge_downloadable") + ": " + f.filename },
      onchange: () => guarded(async () => {
        await api("/api/builder/files/" + f.id, { method: "PATCH", body: { downloadable: toggle.checked } });
        status(t("knowledge_saved"));
      }) });
    return el("li", { className: "knowledge-item", dataset: { id: f.id } },
      el("span", { className: "knowledge-name" }, f.filename),
      el("span", { className: "field-hint" }, " " + (f.indexed ? t("knowledge_n_chunks", { n: f.chunks }) : t("knowledge_not_indexed")) + " "),
      el("label", { className: "check" }, toggle, " " + t("knowledge_downloadable")),
      el("button", { type: "button", className: "button button-sm", onclick: () => guarded(() => showChunks(f)) }, t("knowledge_chunks")),
      el("button", { type: "button", className: "button button-ghost button-sm", onclick: () => guarded(async () => {
        await api("/api/builder/files/" + f.id, { method: "DELETE" });
        $("chunk-preview").hidden = true;
        status(t("knowledge_deleted"));
        await loadFiles();
      }) }, t("delete")));
  }));
}

function editPair(entry) {
  $("pair-id").value = entry.id;
  $("pair-question").value = entry.question;
  $("pair-answer").value = entry.answer;
  $("pair-title").value = entry.title;
  $("pair-save").textContent = t("knowledge_save_pair");
  $("pair-question").focus();
}

async function loadEntries() {
  const entries = await api(base + "/entries");
  const pairs = entries.filter((e) => e.kind === "qa");
  const lore = entries.filter((e) => e.kind === "lore");
  $("pair-list").replaceChildren(...(pairs.length ? pairs.map((e) => el("li", { className: "knowledge-item", dataset: { id: e.id } },
    el("span", { className: "knowledge-name" }, e.title || e.question),
    el("span", { className: "knowledge-answer" }, " — " + e.answer + " "),
    el("button", { type: "button", className: "button button-sm", onclick: () => editPair(e) }, t("edit")),
    el("button", { type: "button", className: "button button-ghost button-sm", onclick: () => guarded(async () => {
      await api("/api/builder/entries/" + e.id, { method: "DELETE" });
      status(t("knowledge_deleted"));
      await loadEntries();
    }) }, t("delete")))) : [el("li", { className: "field-hint" }, t("knowledge_no_pairs"))]));
  $("lore-heading").hidden = !lore.length;
  $("lore-list").replaceChildren(...lore.map((e) => el("li", { className: "knowledge-item" },
    el("span", { className: "knowledge-name" }, e.title), el("span", { className: "field-hint" }, " " + t("knowledge_keys") + ": " + e.keys.join(", ") + " "),
    el("span", {}, e.answer))));
}

function showLookup(result) {
  const box = $("lookup-results");
  const items = [];
  if (result.qa_first) items.push(el("p", { className: "knowledge-qa-first" }, t("knowledge_qa_first", { score: result.qa_first.qa_score }) + ": " + result.qa_first.source));
  const row = (c, kind) => el("li", { className: "knowledge-hit", dataset: { kind } },
    el("span", { className: "knowledge-name" }, c.source + (c.position ? " · " + c.position : "")),
    el("span", { className: "field-hint" }, " " + t(kind === "used" ? "knowledge_used" : "knowledge_left_out") + " · score " + c.score + " · " +
      Object.entries(c.channels || {}).map(([k, v]) => k + " " + v).join(", ")),
    el("p", {}, c.snippet));
  const used = (result.used || []).map((c) => row(c, "used"));
  const left = (result.left_out || []).map((c) => row(c, "left"));
  if (!used.length && !left.length && !result.qa_first) items.push(el("p", {}, t("knowledge_nothing")));
  items.push(el("ol", { className: "knowledge-hits" }, ...used, ...left));
  box.replaceChildren(...items);
}

$("upload-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  guarded(async () => {
    const saved = await upload(base + "/files?downloadable=" + $("upload-downloadable").checked, file);
    status(t("knowledge_uploaded", { n: saved.chunks }));
    $("upload-form").reset();
    await loadFiles();
  });
});

$("pair-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("pair-id").value;
  const body = { question: $("pair-question").value, answer: $("pair-answer").value, title: $("pair-title").value };
  guarded(async () => {
    if (id) await api("/api/builder/entries/" + id, { method: "PATCH", body });
    else await api(base + "/entries", { method: "POST", body });
    $("pair-form").reset();
    $("pair-id").value = "";
    $("pair-save").textContent = t("knowledge_add_pair");
    status(t("knowledge_saved"));
    await loadEntries();
  });
});

$("pairs-file").addEventListener("change", () => {
  const file = $("pairs-file").files[0];
  if (!file) return;
  guarded(async () => {
    await upload(base + "/entries/import", file);
    $("pairs-file").value = "";
    status(t("knowledge_saved"));
    await loadEntries();
  });
});

$("lookup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => showLookup(await api(base + "/retrieve", { method: "POST", body: { q: $("lookup-q").value } })));
});

guarded(loadFiles);
guarded(loadEntries);
