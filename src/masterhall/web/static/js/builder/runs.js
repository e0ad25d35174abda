/* MasterHall — what the builder's one-click test and preview share: the form's master for a run
 * (as it is: a partial draft runs too, see builder/draft.py), what a run of an incomplete draft
 * says is missing (its `draft` event), a refused run's message, and a usage line (TTFT, speed,
 * tokens). `createRuns(ctx)` returns {draftForRun, incomplete, refused, usageLine, contextWarning}.
 */

import { describeError } from "../lib/api.js";
import { number, t } from "../lib/i18n.js";

export function createRuns(ctx) {
  const { state } = ctx;

  /** The form's master for a test run, as it is: the server runs a partial draft and says what
   *  is missing (see `incomplete`), so nothing here waits for the whole form to be valid. */
  function draftForRun(notice) {
    const { master } = ctx.collect();
    if (!master) notice(t("fix_fields_first"));
    return master || null;
  }

  /** A run of an incomplete draft: mark the missing fields in the form (and its summary) and
   *  say in `notice` that the run goes on without them. */
  function incomplete(missing, notice) {
    if (!missing || !missing.length) return;
    state.live = true;
    ctx.fields.showErrors(missing);
    notice(t("draft_incomplete", { fields: ctx.fields.labels(missing).join(t("list_sep")) }));
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
      ctx.fields.showErrors(fields);
      notice(t("fix_fields_first"));
    } else {
      notice(describeError(err.code, err.message));
    }
  }

  /** The warning for a master that asks for a larger context window than its backend has. */
  function contextWarning(warning) {
    if (!warning) return "";
    return t("warn_context_window", { asked: number(warning.asked, 0), available: number(warning.available, 0), backend: warning.backend });
  }

  return { draftForRun, incomplete, refused, usageLine, contextWarning };
}
