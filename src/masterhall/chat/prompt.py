"""Build the messages of one turn and fit them into the model's context window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..backends.base import ChatMessage
from ..catalog.models import Master
from .language import LANGUAGE_NAMES, detect_language

#: Tokens a chat template adds around each message (role markers); Qwen's ChatML uses ~4-5.
MESSAGE_OVERHEAD_TOKENS = 5


class ContextTooLongError(ValueError):
    """Even the system prompt and the new message alone do not fit the context window.

    ``needed`` and ``available`` are token counts.
    """

    def __init__(self, needed: int, available: int):
        self.needed = needed
        self.available = available
        super().__init__(
            f"The message is too long for this model's context window: it needs about {needed} tokens "
            f"but only {available} are available for the prompt. Shorten the message or use a model "
            "with a larger context window."
        )


def hall_preamble(lang: str, today: dt.date) -> str:
    """The hall's short rules appended to every master's instructions (language, safety, date)."""
    return (
        "## Hall rules\n"
        f"- Today is {today.isoformat()}.\n"
        "- Stay in your role and method. Keep answers short and end by moving the person forward.\n"
        "- If the person mentions suicide, self-harm or violence at home, answer with care and point them "
        "to emergency services, a crisis hotline or a professional. Health and money topics are general "
        "information, never a diagnosis or a guarantee.\n"
        f"- The person writes in {LANGUAGE_NAMES.get(lang, 'English')}. "
        f"Reply only in {LANGUAGE_NAMES.get(lang, 'English')}."
    )


@dataclass
class BuiltPrompt:
    """The exact messages sent to the backend for one turn, with their token accounting.

    ``tokens``: tokens per message (same order as ``messages``); ``budget``: tokens the prompt may
    use (context window minus the reply reserve); ``dropped_turns``: history messages left out
    (oldest first); ``dropped_examples``: example exchanges left out.
    """

    messages: list[ChatMessage]
    tokens: list[int]
    context_window: int
    reply_reserve: int
    dropped_turns: int = 0
    dropped_examples: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def prompt_tokens(self) -> int:
        """Estimated prompt size in tokens (sum of ``tokens``)."""
        return sum(self.tokens)

    @property
    def budget(self) -> int:
        """Tokens available to the prompt."""
        return self.context_window - self.reply_reserve

    def to_dict(self) -> dict:
        """JSON-ready description (for ``--json`` and debug views)."""
        return {
            "messages": [m.to_dict() for m in self.messages],
            "tokens": self.tokens,
            "prompt_tokens": self.prompt_tokens,
            "context_window": self.context_window,
            "reply_reserve": self.reply_reserve,
            "dropped_turns": self.dropped_turns,
            "dropped_examples": self.dropped_examples,
        }


def system_prompt(master: Master, lang: str, today: dt.date, extra: str | None = None) -> str:
    """The master's instructions, optional ``extra`` context, then the hall preamble."""
    parts = [master.instructions.strip()]
    if extra:
        parts.append(extra.strip())
    parts.append(hall_preamble(lang, today))
    return "\n\n".join(parts)


def _examples_for(master: Master, lang: str) -> list:
    """The example exchanges written in ``lang`` (all of them when none is).

    Small models copy the language of the last example they see, so examples in the other
    language would pull the reply away from the person's language.
    """
    same = [ex for ex in master.examples if detect_language(ex.user + ex.assistant) == lang]
    return same or list(master.examples)


def build_prompt(
    master: Master,
    history: Sequence[ChatMessage],
    user_message: str,
    *,
    lang: str,
    count_tokens: Callable[[str], int],
    context_window: int,
    max_tokens: int | None,
    today: dt.date | None = None,
    extra_system: str | None = None,
    client_system: str | None = None,
) -> BuiltPrompt:
    """Assemble system prompt, examples, history and the new message, within ``context_window``.

    The reply reserve is ``max_tokens`` (default 512), at most half the window. When the whole
    does not fit, examples written in the person's language are used (all when none is); the oldest history messages go first (a leftover leading assistant message
    goes with them), then the example exchanges from the last; the system prompt and the new
    message are never dropped. Raises :class:`ContextTooLongError` when those two alone
    do not fit. ``client_system`` (e.g. an API client's own system message) is added after the
    master's system prompt, never instead of it.
    """
    today = today or dt.date.today()
    reserve = min(max_tokens or 512, context_window // 2)
    budget = context_window - reserve

    def cost(msg: ChatMessage) -> int:
        return count_tokens(msg.content) + MESSAGE_OVERHEAD_TOKENS

    head = [ChatMessage("system", system_prompt(master, lang, today, extra_system))]
    if client_system:
        head.append(ChatMessage("system", client_system))
    new = ChatMessage("user", user_message)
    head_costs = [cost(m) for m in head]
    new_cost = cost(new)
    fixed = sum(head_costs) + new_cost
    if fixed > budget:
        raise ContextTooLongError(fixed, budget)

    examples: list[ChatMessage] = []
    for ex in _examples_for(master, lang):
        examples += [ChatMessage("user", ex.user), ChatMessage("assistant", ex.assistant)]
    example_costs = [cost(m) for m in examples]
    hist = list(history)
    hist_costs = [cost(m) for m in hist]

    dropped_turns = 0
    while hist and fixed + sum(example_costs) + sum(hist_costs) > budget:
        hist.pop(0)
        hist_costs.pop(0)
        dropped_turns += 1
        while hist and hist[0].role != "user":
            hist.pop(0)
            hist_costs.pop(0)
            dropped_turns += 1
    dropped_examples = 0
    while examples and fixed + sum(example_costs) + sum(hist_costs) > budget:
        del examples[-2:]
        del example_costs[-2:]
        dropped_examples += 1

    built = BuiltPrompt(
        messages=head + examples + hist + [new],
        tokens=head_costs + example_costs + hist_costs + [new_cost],
        context_window=context_window,
        reply_reserve=reserve,
        dropped_turns=dropped_turns,
        dropped_examples=dropped_examples,
    )
    if dropped_turns:
        built.notes.append(f"{dropped_turns} earlier message(s) left out to fit the context window")
    if dropped_examples:
        built.notes.append(f"{dropped_examples} example exchange(s) left out to fit the context window")
    return built
