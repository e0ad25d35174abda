/* MasterHall — the conversations sidebar as a drawer on narrow screens (the layout's breakpoint,
 * 860 px): a modal dialog while open (the rest of the page inert, focus moved in and kept inside,
 * Escape or the backdrop closes it, focus goes back to the control that opened it) and inert while
 * closed (off-screen, out of the tab order). On wide screens it is a plain, always-shown column. */

import { t } from "../lib/i18n.js";

const NARROW = "(max-width: 860px)";
const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

/** Wire the drawer: `sidebar`, `toggle` (the opener), `close` (its close button), `backdrop`,
 *  and `outside` (the elements made inert while it is open). Returns {open, close, isOpen}. */
export function Drawer({ sidebar, toggle, close, backdrop, outside }) {
  const narrow = window.matchMedia(NARROW);
  let opener = null;

  const isOpen = () => document.body.classList.contains("sidebar-open");

  function focusables() {
    return Array.from(sidebar.querySelectorAll(FOCUSABLE)).filter((n) => !n.closest("[hidden]") && n.getClientRects().length);
  }

  /** Roles and inertness for the current width and state. */
  function sync() {
    const modal = narrow.matches;
    const open = isOpen();
    if (modal) {
      sidebar.setAttribute("role", "dialog");
      sidebar.setAttribute("aria-modal", "true");
      sidebar.setAttribute("aria-label", t("conversations"));
    } else {
      sidebar.setAttribute("role", "complementary"); // a plain landmark beside the chat
      sidebar.removeAttribute("aria-modal");
    }
    sidebar.inert = modal && !open;
    for (const node of outside) node.inert = modal && open;
    toggle.setAttribute("aria-expanded", String(modal && open));
    backdrop.hidden = !(modal && open);
  }

  function open() {
    opener = document.activeElement && document.activeElement !== document.body ? document.activeElement : toggle;
    document.body.classList.add("sidebar-open");
    sync();
    const current = sidebar.querySelector(".conv-item.is-current .conv-link");
    (current || focusables()[0] || sidebar).focus();
  }

  function shut() {
    if (!isOpen()) return;
    document.body.classList.remove("sidebar-open");
    sync();
    const back = opener && opener.isConnected && !opener.closest("[inert]") ? opener : toggle;
    opener = null;
    if (narrow.matches) back.focus();
  }

  toggle.addEventListener("click", () => (isOpen() ? shut() : open()));
  close.addEventListener("click", shut);
  backdrop.addEventListener("click", shut);
  sidebar.addEventListener("keydown", (event) => {
    if (!narrow.matches || !isOpen()) return;
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      shut();
    } else if (event.key === "Tab") {
      // keep focus inside the dialog: from the last control to the first, and back
      const items = focusables();
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  narrow.addEventListener("change", () => {
    if (!narrow.matches) document.body.classList.remove("sidebar-open");
    sync();
  });
  sync();
  return { open, close: shut, isOpen };
}
