/* MasterHall — shared helpers for every page (namespace window.MasterHall):
 *   t(key, values)        interface string in the page's language, {placeholders} filled
 *   el(tag, props, ...)   build an element; children are nodes or strings (always as text)
 *   api(path, options)    JSON request; throws MasterHall.ApiError with a readable message
 *   postStream(...)       POST that returns an SSE response (or throws ApiError)
 *   readEvents(response)  async iterator over Server-Sent Events {event, data}
 *   copyText(text)        clipboard, with a fallback for non-secure (plain http) origins
 *   fillAvatar(node, m)   a master's avatar: its uploaded picture as <img>, else its emoji as text
 * and the model-status banner, which polls /api/status while the model loads.
 * Model or user text is only ever put into the page as text, never as HTML.
 */
(function () {
  "use strict";

  const MH = (window.MasterHall = window.MasterHall || {});

  function readJSON(id, fallback) {
    const node = document.getElementById(id);
    if (!node) return fallback;
    try {
      return JSON.parse(node.textContent);
    } catch (err) {
      return fallback;
    }
  }

  MH.strings = readJSON("mh-strings", {});
  MH.lang = document.documentElement.dataset.lang || "en";

  /** The interface string `key`, with `{name}` placeholders replaced from `values`. */
  MH.t = function (key, values) {
    const text = Object.prototype.hasOwnProperty.call(MH.strings, key) ? MH.strings[key] : key;
    if (!values) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  };

  /** Create an element: `props` sets properties (className, hidden, dataset.*, on*), children are text. */
  MH.el = function (tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "attrs") for (const [a, v] of Object.entries(value)) node.setAttribute(a, v);
      else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  /** An error from the API or the network: `status` (0 = no answer), `code`, readable `message`. */
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.name = "ApiError";
      this.status = status;
      this.code = code;
    }
  }
  MH.ApiError = ApiError;

  /** Turn a failed response (`{"error": {code, message}}` or FastAPI's `{"detail"}`) into an ApiError. */
  MH.errorFromResponse = async function (response) {
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null;
    }
    const error = body && typeof body.error === "object" ? body.error : null;
    let message = error && error.message;
    if (!message && body && body.detail) message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    if (!message) message = response.statusText || "HTTP " + response.status;
    const apiError = new ApiError(response.status, (error && error.code) || "http_" + response.status, message);
    apiError.body = error; // the whole error object, e.g. the builder's per-field `fields`
    return apiError;
  };

  async function request(path, options) {
    const opts = options || {};
    const init = { method: opts.method || "GET", headers: { Accept: "application/json" }, signal: opts.signal };
    if (opts.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError(0, "network", MH.t("err_network"));
    }
    if (!response.ok) throw await MH.errorFromResponse(response);
    return response;
  }

  /** JSON request to the API; resolves to the parsed body (null for 204). */
  MH.api = async function (path, options) {
    const response = await request(path, options);
    if (response.status === 204) return null;
    return response.json();
  };

  /** POST `body` and resolve to the streaming response once the server accepted it. */
  MH.postStream = function (path, body, signal) {
    return request(path, { method: "POST", body: body === null ? undefined : body, signal });
  };

  function parseFrame(frame) {
    let event = "message";
    const data = [];
    for (const line of frame.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return null;
    const raw = data.join("\n");
    try {
      return { event, data: JSON.parse(raw) };
    } catch (err) {
      return { event, data: raw };
    }
  }

  /** Iterate the Server-Sent Events of a fetch response as `{event, data}` (data parsed as JSON). */
  MH.readEvents = async function* (response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = parseFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (frame) yield frame;
        }
      }
      buffer += decoder.decode();
      const last = parseFrame(buffer.trim());
      if (last) yield last;
    } finally {
      reader.releaseLock();
    }
  };

  /* Only these data URLs are ever used as an avatar picture (the server checks them as well). */
  const AVATAR_IMAGE = /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]+={0,2}$/;

  /** True for an uploaded avatar picture: a base64 data URL of a PNG, JPEG, WebP or GIF. */
  MH.isAvatarImage = function (value) {
    return typeof value === "string" && AVATAR_IMAGE.test(value);
  };

  /** Show a master's avatar in `node`: `avatar_image` as an <img> when valid, else `avatar` as text. */
  MH.fillAvatar = function (node, master) {
    const image = master && master.avatar_image;
    if (MH.isAvatarImage(image)) {
      node.replaceChildren(MH.el("img", { className: "avatar-img", src: image, alt: "" }));
      node.classList.add("has-image");
    } else {
      node.replaceChildren();
      node.textContent = (master && master.avatar) || "💬";
      node.classList.remove("has-image");
    }
    return node;
  };

  /** Copy `text` to the clipboard; resolves to true on success. */
  MH.copyText = async function (text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (err) {
        /* fall back below */
      }
    }
    const area = MH.el("textarea", { value: text, readOnly: true, className: "clipboard-helper" });
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (err) {
      ok = false;
    }
    area.remove();
    return ok;
  };

  /* ---- model status banner ------------------------------------------------------------- */

  function showStatus(model) {
    const banner = document.getElementById("status-banner");
    if (!banner || !model) return;
    const text = banner.querySelector(".status-text");
    banner.dataset.state = model.state;
    banner.classList.toggle("is-error", model.state === "error");
    if (model.state === "loading") {
      text.textContent = MH.t("model_loading");
      banner.hidden = false;
    } else if (model.state === "error") {
      text.textContent = MH.t("model_error", { message: model.message || "" });
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
    document.dispatchEvent(new CustomEvent("masterhall:status", { detail: model }));
  }

  /** Poll /api/status while the model loads; the banner goes away once it is ready. */
  MH.watchStatus = function (intervalMs) {
    const delay = intervalMs || 1500;
    let failures = 0;
    async function tick() {
      try {
        const body = await MH.api("/api/status");
        failures = 0;
        showStatus(body.model);
        if (body.model && body.model.state === "loading") setTimeout(tick, delay);
      } catch (err) {
        failures += 1;
        setTimeout(tick, Math.min(delay * 2 ** failures, 15000));
      }
    }
    tick();
  };

  /* The language link returns to the page as it is now (a new chat may have become /chat/{id}). */
  function bindLanguageSwitch() {
    const link = document.getElementById("lang-switch");
    if (!link) return;
    link.addEventListener("click", function () {
      const here = location.pathname + location.search + location.hash;
      link.href = "/lang/" + encodeURIComponent(link.dataset.lang) + "?next=" + encodeURIComponent(here);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const banner = document.getElementById("status-banner");
    if (banner && banner.dataset.state === "loading") MH.watchStatus();
    bindLanguageSwitch();
  });
})();
