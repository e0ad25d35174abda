/* MasterHall — the one reader of the hall's Server-Sent Events, for every streamed answer
 * (the chat, the builder's one-click test and preview).
 *
 *   const outcome = await streamEvents(path, body, { signal, onOpen, onEvent });
 *
 * POSTs `body` as JSON (or sends `method`, e.g. "GET" with a null body); throws an ApiError when the server refuses the request (nothing started;
 * an AbortError when `signal` aborted first), else calls onOpen() once the server accepted it,
 * then onEvent({event, data}) for each event (data parsed as JSON), and resolves to
 * {ended: true} once the stream has ended, or to {ended: false, aborted} when it broke off
 * (aborted: stopped through `signal`; else the connection was lost).
 */

import { request } from "./api.js";

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

/** Iterate the Server-Sent Events of a fetch response as `{event, data}`. */
export async function* readEvents(response) {
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
}

/** POST `body` to `path` and hand every event of the answer to `onEvent` (see the top of this file). */
export async function streamEvents(path, body, { signal, onOpen, onEvent, method }) {
  const response = await request(path, { method: method || "POST", body, signal });
  if (onOpen) onOpen();
  try {
    for await (const event of readEvents(response)) onEvent(event);
  } catch (err) {
    return { ended: false, aborted: !!(signal && signal.aborted) };
  }
  return { ended: true, aborted: false };
}
