/* MasterHall — what the builder's one-click test and preview share: the form's master for a run
 * (or the fields to fix first), a refused run's message, and a usage line (TTFT, speed, tokens).
 * `createRuns(ctx)` returns {draftForRun, refused, usageLine, contextWarning}.
 */

import { describeError } from "../lib/api.js";
import { number, t } from "../lib/i18n.js";

export function createRuns(ctx) {
  const { state } = ctx;

  /** The form's master for a test run, or null after showing what must be fixed first. */
  function draftForRun(notice) {
    const { master, errors } = ctx.collect();
    if (errors.length) {
      state.live = true;
      ctx.fields.showErrors(errors);
      notice(t("fix_fields_first"));
      return null;
    }
    return master;
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

  return { draftForRun, refused, usageLine, contextWarning };
}
