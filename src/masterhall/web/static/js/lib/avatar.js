/* MasterHall — a master's avatar: its uploaded picture (a checked data URL) as <img>, else its emoji as text. */

import { el } from "./dom.js";

/* Only these data URLs are ever used as an avatar picture (the server checks them as well). */
const AVATAR_IMAGE = /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]+={0,2}$/;

/** True for an uploaded avatar picture: a base64 data URL of a PNG, JPEG, WebP or GIF. */
export function isAvatarImage(value) {
  return typeof value === "string" && AVATAR_IMAGE.test(value);
}

/** Show a master's avatar in `node`: `avatar_image` as an <img> when valid, else `avatar` as text. */
export function fillAvatar(node, master) {
  const image = master && master.avatar_image;
  if (isAvatarImage(image)) {
    node.replaceChildren(el("img", { className: "avatar-img", src: image, alt: "" }));
    node.classList.add("has-image");
  } else {
    node.replaceChildren();
    node.textContent = (master && master.avatar) || "💬";
    node.classList.remove("has-image");
  }
  return node;
}
