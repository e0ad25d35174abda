/* MasterHall — requests to the hall's JSON API, and its errors as readable sentences. */

import { t } from "./i18n.js";

/** An error from the API or the network: `status` (0 = no answer), `code`, readable `message`, `body`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Turn a failed response (`{"error": {code, message}}` or FastAPI's `{"detail"}`) into an ApiError. */
export async function errorFromResponse(response) {
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
}

/** A request that resolves to the response once the server accepted it; throws ApiError otherwise. */
export async function request(path, options) {
  const opts = options || {};
  const init = { method: opts.method || "GET", headers: { Accept: "application/json" }, signal: opts.signal };
  if (opts.body !== undefined && opts.body !== null) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", t("err_network"));
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

/** JSON request to the API; resolves to the parsed body (null for 204). */
export async function api(path, options) {
  const response = await request(path, options);
  if (response.status === 204) return null;
  return response.json();
}

/** A readable, translated sentence for an API error `code` and its server `message`. */
export function describeError(code, message) {
  switch (code) {
    case "network":
      return t("err_network");
    case "connection_lost":
      return t("err_connection_lost");
    case "context_length":
      return t("err_context_length", { message });
    case "unavailable":
      return t("err_unavailable", { message });
    case "invalid_message":
    case "invalid_request":
    case "not_found":
      return t("err_invalid", { message });
    default:
      return message ? t("err_generic", { message }) : t("err_generic", { message: code || "?" });
  }
}
