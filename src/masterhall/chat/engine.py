"""The chat engine: one turn = rate it for safety, build the prompt, stream the reply, return it with usage.

It knows nothing of HTTP or terminals; the CLI, the web app and the API call it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from ..backends.base import Backend, ChatMessage, Usage, deferred_stream, preread
from ..backends.registry import BackendRegistry
from ..backends.sampling import capped
from ..catalog.loader import Catalog
from ..catalog.models import Example, Master, SamplingParams
from ..config import Settings
from ..safety.guard import Assessment, SafetyGuard
from .examples import ExampleSelector, LexicalExampleSelector
from .grounding import KnowledgeContext, leak_cut
from .language import detect_language
from .prompt import MESSAGE_OVERHEAD_TOKENS, BuiltPrompt, PromptOptions, build_prompt
from .stream_checks import checked_stream


@dataclass
class GuideBrief:
    """What a guide context gives a guide's turn: ``text`` for its system prompt and
    ``recommendations``, a JSON-ready record of the masters recommended for the message (kept with
    the answer and shown as master cards), e.g. ``{"query", "lang", "no_fit", "matches": [{"id",
    "name", "reason", "strength", "fit"}]}``; ``None`` when there are none to show."""

    text: str
    recommendations: dict | None = None


#: ``guide_context(master, user_message, lang) -> str | GuideBrief``: extra system text (and
#: recommendations) for a guide master.
GuideContext = Callable[[Master, str, str], "str | GuideBrief"]


@dataclass
class Reply:
    """A finished (or stopped, or failed) turn.

    ``text`` is everything produced, even when ``usage.finish_reason`` is ``cancelled`` or
    ``error``; ``prompt`` is exactly what the backend received (``None`` when the guard answered).
    ``safety`` is the safety guard's record of the turn (``None`` for an ordinary turn): level,
    kind, rule or score, and ``action`` (``help``: the guard answered; ``replaced`` / ``appended``
    / ``kept``: an elevated turn's reply was checked; ``careful``: the careful note was added).
    """

    text: str
    usage: Usage
    master_id: str
    backend: str
    model: str
    params: SamplingParams
    lang: str
    prompt: BuiltPrompt | None = None
    safety: dict | None = None
    notes: list[str] = field(default_factory=list)
    #: A guide's recommendations for the turn (see :class:`GuideBrief`), else ``None``.
    recommendations: dict | None = None
    #: The knowledge the answer drew on (see :meth:`KnowledgeBrief.citations`), else ``None``.
    citations: list[dict] | None = None

    def to_dict(self) -> dict:
        """JSON-ready form (for ``--json`` and the APIs)."""
        return {
            "master": self.master_id,
            "text": self.text,
            "lang": self.lang,
            "backend": self.backend,
            "model": self.model,
            "params": self.params.model_dump(exclude_none=True),
            "usage": self.usage.to_dict(),
            "safety": self.safety,
            "dropped_turns": self.prompt.dropped_turns if self.prompt else 0,
            "notes": self.notes,
            "recommendations": self.recommendations,
            "citations": self.citations,
        }


class Turn:
    """A streaming turn: iterate to get text deltas; afterwards ``reply`` holds the result.

    Stop early with :meth:`close` (or by breaking out and closing): the reply keeps the text
    produced so far with ``finish_reason="cancelled"``.
    """

    def __init__(self, stream: Iterator[str | Usage], make_reply: Callable[[str, Usage], Reply], prompt: BuiltPrompt | None = None):
        self._stream = stream
        self._make_reply = make_reply
        #: Exactly what the backend receives (``None`` when the safety guard answers).
        self.prompt = prompt
        #: The safety guard's record of this turn (``None`` for an ordinary turn).
        self.safety: dict | None = None
        self.reply: Reply | None = None
        self._iter = self._run()

    def __iter__(self) -> Iterator[str]:
        return self._iter

    def __next__(self) -> str:
        return next(self._iter)

    def _run(self) -> Iterator[str]:
        parts: list[str] = []
        usage: Usage | None = None
        try:
            for item in self._stream:
                if isinstance(item, Usage):
                    usage = item
                else:
                    parts.append(item)
                    yield item
        except GeneratorExit:
            usage = Usage(completion_tokens=len(parts), finish_reason="cancelled")
            close = getattr(self._stream, "close", None)
            if close:
                close()
            raise
        finally:
            if usage is None:
                usage = Usage(completion_tokens=len(parts), finish_reason="cancelled")
            self.reply = self._make_reply("".join(parts), usage)

    def close(self) -> None:
        """Stop the generation now; ``reply`` is then set with what was produced."""
        self._iter.close()
        if self.reply is None:  # never started
            self.reply = self._make_reply("", Usage(finish_reason="cancelled"))

    def collect(self) -> Reply:
        """Consume the whole stream and return the :class:`Reply`."""
        for _ in self:
            pass
        assert self.reply is not None
        return self.reply


def conversation_anchor(history: Sequence[ChatMessage], user_message: str, lang: str) -> str:
    """The message the examples of a turn are chosen by: the conversation's first user message in
    ``lang`` (``user_message`` when there is none).

    Choosing by the first message keeps a conversation's system prompt the same from turn to turn,
    so the backend's KV cache covers the whole earlier conversation and long conversations do not
    slow down; choosing by each new message would change the prompt near its start every turn and
    force the backend to re-read the whole history.
    """
    for message in history:
        if message.role == "user" and detect_language(message.content) == lang:
            return message.content
    return user_message


class ChatEngine:
    """Runs turns with the masters of ``catalog`` on the backends of ``registry``.

    Backend choice: an explicit ``backend`` argument (the CLI's ``--backend``) beats the
    master's ``model``, which beats ``settings.backend``. Sampling parameters merge the same way
    over the backend's model defaults: model defaults < hall ``params`` < master ``params`` <
    explicit ``params``. ``examples`` chooses the example exchanges per turn (default: lexical
    nearness; the hall passes one on the Finder's sentence encoder); ``prompt`` lays the prompt
    out (see :class:`~masterhall.chat.prompt.PromptOptions`). ``checks`` turns on the stream
    checks (loops end the answer; an answer that starts copying an example or the instructions
    is held back and regenerated once without that example). ``safety`` rates every turn (default:
    a guard on the deterministic rules alone; the hall passes one with the semantic layer).
    ``knowledge`` gives a turn the master's retrieved knowledge (see
    :mod:`~masterhall.chat.grounding`): passages in the prompt, citations on the reply, and the
    leak cut on the stream.
    """

    def __init__(
        self,
        catalog: Catalog,
        registry: BackendRegistry,
        settings: Settings | None = None,
        *,
        guide_context: GuideContext | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        examples: ExampleSelector | None = None,
        prompt: PromptOptions | None = None,
        checks: bool = True,
        safety: SafetyGuard | None = None,
        knowledge: KnowledgeContext | None = None,
    ):
        self.catalog = catalog
        self.registry = registry
        self.settings = settings or registry.settings
        self.guide_context = guide_context or catalog_guide_context(catalog)
        self.examples: ExampleSelector = examples or LexicalExampleSelector()
        self.prompt_options = prompt or PromptOptions()
        self.checks = checks
        self.safety = safety or SafetyGuard(region=self.settings.crisis_region)
        self._today = today
        #: The master's knowledge for a turn (the hall passes one; ``None``: masters know only their prompt).
        self.knowledge = knowledge

    def resolve(
        self, master: Master, backend: str | None = None, params: SamplingParams | None = None
    ) -> tuple[Backend, SamplingParams]:
        """The backend and merged sampling parameters a turn with ``master`` will use: the model's
        defaults < the hall's ``params`` < the master's < ``params`` (the caller's); the hall's and
        the master's temperature are capped at the backend's ``max_temperature``, the caller's is not."""
        chosen = self.registry.get(backend or master.model or None)
        base = getattr(chosen, "default_params", None) or SamplingParams()
        merged = capped(base.merged(self.settings.params).merged(master.params), getattr(chosen, "max_temperature", None))
        return chosen, merged.merged(params)

    def prepare(
        self,
        master: Master | str,
        history: Sequence[ChatMessage],
        user_message: str,
        *,
        backend: str | None = None,
        params: SamplingParams | None = None,
        client_system: str | None = None,
        exclude_examples: Sequence[Example] = (),
        prefill: str | None = None,
        care_note: str | None = None,
        knowledge: bool = True,
        addendum: str | None = None,
    ) -> tuple[Master, Backend, SamplingParams, BuiltPrompt, str]:
        """Resolve and build the prompt without generating (for previews and debugging).

        ``care_note`` is added to the system prompt (the safety guard's careful mode);
        ``exclude_examples`` are never shown (a regeneration after an echo). ``prefill`` (the
        start of the answer, to be continued) is not in the built prompt, but its tokens are
        taken from the context window so that the prompt plus it still fits. ``knowledge``: add the
        master's retrieved knowledge (``built.knowledge`` holds the :class:`KnowledgeBrief`). ``addendum`` is added
        after the user's message in the prompt (a round table's earlier replies and the chair's
        request); the language and the examples still follow the user's own words. Raises
        :class:`~masterhall.catalog.UnknownMasterError`, :class:`~masterhall.backends.BackendError`
        or :class:`~masterhall.chat.prompt.ContextTooLongError`.
        """
        m = self.catalog.get(master) if isinstance(master, str) else master
        chosen, merged = self.resolve(m, backend, params)
        lang = detect_language(user_message)
        extra = self.guide_context(m, user_message, lang) if m.is_guide else None
        recommendations = None
        if isinstance(extra, GuideBrief):
            extra, recommendations = extra.text, extra.recommendations
        brief = self.knowledge(m, history, user_message, lang) if knowledge and self.knowledge and not m.is_guide else None
        if brief is not None and brief.text:
            extra = f"{extra}\n\n{brief.text}" if extra else brief.text
        if care_note:
            extra = f"{extra}\n\n{care_note}" if extra else care_note
        options = self.prompt_options
        examples = None
        if options.examples is not None:
            pool = m.model_copy(update={"examples": [ex for ex in m.examples if ex not in exclude_examples]}) \
                if exclude_examples else m
            anchor = conversation_anchor(history, user_message, lang)
            nearest = self.examples.select(pool, lang, anchor, options.examples) if pool.examples else []
            # Shown in the master's own order, not nearest first: when all of a language's examples
            # are shown (most masters have 3), every conversation with the master opens with the
            # same prompt, so the KV cache serves a new conversation's first turn too.
            examples = [ex for ex in pool.examples if ex in nearest]
        built = build_prompt(
            m,
            history,
            user_message + (addendum or ""),
            lang=lang,
            count_tokens=chosen.count_tokens,
            context_window=min(chosen.context_window, merged.context_window or chosen.context_window)
            - (chosen.count_tokens(prefill) + MESSAGE_OVERHEAD_TOKENS if prefill else 0),
            max_tokens=merged.max_tokens,
            today=self._today(),
            extra_system=extra,
            client_system=client_system,
            examples=examples,
            options=options,
            style=getattr(chosen, "prompt_style", "full"),
        )
        built.recommendations = recommendations
        built.knowledge = brief
        return m, chosen, merged, built, lang

    def _rate(self, history: Sequence[ChatMessage], user_message: str,
              safety_history: Sequence[ChatMessage] | None) -> tuple[str, Assessment, str | None]:
        """``(language, assessment, careful note or None)`` of a turn, as :meth:`stream` and
        :meth:`preread` both rate it (the guard reads ``safety_history`` when given)."""
        lang = detect_language(user_message)
        assessment = self.safety.assess(history if safety_history is None else safety_history, user_message, lang)
        return lang, assessment, self.safety.careful_note(assessment) if assessment.careful else None

    def preread(self, master: Master | str, history: Sequence[ChatMessage], user_message: str, *,
                backend: str | None = None, params: SamplingParams | None = None, client_system: str | None = None,
                safety_history: Sequence[ChatMessage] | None = None) -> tuple[Backend, list[ChatMessage]] | None:
        """Have the backend read ahead the opening of a coming :meth:`stream` call with these
        arguments plus an ``addendum`` not known yet (a round table's next speaker, while the current
        one answers): the prompt as that call builds it — the safety guard's careful note
        included — up to the end of ``user_message``, where the addendum will follow (see
        :func:`~masterhall.backends.base.preread`). Nothing for a backend without ``preread`` or a
        turn the guard would answer itself. Returns the backend and the messages it was asked to
        read (the caller may ask it again with more text at the end of the last one), or ``None``;
        never raises for a prompt that cannot be built (the turn itself will report it)."""
        m = self.catalog.get(master) if isinstance(master, str) else master
        try:
            chosen, _ = self.resolve(m, backend, params)
            if getattr(chosen, "preread", None) is None:
                return None
            _, assessment, care = self._rate(history, user_message, safety_history)
            if assessment.crisis:
                return None
            _, chosen, _, built, _ = self.prepare(m, history, user_message, backend=backend, params=params,
                                                  client_system=client_system, care_note=care)
        except Exception:  # noqa: BLE001 - a pre-read is an optimisation, never an error
            return None
        return (chosen, built.messages) if preread(chosen, built.messages) else None

    def stream(
        self,
        master: Master | str,
        history: Sequence[ChatMessage],
        user_message: str,
        *,
        backend: str | None = None,
        params: SamplingParams | None = None,
        client_system: str | None = None,
        prefill: str | None = None,
        defer: bool = False,
        knowledge: bool = True,
        addendum: str | None = None,
        safety_history: Sequence[ChatMessage] | None = None,
    ) -> Turn:
        """Start a turn and return a :class:`Turn` to iterate.

        ``defer``: build the prompt now but send the request on the first iteration (so a caller
        can report what the prompt left out, and stop the turn, while the backend reads it);
        a backend that cannot start then raises :class:`~masterhall.backends.BackendError` there.

        The safety guard rates the turn first (:meth:`~masterhall.safety.SafetyGuard.assess`): a
        crisis is answered with help for the operator's region (no model call,
        ``finish_reason="guard"``); an *elevated* turn's reply is held back until it is complete and
        checked (an affirming reply is replaced by the help answer, else a help line is added when
        missing) — the reader sees it in one piece; a conversation with an earlier crisis gets the
        careful note in its system prompt. ``turn.safety`` / ``reply.safety`` record what
        triggered. ``prefill``: the start of the answer, already given (an
        answer cut at the length limit, to be continued). It is sent as a last assistant message,
        which llama.cpp (its server and xllamacpp), vLLM and Ollama continue in place; an
        OpenAI-compatible server that does not may start a new answer instead. The turn's text
        and the reply's are the continuation only. ``addendum``: see :meth:`prepare` (the guard rates
        the user's message without it); ``safety_history``: the conversation as the guard rates it
        (default ``history``; a round table passes the person's messages and the masters' replies as
        they were, not the labelled form a speaker reads). Raises what :meth:`prepare` raises, and
        :class:`~masterhall.backends.BackendError` when the backend cannot start the request.
        ``knowledge=False`` leaves the master's stored knowledge out (a preview by someone who
        does not manage the stored master of that id).
        """
        m = self.catalog.get(master) if isinstance(master, str) else master
        lang, assessment, care = self._rate(history, user_message, safety_history)
        record = assessment.record()
        if assessment.crisis:
            chosen, merged = self.resolve(m, backend, params)
            text = self.safety.help_answer(assessment, user_message)
            record = {**(record or {}), "action": "help"}

            def guarded() -> Iterator[str | Usage]:
                yield text
                yield Usage(finish_reason="guard", completion_tokens=0, ttft_s=0.0)

            turn = Turn(guarded(), lambda t, u: Reply(t, u, m.id, chosen.name, chosen.model, merged, lang, safety=record))
            turn.safety = record
            return turn
        if record is not None and assessment.careful:
            record["action"] = "careful"
        m, chosen, merged, built, lang = self.prepare(
            m, history, user_message, backend=backend, params=params, client_system=client_system, prefill=prefill,
            care_note=care, knowledge=knowledge, addendum=addendum,
        )
        head = [ChatMessage("assistant", prefill)] if prefill else []
        notes = list(built.notes)
        final = {"prompt": built}

        def send(messages: list[ChatMessage]) -> Iterator[str | Usage]:
            return deferred_stream(chosen.stream_chat, messages, merged) if defer else chosen.stream_chat(messages, merged)

        def make_reply(text: str, usage: Usage) -> Reply:
            brief = final["prompt"].knowledge
            return Reply(text, usage, m.id, chosen.name, chosen.model, merged, lang, prompt=final["prompt"], notes=notes,
                         recommendations=final["prompt"].recommendations, safety=record,
                         citations=(brief.citations(text) or None) if brief is not None else None)

        stream = send(built.messages + head)
        if self.checks:
            def regenerate(echoed: Example | None, prefix: str) -> tuple[BuiltPrompt, Iterator[str | Usage]]:
                # Without any example: a small model that copied one copies the next-closest one too
                # (seen in the persona benchmark), and one that copied the instructions then leans on
                # an example's content instead.
                _, _, _, again, _ = self.prepare(m, history, user_message, backend=backend, params=params,
                                                 client_system=client_system, prefill=prefix or None, care_note=care,
                                                 exclude_examples=list(m.examples), knowledge=knowledge, addendum=addendum)
                final["prompt"] = again
                messages = again.messages + ([ChatMessage("assistant", prefix)] if prefix else [])
                return again, chosen.stream_chat(messages, merged)

            stream = checked_stream(stream, m, built, regenerate, notes, shown=prefill or "")
        if self.checks and (built.knowledge is not None or m.id not in self.catalog.builtin_ids):
            passages = built.knowledge.guarded if built.knowledge is not None else []
            stream = leak_cut(stream, [m.instructions], notes, lang, passages)
        if assessment.level == "elevated":
            stream = _held_back(stream, self.safety, assessment, user_message, record)
        turn = Turn(stream, make_reply, prompt=built)
        turn.safety = record
        return turn


def _held_back(stream: Iterator[str | Usage], guard: SafetyGuard, assessment: Assessment, message: str,
               record: dict | None) -> Iterator[str | Usage]:
    """Collect the whole reply of an elevated turn, check it, then yield it in one piece.

    ``record`` gets ``action`` (``replaced``, ``appended`` or ``kept``). A reply that ends in an
    error or is cancelled is checked as far as it got.
    """
    parts: list[str] = []
    usage: Usage | None = None
    try:
        for item in stream:
            if isinstance(item, Usage):
                usage = item
            else:
                parts.append(item)
    finally:
        if usage is None:
            close = getattr(stream, "close", None)
            if close:
                close()
    text, action = guard.check_reply(assessment, "".join(parts), message)
    if record is not None:
        record["action"] = action
    yield text
    if usage is not None:
        yield usage


def catalog_guide_context(catalog: Catalog) -> GuideContext:
    """Default context for the ``master-finder`` guide: the catalog's advisors, one line each.

    The Finder (ranked retrieval) can replace this with the top matches for the need.
    """

    def context(master: Master, user_message: str, lang: str) -> str:
        lines = ["## Masters in this hall (recommend only from this list, by name and id)"]
        for m in catalog.advisors():
            lines.append(f"- {m.name.get(lang)} ({m.id}): {m.tagline.get(lang)}")
        return "\n".join(lines)

    return context
