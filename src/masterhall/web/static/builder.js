/* MasterHall — the builder form (/builder/new, /builder/{id}): every field of a master in both
 * languages, saved through /api/builder with the server's per-field messages shown beside the
 * fields; a one-click test of every conversation starter and a preview chat whose turns show
 * exactly what the model received (debug panel). Both run on the form as it is, saved or not.
 *
 * Page data comes from <script id="mh-page"> (see pages.py). Everything a master's creator
 * typed, and every model answer, is put into the page as text only.
 */
(function () {
  "use strict";

  const MH = window.MasterHall;
  const { el, t } = MH;
  const LANGS = ["zh", "en"];
  const LOCALIZED = ["name", "tagline", "description", "greeting"];
  const PARAMS = ["temperature", "top_p", "max_tokens", "context_window", "seed"];
  const ID_RE = /^[a-z0-9][a-z0-9-]{1,63}$/;
  const AVATAR_IMAGE_MAX = 200 * 1024;
  const AVATAR_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
  const VALIDATE_DELAY_MS = 400;
  const CONFIRM_MS = 4000;

  const $ = (id) => document.getElementById(id);

  /* ---- field messages (the server's errors, in the page's language) ----------------------- */

  /** A readable message for one server error `{field, message, type, ctx}`. */
  function fieldMessage(err) {
    const c = err.ctx || {};
    const detail = String(err.message || "").replace(/^Value error, /, "");
    switch (err.type) {
      case "missing":
        return t("v_required");
      case "string_too_short":
        return c.min_length > 1 ? t("v_min_chars", { n: c.min_length }) : t("v_required");
      case "string_too_long":
        return t("v_max_chars", { n: c.max_length });
      case "too_short":
        return t("v_min_items", { n: c.min_length });
      case "too_long":
        return t("v_max_items", { n: c.max_length });
      case "greater_than_equal":
        return t("v_ge", { n: c.ge });
      case "greater_than":
        return t("v_gt", { n: c.gt });
      case "less_than_equal":
        return t("v_le", { n: c.le });
      case "less_than":
        return t("v_lt", { n: c.lt });
      case "int_parsing":
      case "int_from_float":
      case "int_type":
        return t("v_int");
      case "float_parsing":
      case "float_type":
        return t("v_number");
      case "value_error":
        break;
      default:
        return detail;
    }
    const field = err.field || "";
    if (field === "id") return t("v_id");
    if (field === "category") return t("v_category");
    if (field === "avatar_image") return t("v_avatar_image", { detail });
    if (/^(starters|tags)\.(zh|en)$/.test(field) && /empty/.test(detail)) return t("v_blank_items");
    if (/safety/i.test(detail)) return t("v_safety");
    return detail;
  }

  function setup() {
    const pageNode = $("mh-page");
    const form = $("master-form");
    if (!pageNode || !form) return;
    const page = JSON.parse(pageNode.textContent);

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

    /* ---- filling and reading the form ----------------------------------------------------- */

    function addExample(example) {
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

    function fill(master) {
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
      state.avatarImage = MH.isAvatarImage(m.avatar_image) ? m.avatar_image : null;
      showAvatar();
      countInstructions();
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
    function collect() {
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

    /* ---- messages beside the fields ------------------------------------------------------- */

    function clearErrors() {
      form.querySelectorAll(".field-error").forEach((n) => n.remove());
      form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
      form.querySelectorAll(".has-error").forEach((n) => n.classList.remove("has-error"));
      $("form-summary").hidden = true;
      $("form-summary").replaceChildren();
    }

    /** The element that shows messages for `path` (`a.b.2`), falling back to its parents. */
    function fieldFor(path) {
      let p = path === "(master)" ? "" : path;
      while (p) {
        const node = form.querySelector('[data-field="' + CSS.escape(p) + '"]');
        if (node) return node;
        p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "";
      }
      return null;
    }

    /** Show `errors` ([{field, message, type, ctx}]) beside their fields and in a summary. */
    function showErrors(errors) {
      clearErrors();
      if (!errors || !errors.length) return;
      const summary = $("form-summary");
      const list = el("ul", { className: "form-summary-list" });
      let first = null;
      for (const err of errors) {
        let path = err.field || "";
        if (path === "(master)" && /safety/i.test(err.message || "")) path = "safety_duty";
        const text = fieldMessage(err);
        const node = fieldFor(path);
        if (node) {
          let box = node.querySelector(":scope > .field-error");
          if (!box) {
            box = el("p", { className: "field-error", id: "err-" + Math.random().toString(36).slice(2, 9) });
            node.append(box);
          }
          box.append(el("span", { className: "field-error-line" }, text));
          node.classList.add("has-error");
          const input = node.matches("input, textarea, select") ? node : node.querySelector("input:not([type=hidden]), textarea, select");
          if (input) {
            input.setAttribute("aria-invalid", "true");
            input.setAttribute("aria-describedby", box.id);
          }
          if (!first) first = input || node;
        }
        const link = el("a", { href: "#", className: "form-summary-link" }, labelOf(path) + ": " + text);
        link.addEventListener("click", (event) => {
          event.preventDefault();
          const target = node && (node.matches("input, textarea, select") ? node : node.querySelector("input, textarea, select"));
          if (target) target.focus();
          else if (node) node.scrollIntoView({ block: "center" });
        });
        list.append(el("li", {}, link));
      }
      summary.append(el("p", { className: "form-summary-title" }, t("form_errors", { n: errors.length })), list);
      summary.hidden = false;
      return first;
    }

    /** A short name of the field at `path` for the summary (its label text). */
    function labelOf(path) {
      const node = fieldFor(path);
      if (!node) return path || t("field_master");
      const label = node.querySelector(":scope > label, :scope > .field-label");
      const input = node.querySelector("input, textarea, select");
      const text = label
        ? label.textContent.replace(/\s+/g, " ").trim()
        : (input && input.getAttribute("aria-label")) || "";
      const m = /\.(\d+)(?:\.(user|assistant))?$/.exec(path);
      if (path.startsWith("examples.") && m) return t("example_n", { n: Number(m[1]) + 1 }) + (text ? " · " + text : "");
      return text || path;
    }

    function focusFirstError(first) {
      if (!first) return;
      first.scrollIntoView({ block: "center" });
      if (first.focus) first.focus({ preventScroll: true });
    }

    /* ---- saving, publishing, deleting ----------------------------------------------------- */

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
        await MH.api("/api/builder/masters/" + encodeURIComponent(id));
        return true;
      } catch (err) {
        return false;
      }
    }

    /** Save the form (with `status` when given); resolves to true when it was stored. */
    async function save(status) {
      if (state.busy) return false;
      const { master, errors } = collect();
      if (errors.length) {
        state.live = true;
        focusFirstError(showErrors(errors));
        setSaveState(t("not_saved"), "error");
        return false;
      }
      state.busy = true;
      setSaveState(t("saving"), "");
      try {
        if (state.mode === "new" && ID_RE.test(master.id) && (await exists(master.id))) {
          state.live = true;
          focusFirstError(showErrors([{ field: "id", message: t("v_id_taken"), type: "client" }]));
          setSaveState(t("not_saved"), "error");
          return false;
        }
        const body = { master };
        if (status) body.status = status;
        const saved = await MH.api("/api/builder/masters", { method: "POST", body });
        clearErrors();
        state.live = false;
        state.dirty = false;
        state.version = saved.master.version;
        state.extensions = saved.master.extensions || {};
        becomeSaved(saved.master.id);
        setStatus(saved.status);
        $("builder-heading").textContent = saved.master.name[MH.lang === "zh" ? "zh" : "en"];
        const time = new Date().toLocaleTimeString(MH.lang === "zh" ? "zh-CN" : "en", { hour: "2-digit", minute: "2-digit" });
        setSaveState(saved.status === "published" ? t("saved_published", { time }) : t("saved_draft", { time }), "ok");
        return true;
      } catch (err) {
        const fields = err.body && err.body.fields;
        if (fields && fields.length) {
          state.live = true;
          focusFirstError(showErrors(fields));
        } else {
          showErrors([{ field: "(master)", message: err.message, type: "client" }]);
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
      const { master, errors } = collect();
      let fields = errors;
      if (!errors.length) {
        try {
          await MH.api("/api/builder/validate", { method: "POST", body: { master } });
          fields = [];
        } catch (err) {
          if (seq !== state.validateSeq) return;
          fields = (err.body && err.body.fields) || [];
        }
      }
      if (seq !== state.validateSeq) return;
      showErrors(fields);
    }

    let deleteTimer = null;
    async function deleteMaster(button) {
      if (!button.classList.contains("is-confirm")) {
        button.classList.add("is-confirm");
        button.textContent = t("confirm_delete");
        deleteTimer = setTimeout(() => {
          button.classList.remove("is-confirm");
          button.textContent = t("delete");
        }, CONFIRM_MS);
        return;
      }
      clearTimeout(deleteTimer);
      try {
        await MH.api("/api/builder/masters/" + encodeURIComponent($("f-id").value.trim()), { method: "DELETE" });
      } catch (err) {
        setSaveState(err.message, "error");
        return;
      }
      location.assign("/builder");
    }

    /* ---- avatar image ------------------------------------------------------------------------ */

    function showAvatar() {
      MH.fillAvatar($("avatar-preview"), { avatar: $("f-avatar").value.trim() || "✨", avatar_image: state.avatarImage });
      $("avatar-image-remove").hidden = !state.avatarImage;
    }

    function readImage(file) {
      return new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(String(reader.result));
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(file);
      });
    }

    /** Resolves to true when the browser can decode `url` as an image. */
    function decodes(url) {
      return new Promise((resolve) => {
        const probe = new Image();
        probe.onload = () => resolve(probe.naturalWidth > 0);
        probe.onerror = () => resolve(false);
        probe.src = url;
      });
    }

    async function pickImage(input) {
      const file = input.files && input.files[0];
      input.value = "";
      if (!file) return;
      if (file.size > AVATAR_IMAGE_MAX) {
        showErrors([{ field: "avatar_image", message: t("v_avatar_too_big", { kb: Math.ceil(file.size / 1024) }), type: "client" }]);
        return;
      }
      let url;
      try {
        url = await readImage(file);
      } catch (err) {
        showErrors([{ field: "avatar_image", message: t("v_avatar_unreadable"), type: "client" }]);
        return;
      }
      // Whatever was picked goes to the server, which checks type, content and size; the
      // preview only shows a data:image URL of an accepted type that the browser can decode.
      state.avatarImage = url;
      const shown = AVATAR_TYPES.some((type) => url.startsWith("data:" + type + ";base64,")) && (await decodes(url));
      if (state.avatarImage !== url) return; // another file was picked meanwhile
      if (shown) showAvatar();
      else MH.fillAvatar($("avatar-preview"), { avatar: "⚠️" });
      $("avatar-image-remove").hidden = false;
      markDirty();
      state.live = true;
      validateNow();
    }

    /* ---- shared by the test and the preview ----------------------------------------------- */

    /** The form's master for a test run, or null after showing what must be fixed first. */
    function draftForRun(notice) {
      const { master, errors } = collect();
      if (errors.length) {
        state.live = true;
        showErrors(errors);
        notice(t("fix_fields_first"));
        return null;
      }
      return master;
    }

    function number(value, digits) {
      if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
      return Number(value).toLocaleString(MH.lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
    }

    function usageLine(usage) {
      if (!usage) return "";
      const parts = [
        t("usage_ttft", { s: number(usage.ttft_s, 3) }),
        t("usage_tps", { n: number(usage.tokens_per_s, 1) }),
        t("usage_tokens", { p: usage.prompt_tokens, c: usage.completion_tokens }),
      ];
      if (usage.finish_reason && usage.finish_reason !== "stop") parts.push(t("usage_finish", { reason: usage.finish_reason }));
      return parts.join(" · ");
    }

    /** Handle a refused run: field errors beside the fields, anything else in `notice`. */
    function refused(err, notice) {
      if (err.name === "AbortError") return;
      const fields = err.body && err.body.fields;
      if (fields && fields.length) {
        state.live = true;
        showErrors(fields);
        notice(t("fix_fields_first"));
      } else {
        notice(MH.messages.describeError(err.code, err.message));
      }
    }

    /* ---- one-click test ------------------------------------------------------------------- */

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
    }

    function testCard(item) {
      return el(
        "article",
        { className: "test-card", dataset: { index: String(item.index), lang: item.lang, status: "waiting" } },
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
      const master = draftForRun(testNotice);
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
      let response;
      try {
        response = await MH.postStream("/api/builder/test", { master, langs }, controller.signal);
      } catch (err) {
        setTestRunning(false);
        refused(err, testNotice);
        return;
      }
      clearErrors();
      grid.replaceChildren();
      const cards = new Map();
      try {
        for await (const event of MH.readEvents(response)) {
          const data = event.data || {};
          if (event.event === "starters") {
            for (const item of data.starters || []) {
              const card = testCard(item);
              card._text = "";
              cards.set(item.index, card);
              grid.append(card);
            }
            continue;
          }
          const card = cards.get(data.index);
          if (!card) continue;
          const answer = card.querySelector(".test-answer");
          if (event.event === "delta") {
            card._text += data.text || "";
            card.dataset.status = "streaming";
            answer.textContent = card._text;
          } else if (event.event === "done") {
            card._text = typeof data.text === "string" ? data.text : card._text;
            answer.textContent = card._text;
            card.dataset.status = "complete";
            card.querySelector(".test-usage").textContent = usageLine(data.usage);
          } else if (event.event === "error") {
            card.dataset.status = "error";
            card.querySelector(".test-usage").textContent = t("err_generic", { message: data.message || "" });
          }
        }
      } catch (err) {
        /* stopped, or the connection broke: the cards still running are marked below */
      }
      for (const card of cards.values()) {
        if (card.dataset.status === "waiting" || card.dataset.status === "streaming") {
          card.dataset.status = "stopped";
          card.querySelector(".test-usage").textContent = controller.signal.aborted ? t("status_stopped") : t("err_connection_lost");
        }
      }
      test.controller = null;
      setTestRunning(false);
    }

    /* ---- preview with the debug panel ------------------------------------------------------ */

    const preview = { history: [], controller: null, running: false };

    function previewNotice(text) {
      if (!text) return;
      $("preview-thread").append(el("p", { className: "form-notice is-error preview-notice", attrs: { role: "alert" } }, text));
    }

    function bubble(role, text) {
      const isUser = role === "user";
      const avatar = el("div", { className: "msg-avatar", attrs: { "aria-hidden": "true" } });
      if (isUser) avatar.textContent = "🙂";
      else MH.fillAvatar(avatar, { avatar: $("f-avatar").value.trim() || "✨", avatar_image: MH.isAvatarImage(state.avatarImage) ? state.avatarImage : null });
      return el(
        "article",
        { className: "msg " + (isUser ? "msg-user" : "msg-assistant"), dataset: { role } },
        avatar,
        el("div", { className: "msg-main" }, el("div", { className: "msg-content plain" }, text || ""))
      );
    }

    function resetPreview() {
      if (preview.controller) preview.controller.abort();
      preview.history = [];
      const greeting = $("f-greeting-" + (MH.lang === "zh" ? "zh" : "en")).value.trim();
      const thread = $("preview-thread");
      thread.replaceChildren();
      if (greeting) {
        const node = bubble("greeting", greeting);
        node.classList.add("msg-greeting");
        thread.append(node);
      }
    }

    function kindOf(index, count, info, sentHistory) {
      if (index === 0 && info.messages[0].role === "system") return "system";
      if (index === count - 1) return "new";
      const kept = Math.max(0, sentHistory - (info.dropped_turns || 0));
      if (index >= count - 1 - kept) return "history";
      return "example";
    }

    function dlRow(key, label, value) {
      return [el("dt", {}, label), el("dd", { dataset: { debug: key } }, value)];
    }

    /** The debug panel of one preview turn, from the `debug` event. */
    function debugPanel(info, sentHistory) {
      const box = el("details", { className: "debug", open: true });
      box.append(el("summary", { className: "debug-summary" }, t("debug_title")));
      const params = Object.entries(info.params || {})
        .map(([k, v]) => k + " = " + v)
        .join(", ");
      const meta = el("dl", { className: "debug-meta" });
      meta.append(...dlRow("backend", t("debug_backend"), info.backend || "—"));
      meta.append(...dlRow("model", t("debug_model"), info.model || "—"));
      meta.append(...dlRow("params", t("debug_params"), params || t("debug_none")));
      if (info.guard) {
        meta.append(...dlRow("guard", t("debug_guard_label"), t("debug_guard")));
        box.append(meta);
        return box;
      }
      const used = info.prompt_tokens || 0;
      const windowSize = info.context_window || 0;
      const meter = el("meter", { className: "debug-meter", min: 0, max: windowSize || 1, value: used, high: Math.max(1, windowSize - (info.reply_reserve || 0)) });
      meta.append(
        ...dlRow(
          "context",
          t("debug_context"),
          el("span", {}, t("debug_context_value", { used: number(used, 0), window: number(windowSize, 0), reserve: number(info.reply_reserve, 0) })),
        )
      );
      meta.lastChild.append(meter);
      const left = [];
      if (info.dropped_turns) left.push(t("debug_dropped_turns", { n: info.dropped_turns }));
      if (info.dropped_examples) left.push(t("debug_dropped_examples", { n: info.dropped_examples }));
      meta.append(...dlRow("dropped", t("debug_dropped"), left.length ? left.join(" · ") : t("debug_nothing_dropped")));
      if (left.length) meta.lastChild.classList.add("is-warn");
      meta.append(...dlRow("timing", t("debug_timing"), t("debug_waiting")));
      box.append(meta);

      const list = el("ol", { className: "debug-messages" });
      const count = (info.messages || []).length;
      (info.messages || []).forEach((msg, i) => {
        const kind = kindOf(i, count, info, sentHistory);
        const share = windowSize ? Math.round((msg.tokens / windowSize) * 1000) / 10 : 0;
        list.append(
          el(
            "li",
            { className: "debug-message", dataset: { kind, role: msg.role } },
            el(
              "div",
              { className: "debug-message-head" },
              el("span", { className: "debug-role" }, msg.role),
              el("span", { className: "debug-kind" }, t("debug_kind_" + kind)),
              el("span", { className: "debug-tokens" }, t("debug_tokens", { n: msg.tokens, share: number(share, 1) }))
            ),
            el("pre", { className: "debug-content" }, msg.content)
          )
        );
      });
      box.append(el("p", { className: "debug-subtitle" }, t("debug_messages", { n: count })), list);
      return box;
    }

    function setPreviewRunning(running) {
      preview.running = running;
      $("preview-send").hidden = running;
      $("preview-stop").hidden = !running;
    }

    async function sendPreview() {
      const input = $("preview-input");
      const content = input.value.trim();
      if (!content || preview.running) return;
      const thread = $("preview-thread");
      thread.querySelectorAll(".preview-notice").forEach((n) => n.remove());
      const master = draftForRun(previewNotice);
      if (!master) return;
      const sentHistory = preview.history.length;
      const controller = new AbortController();
      preview.controller = controller;
      setPreviewRunning(true);
      const userNode = bubble("user", content);
      thread.append(userNode);
      thread.scrollTop = userNode.offsetTop - 8; // the new turn at the top: answer, then its debug panel
      input.value = "";
      let response;
      try {
        response = await MH.postStream("/api/builder/preview", { master, history: preview.history, content }, controller.signal);
      } catch (err) {
        userNode.remove();
        input.value = content;
        setPreviewRunning(false);
        preview.controller = null;
        refused(err, previewNotice);
        return;
      }
      clearErrors();
      const turn = el("div", { className: "preview-turn" });
      const answerNode = bubble("assistant", "");
      answerNode.dataset.status = "streaming";
      turn.append(answerNode);
      thread.append(turn);
      const content_ = answerNode.querySelector(".msg-content");
      let text = "";
      let panel = null;
      let ended = false;
      try {
        for await (const event of MH.readEvents(response)) {
          const data = event.data || {};
          if (event.event === "debug") {
            thread.querySelectorAll("details.debug[open]").forEach((d) => (d.open = false));
            panel = debugPanel(data, sentHistory);
            turn.append(panel);
          } else if (event.event === "delta") {
            text += data.text || "";
            content_.textContent = text;
          } else if (event.event === "done") {
            ended = true;
            text = typeof data.text === "string" ? data.text : text;
            content_.textContent = text;
            answerNode.dataset.status = "complete";
            if (panel) {
              const timing = panel.querySelector('[data-debug="timing"]');
              if (timing) timing.textContent = usageLine(data.usage);
            }
            for (const note of data.notes || []) turn.append(el("p", { className: "msg-note" }, note));
          } else if (event.event === "error") {
            ended = true;
            answerNode.dataset.status = "error";
            turn.append(el("p", { className: "msg-note is-error" }, MH.messages.describeError(data.code, data.message)));
          }
        }
      } catch (err) {
        /* stopped or disconnected */
      }
      if (!ended) {
        answerNode.dataset.status = "stopped";
        turn.append(el("p", { className: "msg-note" }, controller.signal.aborted ? t("status_stopped") : t("err_connection_lost")));
      }
      if (answerNode.dataset.status === "complete" || (answerNode.dataset.status === "stopped" && text)) {
        preview.history.push({ role: "user", content }, { role: "assistant", content: text });
      }
      preview.controller = null;
      setPreviewRunning(false);
    }

    /* ---- tabs ------------------------------------------------------------------------------ */

    function selectTab(tab) {
      for (const other of document.querySelectorAll('.builder-side [role="tab"]')) {
        const on = other === tab;
        other.setAttribute("aria-selected", String(on));
        other.tabIndex = on ? 0 : -1;
        $(other.getAttribute("aria-controls")).hidden = !on;
      }
    }

    /* ---- little helpers of the form --------------------------------------------------------- */

    function slugify(text) {
      return text
        .toLowerCase()
        .normalize("NFKD")
        .replace(/[\u0300-\u036f]/g, "")
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 64)
        .replace(/-+$/, "");
    }

    function countInstructions() {
      const n = $("f-instructions").value.trim().length;
      const node = $("instructions-count");
      node.textContent = t("chars", { n });
      node.classList.toggle("is-short", n < 40);
    }

    /* ---- wiring ---------------------------------------------------------------------------- */

    fill(page.master);
    resetPreview();

    form.addEventListener("input", (event) => {
      const target = event.target;
      if (target.id === "f-avatar-image") return;
      if (target.id === "f-id") state.idTouched = true;
      if (target.id === "f-name-en" && state.mode === "new" && !state.idTouched) $("f-id").value = slugify(target.value);
      if (target.id === "f-avatar") showAvatar();
      if (target.id === "f-instructions") countInstructions();
      if ((target.id.startsWith("f-greeting-") || target.id === "f-avatar") && !preview.running && !$("preview-thread").querySelector(".msg-user")) resetPreview();
      markDirty();
    });
    form.addEventListener("change", (event) => {
      if (event.target.matches("select, input[type=checkbox]")) markDirty();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save();
    });
    $("publish").addEventListener("click", () => save("published"));
    $("unpublish").addEventListener("click", () => save("draft"));
    $("delete-master").addEventListener("click", (event) => deleteMaster(event.currentTarget));
    $("f-avatar-image").addEventListener("change", (event) => pickImage(event.target));
    $("avatar-image-remove").addEventListener("click", () => {
      state.avatarImage = null;
      showAvatar();
      markDirty();
    });
    $("add-example").addEventListener("click", () => {
      const row = addExample(null);
      row.querySelector("textarea").focus();
      markDirty();
    });
    $("examples-list").addEventListener("click", (event) => {
      const button = event.target.closest(".example-remove");
      if (!button) return;
      button.closest(".example-row").remove();
      if (!$("examples-list").children.length) addExample(null);
      markDirty();
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

    $("run-test").addEventListener("click", runTest);
    $("stop-test").addEventListener("click", () => test.controller && test.controller.abort());
    $("preview-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sendPreview();
    });
    $("preview-input").addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.altKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      sendPreview();
    });
    $("preview-stop").addEventListener("click", () => preview.controller && preview.controller.abort());
    $("preview-reset").addEventListener("click", resetPreview);

    if (state.mode === "new") $("f-name-zh").focus();
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
