"""Conversations that last: store every turn while it streams, whatever happens to it.

:class:`ChatService` ties the chat engine to the storage repository. For each turn it commits
the user's message and the assistant's empty ``streaming`` message together *before* generation
starts, writes the growing text at most every ``flush_interval_s`` seconds (not per token), and
ends it as ``complete``, ``stopped`` or ``error`` with its reason and usage — so a stop, an
error, a backend crash or a client that disconnects leaves the partial answer stored: two
commits a turn, plus the batched progress writes. It also runs the turns that are not stored
(the OpenAI-compatible API), on the same threads. It knows nothing of HTTP: callers receive
plain :class:`~masterhall.conversations.turns.Event` objects through a listener callback, and
errors as the typed exceptions of :mod:`masterhall.errors`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

from ..accounts import LOCAL, Caller
from ..accounts.access import owns
from ..backends.base import BackendError, ChatMessage, UnknownBackendError, Usage, deferred_stream
from ..backends.loader import ModelLoader
from ..catalog.loader import UnknownMasterError
from ..catalog.models import SamplingParams
from ..chat.engine import ChatEngine, Turn
from ..chat.prompt import ContextTooLongError
from ..cluster.bus import LocalBus
from ..cluster.turns import RemoteStop, SharedTurns
from ..errors import InvalidRequestError, NotFoundError
from ..inputs import check_text
from ..store.conversations import Conversation, ConversationRepo, Message
from .continuation import CannotContinueError, Continuation, continuable, merged_notes
from .export import Export, export_conversation
from .turns import Event, Generation, Listener, TurnPool, pump, settled

#: Longest message accepted, in characters (a guard against accidental pastes of whole books).
MAX_MESSAGE_CHARS = 32_000


class InvalidMessageError(InvalidRequestError):
    """The message cannot be sent (empty, too long, unknown master, nothing to regenerate …)."""

    code = "invalid_message"


@dataclass(frozen=True)
class Transcript:
    """A stored conversation, its messages (oldest first) and whether an answer is being generated."""

    conversation: Conversation
    messages: list[Message]
    generating: bool
    #: A generation was asked to stop and its thread has not yet written the answer's end.
    stopping: bool = False


class ChatService:
    """Conversations with masters, stored as they happen, and unstored turns.

    Every method on a stored conversation takes the ``caller`` it acts for (default
    :data:`~masterhall.accounts.LOCAL`): a conversation is its owner's alone, and to anyone else
    it does not exist (``NotFoundError``; :meth:`stop` answers False).

    ``pool``: the threads turns run on (shared with the builder's test runs); ``loader``: waited
    on before a turn whose backend is still loading (the turn then sends a ``loading`` event);
    ``flush_interval_s``: how often (seconds) the growing answer is written while streaming.
    ``shared``: the claims and Stop requests shared with other hall processes through Redis
    (:class:`~masterhall.cluster.turns.SharedTurns`; default: this process alone); ``observe``:
    told each finished turn's backend and usage (metrics).
    """

    def __init__(
        self,
        engine: ChatEngine,
        repo: ConversationRepo,
        *,
        pool: TurnPool | None = None,
        loader: ModelLoader | None = None,
        flush_interval_s: float = 0.5,
        shared: SharedTurns | None = None,
        observe: Callable[[str, Usage], None] | None = None,
    ):
        self.engine = engine
        self.observe = observe
        self.shared = shared or SharedTurns(LocalBus())
        self.shared.attach(self.active)
        self.repo = repo
        self.pool = pool or TurnPool()
        self.loader = loader
        self.flush_interval_s = flush_interval_s
        self._active: dict[str, Generation | None] = {}
        self._lock = threading.Lock()

    # -- stored conversations ----------------------------------------------------------------
    def list(self, search: str | None = None, master_id: str | None = None, limit: int = 50,
             offset: int = 0, *, caller: Caller = LOCAL) -> list[Conversation]:
        """The caller's conversations, most recently updated first (``search`` looks in titles)."""
        return self.repo.list(search=search, master_id=master_id, limit=limit, offset=offset, owner_id=caller.user_id)

    def get(self, conversation_id: str, *, caller: Caller = LOCAL) -> Transcript:
        """A conversation with its messages and whether an answer is being generated.

        ``generating`` is true while a turn is claimed or running and not being stopped. A
        generation that was asked to stop (Stop, or the page closed or reloaded) is no longer
        live: its message, still ``streaming`` until the turn thread writes its end, is shown as
        ``stopped`` with the stop's reason (see :func:`~.turns.settled`).

        Raises :class:`~masterhall.errors.NotFoundError`.
        """
        conversation = self._conversation(conversation_id, caller)
        with self._lock:
            claimed, gen = conversation_id in self._active, self._active.get(conversation_id)
        live = claimed and (gen is None or not gen.stopping) or (not claimed and self.shared.holder(conversation_id) is not None)
        messages = self.repo.messages(conversation_id)
        stopping = gen is not None and gen.stopping
        return Transcript(conversation, messages if live else settled(messages, gen), live, stopping)

    def rename(self, conversation_id: str, title: str, *, caller: Caller = LOCAL) -> Conversation:
        """Give a conversation a new title. Raises ``NotFoundError`` and ``InvalidRequestError`` (blank)."""
        self._conversation(conversation_id, caller)
        try:
            return self.repo.rename(conversation_id, title)
        except ValueError as exc:
            raise InvalidRequestError(str(exc), code="invalid_request") from exc

    def delete(self, conversation_id: str, *, caller: Caller = LOCAL) -> None:
        """Stop its answer in progress, then delete the conversation. Raises ``NotFoundError``."""
        self._conversation(conversation_id, caller)
        self.stop(conversation_id, caller=caller)
        if not self.repo.delete(conversation_id):
            raise NotFoundError(f"conversation {conversation_id} not found")

    def export(self, conversation_id: str, fmt: Literal["md", "json"] = "md", lang: str = "en", *,
               caller: Caller = LOCAL) -> Export:
        """The conversation as a Markdown or JSON file (see :mod:`.export`). Raises ``NotFoundError``."""
        transcript = self.get(conversation_id, caller=caller)
        master = self.engine.catalog.masters.get(transcript.conversation.master_id)
        return export_conversation(transcript.conversation, transcript.messages, master, fmt, lang,
                                   self.engine.catalog.masters)

    # -- turns of stored conversations -------------------------------------------------------
    def send(
        self,
        content: str,
        *,
        master_id: str | None = None,
        conversation_id: str | None = None,
        backend: str | None = None,
        params: SamplingParams | None = None,
        listener: Listener | None = None,
        caller: Caller = LOCAL,
    ) -> Generation:
        """Store ``content`` as the user's message (in a new conversation with ``master_id``, owned
        by ``caller``, when ``conversation_id`` is None) and start generating the answer.

        Raises :class:`InvalidMessageError` (nothing stored) for an empty or oversized message,
        an unknown master or backend, or a conversation that is busy; ``NotFoundError`` for an
        unknown conversation.
        """
        text = _validate(content)
        self._check_backend(backend)
        if conversation_id is None:
            if not master_id:
                raise InvalidMessageError("Name a master to start a conversation.")
            try:
                master_key = self.engine.catalog.get(master_id).id
            except UnknownMasterError as exc:
                raise InvalidMessageError(str(exc)) from exc
            label = self._label(master_key, backend)
            conversation, user, assistant = self.repo.start_turn(None, text, master_id=master_key, model=label,
                                                                 answer=label is not None, owner_id=caller.user_id)
            return self._launch(conversation, user, assistant, [], backend, params, listener)
        conversation = self._conversation(conversation_id, caller)
        self._claim(conversation.id)
        try:
            label = self._label(conversation.master_id, backend)
            conversation, user, assistant = self.repo.start_turn(conversation.id, text, model=label,
                                                                 answer=label is not None)
        except BaseException:
            self._release(conversation.id)
            raise
        return self._launch(conversation, user, assistant, None, backend, params, listener)

    def regenerate(self, conversation_id: str, *, backend: str | None = None, params: SamplingParams | None = None,
                   listener: Listener | None = None, caller: Caller = LOCAL) -> Generation:
        """Drop the answer(s) after the last user message and generate it again."""
        return self._redo(self._conversation(conversation_id, caller), None, backend, params, listener)

    def edit_last(self, conversation_id: str, content: str, *, backend: str | None = None,
                  params: SamplingParams | None = None, listener: Listener | None = None, caller: Caller = LOCAL) -> Generation:
        """Replace the last user message with ``content`` (its answer is dropped) and resend."""
        return self._redo(self._conversation(conversation_id, caller), _validate(content), backend, params, listener)

    def continue_answer(self, conversation_id: str, message_id: int, *, backend: str | None = None,
                        params: SamplingParams | None = None, listener: Listener | None = None,
                        caller: Caller = LOCAL) -> Generation:
        """Continue answer ``message_id``, which stopped at the token limit, in the same stored
        message (see :mod:`.continuation`): the backend gets the same prompt with the cut answer
        as an assistant prefill. Events as for :meth:`send`, except that ``start`` says
        ``continued: true``, the deltas are the continuation and ``done``'s ``text`` is the whole
        answer; the message then has the continuation's finish reason (``length`` again when it
        is cut again). Raises ``NotFoundError``, :class:`~.continuation.CannotContinueError` (not
        the last answer, or it did not end at the length limit) and :class:`InvalidMessageError`
        (unknown backend, conversation busy) — nothing changed. If the backend fails before
        streaming, the answer is restored as it was (and can be continued again).
        """
        self._check_backend(backend)
        conversation = self._conversation(conversation_id, caller)
        self._claim(conversation.id)
        try:
            messages = self.repo.messages(conversation.id)
            cont = continuable(messages, message_id)
            if self.repo.reopen(message_id) is None:
                raise CannotContinueError("This answer changed meanwhile; reload the conversation.")
        except BaseException:
            self._release(conversation.id)
            raise
        return self._launch(conversation, cont.user, cont.answer, _history(messages, cont.user.id), backend, params,
                            listener, cont)

    def stop(self, conversation_id: str, *, caller: Caller = LOCAL) -> Generation | RemoteStop | None:
        """Stop the running generation of a conversation and return it — its
        :attr:`~.turns.Generation.text` is then the answer's final text, as it will be stored —
        or ``None`` if none runs (or it is not the caller's). An answer another hall process runs
        is stopped there (through Redis): a :class:`~masterhall.cluster.turns.RemoteStop` then."""
        with self._lock:
            gen = self._active.get(conversation_id)
        if gen is None and conversation_id not in self._active and self.shared.holder(conversation_id):
            conversation = self.repo.get(conversation_id)
            if conversation is None or not owns(caller, conversation.owner_id):
                return None
            return self.shared.stop_elsewhere(conversation_id)
        if gen is None or gen.conversation is None or not owns(caller, gen.conversation.owner_id):
            return None
        gen.stop()
        return gen

    def running(self) -> int:
        """How many stored conversations have an answer being generated in this process."""
        return len(self._active)

    def active(self, conversation_id: str) -> Generation | None:
        """The running generation of a conversation, if any."""
        with self._lock:
            return self._active.get(conversation_id)

    # -- turns that are not stored -------------------------------------------------------------
    def complete(
        self,
        model: str,
        history: Sequence[ChatMessage],
        message: str,
        *,
        client_system: str | None = None,
        params: SamplingParams | None = None,
        listener: Listener | None = None,
    ) -> Generation:
        """A turn that is not stored (the OpenAI-compatible API): ``model`` is a master's id (its
        instructions come first, ``client_system`` after them) or a backend's name (the client's
        messages go as they are, with the hall's default parameters under ``params``).

        Events: ``delta`` … then ``done`` (``text``, ``usage``) or ``error``. Raises before the
        stream starts: :class:`~masterhall.backends.UnknownBackendError` (neither a master nor a
        backend), :class:`~masterhall.chat.prompt.ContextTooLongError`,
        :class:`~masterhall.backends.BackendError`, :class:`~masterhall.errors.InvalidRequestError`
        (no user message to answer).
        """
        registry = self.engine.registry
        if model not in self.engine.catalog and model not in registry.names():
            raise UnknownBackendError(model, registry.names())
        if not message.strip():
            raise InvalidRequestError("The last message must be a non-empty user message.")
        gen = Generation()
        if model in self.engine.catalog:
            # The prompt is built here (its errors are raised to the caller); the backend request
            # starts on the pool, where a Stop or a client that goes away can cancel it.
            turn = self.engine.stream(model, history, message, params=params, client_system=client_system, defer=True)
            gen.context = _context(turn)
        else:
            chosen = registry.get(model)
            messages = ([ChatMessage("system", client_system)] if client_system else []) + list(history)
            stream = deferred_stream(chosen.stream_chat, messages + [ChatMessage("user", message)],
                                     self.engine.settings.params.merged(params))
            turn = Turn(stream, lambda text, usage: _RawReply(text, usage, chosen.name))
            gen.context = {"dropped_turns": 0, "notes": []}
        if listener is not None:
            gen.on_event(listener)
        self.pool.submit(self._run_unstored, gen, turn)
        return gen

    def _run_unstored(self, gen: Generation, turn: Turn) -> None:
        try:
            text, usage, notes, recommendations, safety = pump(gen, turn, observe=self.observe)
            gen.emit(Event("done", {"text": text, "usage": usage.to_dict(), "notes": notes,
                                    "recommendations": recommendations, "safety": safety,
                                    "citations": getattr(turn.reply, "citations", None)}))
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            gen.emit(Event("error", {"code": _error_code(exc), "message": str(exc)}))
        finally:
            gen.end()

    # -- internals -----------------------------------------------------------------------------
    def _check_backend(self, backend: str | None) -> None:
        registry = self.engine.registry
        if backend and not registry.knows(backend):
            raise InvalidMessageError(f"Unknown backend '{backend}'. Known: {', '.join(registry.names())}.")

    def _label(self, master_id: str, backend: str | None) -> str | None:
        """The backend label a turn will record, or ``None`` when it cannot be told now (the turn
        then finds out why, and says so)."""
        master = self.engine.catalog.masters.get(master_id)
        if master is None:
            return None
        try:
            return self.engine.registry.label(backend or master.model or None)
        except BackendError:
            return None

    def _conversation(self, conversation_id: str, caller: Caller) -> Conversation:
        """The conversation if ``caller`` owns it; raises ``NotFoundError`` (also when it is another's)."""
        conversation = self.repo.get(conversation_id)
        if conversation is None or not owns(caller, conversation.owner_id):
            raise NotFoundError(f"conversation {conversation_id} not found")
        return conversation

    def _redo(self, conversation, new_text, backend, params, listener) -> Generation:
        self._check_backend(backend)
        self._claim(conversation.id)
        try:
            msgs = self.repo.messages(conversation.id)
            last_user = next((m for m in reversed(msgs) if m.role == "user"), None)
            if last_user is None:
                raise InvalidMessageError("This conversation has no message to answer again.")
            history = _history(msgs, last_user.id)
            label = self._label(conversation.master_id, backend)
            conversation, user, assistant = self.repo.restart_turn(conversation.id, last_user.id, new_text,
                                                                   model=label, answer=label is not None)
        except BaseException:
            self._release(conversation.id)
            raise
        return self._launch(conversation, user or last_user, assistant, history, backend, params, listener)

    def _claim(self, conversation_id: str, wait_s: float = 10.0) -> None:
        """Mark the conversation busy; a generation that is being stopped is waited for."""
        with self._lock:
            running = self._active.get(conversation_id)
        if running is not None and running.stopping:
            running.done.wait(wait_s)
        with self._lock:
            if conversation_id in self._active:
                raise InvalidMessageError("An answer is still being generated in this conversation; stop it first.")
            self._active[conversation_id] = None
        if not self.shared.claim(conversation_id):  # another hall process runs an answer here
            self._release(conversation_id)
            raise InvalidMessageError("An answer is still being generated in this conversation; stop it first.")

    def _release(self, conversation_id: str) -> None:
        with self._lock:
            self._active.pop(conversation_id, None)
        self.shared.release(conversation_id)

    def _launch(self, conversation: Conversation, user: Message, assistant: Message | None,
                history: list[ChatMessage] | None, backend, params, listener, cont: Continuation | None = None) -> Generation:
        gen = Generation(conversation, user)
        gen.assistant_message_id = assistant.id if assistant is not None else None
        gen.prefix = cont.answer.content if cont else ""
        if (relay := self.shared.relay(conversation.id)) is not None:  # first: it reads each event before the page's listener
            gen.on_event(relay)
        if listener is not None:
            gen.on_event(listener)
        with self._lock:
            self._active[conversation.id] = gen
        self.shared.claim(conversation.id)
        self.pool.submit(self._run, gen, history, backend, params, cont)
        return gen

    def _run(self, gen: Generation, history: list[ChatMessage] | None, backend, params,
             cont: Continuation | None = None) -> None:
        conv, user = gen.conversation, gen.user_message
        message_id = gen.assistant_message_id
        try:
            master = self.engine.catalog.get(conv.master_id)
            if message_id is None:  # the backend could not be told up front: resolving it says why
                chosen, _ = self.engine.resolve(master, backend, params)
                message_id = self.repo.start_assistant(conv.id, model=f"{chosen.name}:{chosen.model}").id
                gen.assistant_message_id = message_id
            gen.emit(Event("start", {"conversation_id": conv.id, "user_message_id": user.id,
                                     "message_id": message_id, "title": conv.title, "master_id": conv.master_id,
                                     **({"continued": True} if cont else {})}))
            if self.loader is not None:
                chosen = self.engine.registry.get(backend or master.model or None)
                self.loader.wait(chosen, lambda: gen.emit(Event("loading", {"message": "The model is still loading…"})))
            if history is None:
                history = _history(self.repo.messages(conv.id), user.id)
            turn = self.engine.stream(master, history, user.content, backend=backend, params=params,
                                      prefill=cont.answer.content if cont else None, defer=True)
            gen.context = _context(turn)
            if gen.context["dropped_turns"] or gen.context["notes"]:
                gen.emit(Event("context", gen.context))
            self._finish(gen, turn, message_id, cont)
        except Exception as exc:  # noqa: BLE001 - every failure is stored and reported
            message = str(exc)
            if cont is not None:  # the cut answer stays as it was
                a = cont.answer
                self.repo.finish_message(a.id, a.content, "complete", prompt_tokens=a.prompt_tokens,
                                         completion_tokens=a.completion_tokens, ttft_s=a.ttft_s, tokens_per_s=a.tokens_per_s,
                                         finish_reason=a.finish_reason, safety=a.safety, notes=a.notes)
            elif message_id is not None:
                self.repo.finish_message(message_id, "", "error", error=message, notes=gen.context.get("notes") or None)
            gen.emit(Event("error", {"code": _error_code(exc), "message": message, "message_id": message_id}))
        finally:
            self._release(conv.id)
            gen.end()

    def _finish(self, gen: Generation, turn: Turn, message_id: int, cont: Continuation | None = None,
                extra: dict | None = None) -> None:
        last_flush = [time.monotonic(), 0]
        prefix = cont.answer.content if cont else ""

        def flush(parts: list[str]) -> None:
            now = time.monotonic()
            if now - last_flush[0] >= self.flush_interval_s and len(parts) != last_flush[1]:
                self.repo.update_content(message_id, prefix + "".join(parts))
                last_flush[:] = [now, len(parts)]

        text, usage, notes, recommendations, safety = pump(gen, turn, flush, self.observe)
        status, error = _status(usage, gen)
        citations = getattr(turn.reply, "citations", None)
        completion = usage.completion_tokens
        if cont is not None:
            text, notes = prefix + text, merged_notes(cont.answer.notes, notes)
            completion += cont.answer.completion_tokens or 0
        self.repo.finish_message(
            message_id, text, status, error=error,
            prompt_tokens=usage.prompt_tokens or None, completion_tokens=completion or None,
            ttft_s=usage.ttft_s, tokens_per_s=usage.tokens_per_s, finish_reason=usage.finish_reason,
            notes=notes or None, recommendations=recommendations, safety=safety, citations=citations, returning=False,
        )
        payload = {"message_id": message_id, "status": status, "error": error, "text": text, "usage": usage.to_dict(),
                   "finish_reason": usage.finish_reason, "notes": notes, "recommendations": recommendations, "safety": safety,
                   "citations": citations, **(extra or {})}
        gen.emit(Event("error" if status == "error" else "done",
                       {**payload, "code": "generation_failed", "message": error} if status == "error" else payload))


class _RawReply:
    """The reply of a turn sent to a backend as it is (no master): its text, usage and the
    backend's name (what the metrics count it under)."""

    def __init__(self, text: str, usage: Usage, backend: str):
        self.text, self.usage, self.notes, self.backend = text, usage, [], backend


def _history(messages: list[Message], before_id: int) -> list[ChatMessage]:
    history = []
    for m in messages:
        if m.id >= before_id:
            break
        if m.role in ("user", "assistant") and m.content.strip():
            history.append(ChatMessage(m.role, m.content))
    return history


def _context(turn: Turn) -> dict:
    """What ``turn``'s prompt left out to fit the context window: ``dropped_turns`` (history
    messages) and the prompt's ``notes`` (see :class:`~masterhall.chat.prompt.BuiltPrompt`)."""
    prompt = turn.prompt
    return {"dropped_turns": prompt.dropped_turns if prompt else 0, "notes": list(prompt.notes) if prompt else []}


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ContextTooLongError):
        return "context_length"
    if isinstance(exc, BackendError):
        return exc.kind
    return "internal"


def _status(usage: Usage, gen: Generation) -> tuple[str, str | None]:
    if usage.finish_reason == "error":
        return "error", usage.error or "the backend failed during generation"
    if usage.finish_reason == "cancelled" or gen.stopping:
        return "stopped", gen.stop_reason
    return "complete", None


def _validate(content: str) -> str:
    if not isinstance(content, str) or not content.strip():
        raise InvalidMessageError("The message is empty.")
    if len(content) > MAX_MESSAGE_CHARS:
        raise InvalidMessageError(f"The message is too long ({len(content):,} characters; the limit is {MAX_MESSAGE_CHARS:,}).")
    try:
        check_text(content)
    except ValueError as exc:
        raise InvalidMessageError(f"The message cannot be stored: it {exc}.") from None
    return content.strip()

