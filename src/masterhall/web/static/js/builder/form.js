/* MasterHall — the builder form's fields: filling them from a master and reading the master back.
 *
 * `collect(state)` gives `{master, errors}`: the master as the form holds it and the errors found
 * before asking the server. Blank starters and blank example rows are left out; the fields kept
 * get their `data-field` paths (e.g. `starters.en.2`) so that server messages land beside them.
 */

import { isAvatarImage } from "../lib/avatar.js";
import { $ } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

export const LANGS = ["zh", "en"];
const LOCALIZED = ["name", "tagline", "description", "greeting"];
const PARAMS = ["temperature", "top_p", "max_tokens", "context_window", "seed"];
/** What a master id may look like (as the server checks it). */
export const ID_RE = /^[a-z0-9][a-z0-9-]{1,63}$/;

export function addExample(example) {
  const row = $("example-template").content.firstElementChild.cloneNode(true);
  const n = $("examples-list").children.length;
  for (const part of ["user", "assistant"]) {
    const area = row.querySelector(".example-" + part);
    area.id = "f-example-" + n + "-" + part + "-" + Math.random().toString(36).slice(2, 7);
    row.querySelector('[data-part="' + part + '"] label').htmlFor = area.id;
    area.value = (example && example[part]) || "";
  }
  $("examples-list").append(row);
  return row;
}

/** Put `master` (or nothing, for a new one) into the form; remembers what the form does not show in `state`. */
export function fill(master, state) {
  const m = master || {};
  $("f-id").value = m.id || "";
  $("f-category").value = m.category || "";
  $("f-avatar").value = m.avatar || "✨";
  for (const key of LOCALIZED) for (const lang of LANGS) $("f-" + key + "-" + lang).value = (m[key] && m[key][lang]) || "";
  $("f-instructions").value = m.instructions || "";
  $("f-safety").checked = !!m.safety_duty;
  for (const lang of LANGS) {
    const starters = (m.starters && m.starters[lang]) || [];
    for (let i = 0; i < 4; i++) $("f-starters-" + lang + "-" + i).value = starters[i] || "";
    $("f-tags-" + lang).value = ((m.tags && m.tags[lang]) || []).join(lang === "zh" ? "，" : ", ");
  }
  $("examples-list").replaceChildren();
  const examples = m.examples && m.examples.length ? m.examples : [{ user: "", assistant: "" }];
  examples.forEach(addExample);
  $("f-model").value = m.model || "";
  const params = m.params || {};
  for (const name of PARAMS) {
    const value = params[name];
    $("f-param-" + name).value = value === null || value === undefined ? "" : String(value);
  }
  state.version = m.version || 1;
  state.extensions = m.extensions || {};
  state.avatarImage = isAvatarImage(m.avatar_image) ? m.avatar_image : null;
}

function splitTags(text) {
  return text
    .split(/[,，、;；\n]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The master as the form holds it, plus errors found before asking the server.
 * Blank starters and blank example rows are left out; the fields kept get their
 * `data-field` paths (e.g. `starters.en.2`) so that server messages land beside them.
 */
export function collect(state) {
  const errors = [];
  const master = {
    id: $("f-id").value.trim(),
    category: $("f-category").value,
    version: state.version,
    avatar: $("f-avatar").value.trim(),
    avatar_image: state.avatarImage,
    instructions: $("f-instructions").value,
    safety_duty: $("f-safety").checked,
    model: $("f-model").value || null,
    params: {},
    extensions: state.extensions,
    starters: {},
    tags: {},
    examples: [],
  };
  for (const key of LOCALIZED) {
    master[key] = {};
    for (const lang of LANGS) master[key][lang] = $("f-" + key + "-" + lang).value;
  }
  for (const lang of LANGS) {
    master.starters[lang] = [];
    for (let i = 0; i < 4; i++) {
      const input = $("f-starters-" + lang + "-" + i);
      const item = input.closest(".list-item");
      if (input.value.trim()) {
        item.dataset.field = "starters." + lang + "." + master.starters[lang].length;
        master.starters[lang].push(input.value.trim());
      } else {
        delete item.dataset.field;
      }
    }
    master.tags[lang] = splitTags($("f-tags-" + lang).value);
  }
  for (const row of $("examples-list").children) {
    const user = row.querySelector(".example-user").value;
    const assistant = row.querySelector(".example-assistant").value;
    if (!user.trim() && !assistant.trim()) {
      delete row.dataset.field;
      row.querySelectorAll("[data-part]").forEach((f) => delete f.dataset.field);
      continue;
    }
    const i = master.examples.length;
    row.dataset.field = "examples." + i;
    for (const part of ["user", "assistant"]) row.querySelector('[data-part="' + part + '"]').dataset.field = "examples." + i + "." + part;
    master.examples.push({ user, assistant });
  }
  for (const name of PARAMS) {
    const input = $("f-param-" + name);
    if (input.validity && input.validity.badInput) {
      errors.push({ field: "params." + name, message: t("v_number"), type: "client" });
    } else if (input.value.trim() !== "") {
      master.params[name] = Number(input.value);
    }
  }
  return { master, errors };
}

/** An id from a name: lower case ASCII letters, digits and dashes. */
export function slugify(text) {
  return text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/, "");
}

/** Show how long the instructions are (short ones are marked). */
export function countInstructions() {
  const n = $("f-instructions").value.trim().length;
  const node = $("instructions-count");
  node.textContent = t("chars", { n });
  node.classList.toggle("is-short", n < 40);
}
