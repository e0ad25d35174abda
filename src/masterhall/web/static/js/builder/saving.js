/* MasterHall — saving the builder form: save (draft or published), unpublish, delete, the save
 * state line, and validation as the creator types after a failed save. `createSaving(ctx)`
 * returns {setSaveState, markDirty, setStatus, save, scheduleValidate, validateNow, deleteMaster}.
 */

import { api } from "../lib/api.js";
import { confirmAction } from "../lib/confirm.js";
import { $, keepFocus } from "../lib/dom.js";
import { lang, t } from "../lib/i18n.js";
import { ID_RE } from "./form.js";

const VALIDATE_DELAY_MS = 400;

export function createSaving(ctx) {
  const { state, fields } = ctx;

  function setSaveState(text, kind) {
    const node = $("save-state");
    node.textContent = text || "";
    node.className = "save-state" + (kind ? " is-" + kind : "");
  }

  function markDirty() {
    if (!state.dirty) {
      state.dirty = true;
      setSaveState(t("unsaved"), "dirty");
    }
    if (state.live) scheduleValidate();
  }

  function setStatus(status) {
    state.status = status;
    const badge = $("status-badge");
    badge.dataset.status = status;
    badge.textContent = t("status_" + status);
    $("publish").hidden = status === "published";
    $("unpublish").hidden = status !== "published";
    $("view-in-hall").hidden = status !== "published";
    keepFocus($("unpublish"), $("publish"), $("save")); // the pressed button may be hidden now
  }

  function becomeSaved(id) {
    state.mode = "edit";
    state.idTouched = true;
    $("f-id").readOnly = true;
    if (location.pathname !== "/builder/" + id) history.replaceState(null, "", "/builder/" + encodeURIComponent(id));
    $("view-in-hall").href = "/masters/" + encodeURIComponent(id);
    for (const link of $("export-links").querySelectorAll("a[data-format]")) {
      link.href = "/api/masters/" + encodeURIComponent(id) + "/export?format=" + encodeURIComponent(link.dataset.format);
    }
    $("export-menu").hidden = false;
    $("delete-master").hidden = false;
  }

  async function exists(id) {
    try {
      await api("/api/builder/masters/" + encodeURIComponent(id));
      return true;
    } catch (err) {
      return false;
    }
  }

  /** Save the form (with `status` when given); resolves to true when it was stored. */
  async function save(status) {
    if (state.busy) return false;
    const { master, errors } = ctx.collect();
    if (errors.length) {
      state.live = true;
      fields.focusFirstError(fields.showErrors(errors));
      setSaveState(t("not_saved"), "error");
      return false;
    }
    state.busy = true;
    setSaveState(t("saving"), "");
    try {
      if (state.mode === "new" && ID_RE.test(master.id) && (await exists(master.id))) {
        state.live = true;
        fields.focusFirstError(fields.showErrors([{ field: "id", message: t("v_id_taken"), type: "client" }]));
        setSaveState(t("not_saved"), "error");
        return false;
      }
      const body = { master, instructions_visible: $("f-instructions-visible").checked };
      if (status) body.status = status;
      const saved = await api("/api/builder/masters", { method: "POST", body });
      fields.clearErrors();
      state.live = false;
      state.dirty = false;
      state.version = saved.master.version;
      state.extensions = saved.master.extensions || {};
      becomeSaved(saved.master.id);
      setStatus(saved.status);
      $("builder-heading").textContent = saved.master.name[lang === "zh" ? "zh" : "en"];
      const time = new Date().toLocaleTimeString(lang === "zh" ? "zh-CN" : "en", { hour: "2-digit", minute: "2-digit" });
      setSaveState(saved.status === "published" ? t("saved_published", { time }) : t("saved_draft", { time }), "ok");
      return true;
    } catch (err) {
      const rejected = err.body && err.body.fields;
      if (rejected && rejected.length) {
        state.live = true;
        fields.focusFirstError(fields.showErrors(rejected));
      } else {
        fields.showErrors([{ field: "(master)", message: err.message, type: "client" }]);
      }
      setSaveState(t("not_saved"), "error");
      return false;
    } finally {
      state.busy = false;
    }
  }

  function scheduleValidate() {
    clearTimeout(state.validateTimer);
    state.validateTimer = setTimeout(validateNow, VALIDATE_DELAY_MS);
  }

  async function validateNow() {
    const seq = ++state.validateSeq;
    const { master, errors } = ctx.collect();
    let found = errors;
    if (!errors.length) {
      try {
        await api("/api/builder/validate", { method: "POST", body: { master } });
        found = [];
      } catch (err) {
        if (seq !== state.validateSeq) return;
        found = (err.body && err.body.fields) || [];
      }
    }
    if (seq !== state.validateSeq) return;
    fields.showErrors(found);
  }

  async function deleteMaster() {
    const name = $("f-name-" + (lang === "zh" ? "zh" : "en")).value.trim() || $("f-id").value.trim();
    if (!(await confirmAction(t("confirm_delete_master", { name }), t("delete")))) return;
    try {
      await api("/api/builder/masters/" + encodeURIComponent($("f-id").value.trim()), { method: "DELETE" });
    } catch (err) {
      setSaveState(err.message, "error");
      return;
    }
    location.assign("/builder");
  }

  return { setSaveState, markDirty, setStatus, save, scheduleValidate, validateNow, deleteMaster };
}
