/* MasterHall — the builder's avatar: the emoji, or an uploaded picture (read in the browser as a
 * data URL; the server checks type, content and size). `createAvatar(ctx, saving)` returns
 * {showAvatar, pickImage}.
 */

import { fillAvatar } from "../lib/avatar.js";
import { $ } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

const AVATAR_IMAGE_MAX = 200 * 1024;
const AVATAR_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

export function createAvatar(ctx, saving) {
  const { state } = ctx;

  function showAvatar() {
    fillAvatar($("avatar-preview"), { avatar: $("f-avatar").value.trim() || "✨", avatar_image: state.avatarImage });
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
      ctx.fields.showErrors([{ field: "avatar_image", message: t("v_avatar_too_big", { kb: Math.ceil(file.size / 1024) }), type: "client" }]);
      return;
    }
    let url;
    try {
      url = await readImage(file);
    } catch (err) {
      ctx.fields.showErrors([{ field: "avatar_image", message: t("v_avatar_unreadable"), type: "client" }]);
      return;
    }
    // Whatever was picked goes to the server, which checks type, content and size; the
    // preview only shows a data:image URL of an accepted type that the browser can decode.
    state.avatarImage = url;
    const shown = AVATAR_TYPES.some((type) => url.startsWith("data:" + type + ";base64,")) && (await decodes(url));
    if (state.avatarImage !== url) return; // another file was picked meanwhile
    if (shown) showAvatar();
    else fillAvatar($("avatar-preview"), { avatar: "⚠️" });
    $("avatar-image-remove").hidden = false;
    saving.markDirty();
    state.live = true;
    saving.validateNow();
  }

  return { showAvatar, pickImage };
}
