/* MasterHall — the builder form (/builder/new, /builder/{id}): every field of a master in both
 * languages, saved through /api/builder with the server's per-field messages shown beside the
 * fields; a one-click test of every conversation starter and a preview chat whose turns show
 * exactly what the model received. Both run on the form as it is, saved or not.
 *
 * Page data comes from <script id="mh-page"> (see routers/builder_pages.py). The parts: form.js
 * (fields in and out), fields.js (messages beside them), saving.js, avatar.js, runs.js (shared
 * by test-run.js and preview.js). Everything a creator typed, and every model answer, is put
 * into the page as text only.
 */

import { $, keepFocus, readJSON } from "../lib/dom.js";
import { createAvatar } from "./avatar.js";
import { createFieldErrors } from "./fields.js";
import { addExample, collect, countInstructions, fill, slugify } from "./form.js";
import { createPreview } from "./preview.js";
import { createRuns } from "./runs.js";
import { createSaving } from "./saving.js";
import { createTestRun } from "./test-run.js";

function selectTab(tab) {
  for (const other of document.querySelectorAll('.builder-side [role="tab"]')) {
    const on = other === tab;
    other.setAttribute("aria-selected", String(on));
    other.tabIndex = on ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !on;
  }
}

function setup() {
  const page = readJSON("mh-page", null);
  const form = $("master-form");
  if (!page || !form) return;

  const state = {
    mode: page.mode, // "new" until the first save
    status: page.status,
    version: 1,
    extensions: {},
    avatarImage: null,
    idTouched: page.mode === "edit",
    dirty: false,
    live: false, // after a failed save: validate as the creator types
    validateTimer: null,
    validateSeq: 0,
    busy: false,
  };
  const ctx = { page, form, state, fields: createFieldErrors(form), collect: () => collect(state) };
  const saving = createSaving(ctx);
  const avatar = createAvatar(ctx, saving);
  const runs = createRuns(ctx);
  const test = createTestRun(ctx, runs);
  const preview = createPreview(ctx, runs);

  fill(page.master, state);
  avatar.showAvatar();
  countInstructions();
  preview.resetPreview();
  // The sticky toolbar's height, for the scroll margins that keep the error summary and the
  // fields in error from hiding under it (builder.css, --toolbar-h).
  const toolbar = $("toolbar");
  const measureToolbar = () => document.documentElement.style.setProperty("--toolbar-h", toolbar.offsetHeight + "px");
  if (window.ResizeObserver) new ResizeObserver(measureToolbar).observe(toolbar);
  measureToolbar();

  form.addEventListener("input", (event) => {
    const target = event.target;
    if (target.id === "f-avatar-image") return;
    if (target.id === "f-id") state.idTouched = true;
    if (target.id === "f-name-en" && state.mode === "new" && !state.idTouched) $("f-id").value = slugify(target.value);
    if (target.id === "f-avatar") avatar.showAvatar();
    if (target.id === "f-instructions") countInstructions();
    if ((target.id.startsWith("f-greeting-") || target.id === "f-avatar") && !preview.isRunning() && !$("preview-thread").querySelector(".msg-user")) {
      preview.resetPreview();
    }
    saving.markDirty();
  });
  form.addEventListener("change", (event) => {
    if (event.target.matches("select, input[type=checkbox]")) saving.markDirty();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saving.save();
  });
  $("publish").addEventListener("click", () => saving.save("published"));
  $("unpublish").addEventListener("click", () => saving.save("draft"));
  $("delete-master").addEventListener("click", (event) => saving.deleteMaster(event.currentTarget));
  $("f-avatar-image").addEventListener("change", (event) => avatar.pickImage(event.target));
  $("avatar-image-remove").addEventListener("click", () => {
    state.avatarImage = null;
    avatar.showAvatar();
    saving.markDirty();
  });
  $("add-example").addEventListener("click", () => {
    const row = addExample(null);
    row.querySelector("textarea").focus();
    saving.markDirty();
  });
  $("examples-list").addEventListener("click", (event) => {
    const button = event.target.closest(".example-remove");
    if (!button) return;
    button.closest(".example-row").remove();
    if (!$("examples-list").children.length) addExample(null);
    keepFocus($("add-example"));
    saving.markDirty();
  });
  document.addEventListener("click", (event) => {
    const menu = $("export-menu");
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });

  for (const tab of document.querySelectorAll('.builder-side [role="tab"]')) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const tabs = Array.from(document.querySelectorAll('.builder-side [role="tab"]'));
      const next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      selectTab(next);
      next.focus();
    });
  }

  $("run-test").addEventListener("click", test.runTest);
  $("stop-test").addEventListener("click", test.stop);
  $("preview-form").addEventListener("submit", (event) => {
    event.preventDefault();
    preview.sendPreview();
  });
  $("preview-input").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    preview.sendPreview();
  });
  $("preview-stop").addEventListener("click", preview.stop);
  $("preview-reset").addEventListener("click", preview.resetPreview);

  if (state.mode === "new") $("f-name-zh").focus();
  form.dataset.ready = "true"; // filled and bound: what was typed before this point was overwritten
}

setup();
