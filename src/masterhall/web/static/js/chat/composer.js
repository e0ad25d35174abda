/* MasterHall — text boxes of the chat: Enter sends (never while an input method composes; Shift+Enter
 * is a new line), and the box grows with its text. */

/** Call `onSend` on Enter, never while an input method is composing; Shift+Enter is a newline. */
export function bindEnter(area, onSend) {
  let composing = false;
  area.addEventListener("compositionstart", () => {
    composing = true;
  });
  area.addEventListener("compositionend", () => {
    composing = false;
  });
  area.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.altKey) return;
    if (event.isComposing || event.keyCode === 229 || composing) return;
    event.preventDefault();
    onSend();
  });
}

/** Grow `area` to its text, up to 40 % of the window's height. */
export function autosize(area) {
  area.style.height = "auto";
  area.style.height = Math.min(area.scrollHeight + 2, Math.round(window.innerHeight * 0.4)) + "px";
}
