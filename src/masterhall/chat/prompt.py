"""Build the messages of one turn and fit them into the model's context window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

from ..backends.base import ChatMessage
from ..catalog.models import Example, Master
from .checks import is_degenerate
from .examples import examples_in
from .language import LANGUAGE_NAMES

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
    #: The example exchanges shown (in the system prompt or as turns), for echo checks.
    examples: list[Example] = field(default_factory=list)
    #: A guide's recommendations for this turn (see :class:`~masterhall.chat.engine.GuideBrief`).
    recommendations: dict | None = None
    #: The master's knowledge for this turn (a :class:`~masterhall.chat.grounding.KnowledgeBrief`), if any.
    knowledge: Any = None

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


_RECIPE_HEADING = {"zh": "## 回复方法（每次都照做）", "en": "## How you reply (every time)"}
_EXAMPLES_HEADING = {
    "zh": "## 示范（另一个人、另一个问题：学它的方法，不要照抄它的句子）",
    "en": "## How this looks (another person, another question: use the method, never these words)",
}
_PERSON = {"zh": ("来访者", "你"), "en": ("Person", "You")}


def recipe_section(master: Master, lang: str) -> str | None:
    """The master's reply recipe as a numbered list under a heading, or ``None`` without one."""
    if master.recipe is None:
        return None
    key = "zh" if lang == "zh" else "en"
    moves = master.recipe.get(key)
    return "\n".join([_RECIPE_HEADING[key], *(f"{i}. {move}" for i, move in enumerate(moves, 1))])


def examples_section(examples: Sequence[Example], lang: str) -> str | None:
    """Example exchanges quoted inside the system prompt, marked as illustrations of the method."""
    if not examples:
        return None
    key = "zh" if lang == "zh" else "en"
    person, you = _PERSON[key]
    blocks = [f"{person}: {ex.user}\n{you}: {ex.assistant}" for ex in examples]
    return "\n\n".join([_EXAMPLES_HEADING[key], *blocks])


def system_prompt(
    master: Master,
    lang: str,
    today: dt.date,
    extra: str | None = None,
    *,
    compact: bool = False,
    quoted_examples: Sequence[Example] = (),
) -> str:
    """The master's instructions, optional ``extra`` context, then the hall preamble.

    ``quoted_examples`` are shown as illustrations after the preamble; with ``compact`` (small
    models) the master's reply recipe ends the prompt, so the last thing the model reads before
    the conversation is what to do.
    """
    parts = [master.instructions.strip()]
    if extra:
        parts.append(extra.strip())
    parts.append(hall_preamble(lang, today))
    if quoted := examples_section(quoted_examples, lang):
        parts.append(quoted)
    if compact and (recipe := recipe_section(master, lang)):
        parts.append(recipe)
    return "\n\n".join(parts)


@dataclass(frozen=True)
class PromptOptions:
    """How one turn's prompt is laid out.

    ``examples``: how many example exchanges to show (the nearest to the message when an
    :class:`~masterhall.chat.examples.ExampleSelector` is given, shown in the master's own order
    so that every conversation with a master opens with the same, cacheable prompt; ``None`` =
    all those in the person's language). Default 3: on 31 development questions read blind,
    persona 0.48–0.52 → 0.69 of 2 and usefulness 0.76–0.79 → 0.79 against one example (nearest
    first: 0.79–0.87 / 0.84–0.87, but a new conversation's opening would rarely be cached); on the
    42 test questions 0.38 → 0.54 and 0.50 → 0.57, echo 9.5 % → 2.4 % (README *Answer quality*).
    ``placement``: ``turns`` (as user/assistant messages after the system prompt, the classic
    few-shot form; the default: read blind, better on 50 dev questions and a little more useful
    on the test split) or ``system`` (quoted inside the system prompt as illustrations of the
    method). ``style``: ``compact`` ends the system prompt with the reply recipe (small models),
    ``full`` does not; ``None`` takes the backend's ``prompt_style``.
    """

    examples: int | None = 3
    placement: Literal["turns", "system"] = "turns"
    style: Literal["compact", "full"] | None = None


def clean_history(history: Sequence[ChatMessage]) -> tuple[list[ChatMessage], int]:
    """History fit to be fed back: degenerate assistant answers left out.

    An assistant message that is empty, ends in a repetition loop or mostly repeats the user's
    message back (see :func:`~masterhall.chat.checks.is_degenerate`) is dropped; user messages
    that then follow each other are joined into one, so roles keep alternating (some chat
    templates require it). Returns the cleaned list and how many answers were dropped.
    """
    out: list[ChatMessage] = []
    dropped = 0
    last_user = ""
    for msg in history:
        if msg.role == "assistant" and is_degenerate(msg.content, last_user):
            dropped += 1
            continue
        if msg.role == "user":
            last_user = msg.content
            if out and out[-1].role == "user":
                out[-1] = ChatMessage("user", out[-1].content + "\n\n" + msg.content)
                continue
        out.append(msg)
    return out, dropped


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
    examples: Sequence[Example] | None = None,
    options: PromptOptions | None = None,
    style: Literal["compact", "full"] = "full",
) -> BuiltPrompt:
    """Assemble system prompt, examples, history and the new message, within ``context_window``.

    ``examples``: the exchanges chosen for this turn (``None``: those of the person's language,
    as many as ``options.examples``); ``options.placement`` puts them in the system prompt or
    as turns; ``style`` (or ``options.style``) ``compact`` ends the system prompt with the
    master's reply recipe. Degenerate earlier answers are left out of the history (see
    :func:`clean_history`; counted in ``notes``). The reply reserve is ``max_tokens`` (default
    512), at most half the window. When the whole does not fit, the oldest history messages go
    first (a leftover leading assistant message goes with them), then example turns from the
    last; the system prompt and the new message are never dropped. Raises
    :class:`ContextTooLongError` when those two alone do not fit. ``client_system`` (e.g. an API
    client's own system message) ends the master's system message (one system message, never
    two: templates such as Gemma's and Mistral's refuse a second), never instead of it.
    """
    today = today or dt.date.today()
    options = options or PromptOptions()
    compact = (options.style or style) == "compact"
    if examples is None:
        examples = examples_in(master, lang)
        if options.examples is not None:
            examples = examples[: options.examples]
    quoted = list(examples) if options.placement == "system" else []
    as_turns = [] if options.placement == "system" else list(examples)
    reserve = min(max_tokens or 512, context_window // 2)
    budget = context_window - reserve

    def cost(msg: ChatMessage) -> int:
        return count_tokens(msg.content) + MESSAGE_OVERHEAD_TOKENS

    system = system_prompt(master, lang, today, extra_system, compact=compact, quoted_examples=quoted)
    if client_system and client_system.strip():  # one system message: many templates take no second one
        system = f"{system}\n\n{client_system.strip()}"
    head = [ChatMessage("system", system)]
    new = ChatMessage("user", user_message)
    head_costs = [cost(m) for m in head]
    new_cost = cost(new)
    fixed = sum(head_costs) + new_cost
    if fixed > budget:
        raise ContextTooLongError(fixed, budget)

    example_msgs: list[ChatMessage] = []
    for ex in as_turns:
        example_msgs += [ChatMessage("user", ex.user), ChatMessage("assistant", ex.assistant)]
    example_costs = [cost(m) for m in example_msgs]
    hist, degenerate = clean_history(history)
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
    while example_msgs and fixed + sum(example_costs) + sum(hist_costs) > budget:
        del example_msgs[-2:]
        del example_costs[-2:]
        dropped_examples += 1

    built = BuiltPrompt(
        messages=head + example_msgs + hist + [new],
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
    if degenerate:
        built.notes.append(f"{degenerate} earlier answer(s) left out of the prompt: they repeated themselves or the message")
    built.examples = quoted + as_turns[: len(example_msgs) // 2]
    return built
