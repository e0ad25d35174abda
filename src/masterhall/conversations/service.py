"""Conversations that last: store every turn while it streams, whatever happens to it.

:class:`ChatService` ties the chat engine to the storage repositories. For each turn it commits
the user's message *before* generation starts, creates the assistant message (status
``streaming``) when generation starts, writes the growing text at most every
``flush_interval_s`` seconds (not per token), and ends it as ``complete``, ``stopped`` or
``error`` with its reason and usage — so a stop, an error, a backend crash or a client that
disconnects leaves the partial answer stored. It knows nothing of HTTP: callers receive plain
:class:`Event` objects through a callback or an iterator.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal

from ..backends.base import BackendError, ChatMessage, Usage
from ..catalog.loader import UnknownMasterError
from ..catalog.models import SamplingParams
from ..chat.engine import ChatEngine, Turn
from ..chat.prompt import ContextTooLongError
from ..store.repos import Conversation, ConversationRepo, Message, NotFoundError

EventType = Literal["start", "loading", "delta", "done", "error", "debug", "starters"]
#: Longest message accepted, in characters (a guard against accidental pastes of whole books).
MAX_MESSAGE_CHARS = 32_000


class InvalidMessageError(ValueError):
    """The message cannot be sent (empty, too long, unknown master, nothing to regenerate …)."""


@dataclass
class Event:
    """One step of a turn, in order: ``start`` (conversation and message ids), optional
    ``loading`` (the model is still loading), ``delta`` (text), then ``done`` (status, usage) or
    ``error`` (code, message — the partial answer is kept)."""

    type: EventType
    data: dict = field(default_factory=dict)


class _TurnThreads:
    """Daemon threads that run turns, kept for the next turn once one ends.

    Starting an OS thread costs ~0.5 ms on a small VM (more than the rest of a turn's bookkeeping
    with the fake backend); handing a job to a waiting thread costs a few microseconds. A new
    thread starts only when every existing one is busy, so there are never more threads than
    the most turns that ran at once. Daemon threads, like before: a server that stops does not
    wait for answers in progress (they are stored as interrupted).
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., None], *args) -> None:
        """Run ``fn(*args)`` on an idle thread, or on a new one."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put((fn, args))
                return
        threading.Thread(target=self._work, args=((fn, args),), name="turn", daemon=True).start()

    def _work(self, job) -> None:
        while True:
            fn, args = job
            try:
                fn(*args)
            except BaseException:  # noqa: BLE001 - a turn reports its own failures; keep the thread
                pass
            with self._lock:
                self._idle += 1
            job = self._jobs.get()


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ContextTooLongError):
        return "context_length"
    if isinstance(exc, BackendError):
        return exc.kind
    return "internal"


class Generation:
    """A turn running in its own thread. Read events with :meth:`events` or a callback;
    stop it with :meth:`stop` (the partial answer is stored as ``stopped``)."""

    def __init__(self, conversation: Conversation, user_message: Message):
        self.conversation = conversation
        self.user_message = user_message
        self.assistant_message_id: int | None = None
        self._stop = threading.Event()
        self._stop_reason = "stopped by the user"
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._listeners: list[Callable[[Event | None], None]] = [self._queue.put]
        self.done = threading.Event()

    def stop(self, reason: str = "stopped by the user") -> None:
        """Ask the generation to stop after the current token (the first reason given is kept)."""
        if not self._stop.is_set():
            self._stop_reason = reason
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def on_event(self, callback: Callable[[Event | None], None]) -> None:
        """Also send every later event to ``callback`` (``None`` marks the end); call before start."""
        self._listeners.append(callback)

    def _emit(self, event: Event | None) -> None:
        for listener in self._listeners:
            listener(event)

    def events(self, timeout_s: float | None = None) -> Iterator[Event]:
        """Iterate events until the end of the turn (blocking)."""
        while True:
            event = self._queue.get(timeout=timeout_s)
            if event is None:
                return
            yield event


class ChatService:
    """Conversations with masters, stored as they happen.

    ``flush_interval_s``: how often (seconds) the growing answer is written while streaming.
    ``wait_ready``: called with the backend before generation; returns when the model is ready
    (or raises :class:`BackendError`), and may report progress through its callback.
    """

    def __init__(
        self,
        engine: ChatEngine,
        repo: ConversationRepo,
        *,
        flush_interval_s: float = 0.5,
        wait_ready: Callable[[object, Callable[[], None]], None] | None = None,
    ):
        self.engine = engine
        self.repo = repo
        self.flush_interval_s = flush_interval_s
        self.wait_ready = wait_ready
        self._active: dict[str, Generation] = {}
        self._lock = threading.Lock()
        self._threads = _TurnThreads()

    # -- starting turns ----------------------------------------------------------------------
    def send(
        self,
        content: str,
        *,
        master_id: str | None = None,
        conversation_id: str | None = None,
        backend: str | None = None,
        params: SamplingParams | None = None,
        listener: Callable[[Event | None], None] | None = None,
    ) -> Generation:
        """Store ``content`` as the user's message (in a new conversation with ``master_id`` when
        ``conversation_id`` is None) and start generating the answer.

        Raises :class:`InvalidMessageError` (nothing stored) for an empty or oversized message,
        an unknown master, or a conversation that is busy; ``NotFoundError`` for an unknown
        conversation.
        """
        text = _validate(content)
        self._check_backend(backend)
        conversation = self._conversation(conversation_id, master_id)
        self._claim(conversation.id)
        try:
            user = self.repo.add_message(conversation.id, "user", text)
        except BaseException:
            self._release(conversation.id)
            raise
        return self._launch(conversation, user, backend, params, listener)

    def regenerate(self, conversation_id: str, *, backend: str | None = None, params: SamplingParams | None = None,
                   listener: Callable[[Event | None], None] | None = None) -> Generation:
        """Drop the answer(s) after the last user message and generate it again."""
        return self._redo(conversation_id, None, backend, params, listener)

    def edit_last(self, conversation_id: str, content: str, *, backend: str | None = None, params: SamplingParams | None = None,
                  listener: Callable[[Event | None], None] | None = None) -> Generation:
        """Replace the last user message with ``content`` (its answer is dropped) and resend."""
        return self._redo(conversation_id, _validate(content), backend, params, listener)

    def _redo(self, conversation_id, new_text, backend, params, listener) -> Generation:
        conversation = self._conversation(conversation_id, None)
        self._claim(conversation.id)
        try:
            msgs = self.repo.messages(conversation.id)
            last_user = next((m for m in reversed(msgs) if m.role == "user"), None)
            if last_user is None:
                raise InvalidMessageError("This conversation has no message to answer again.")
            if new_text is None:
                self.repo.delete_messages_after(conversation.id, last_user.id, inclusive=False)
                user = last_user
            else:
                self.repo.delete_messages_after(conversation.id, last_user.id, inclusive=True)
                user = self.repo.add_message(conversation.id, "user", new_text)
        except BaseException:
            self._release(conversation.id)
            raise
        return self._launch(conversation, user, backend, params, listener)

    def stop(self, conversation_id: str) -> bool:
        """Stop the running generation of a conversation; False if none runs."""
        with self._lock:
            gen = self._active.get(conversation_id)
        if gen is None:
            return False
        gen.stop()
        return True

    def active(self, conversation_id: str) -> Generation | None:
        """The running generation of a conversation, if any."""
        with self._lock:
            return self._active.get(conversation_id)

    # -- internals ---------------------------------------------------------------------------
    def _check_backend(self, backend: str | None) -> None:
        registry = self.engine.registry
        if backend and backend not in registry.names() and not backend.lower().endswith(".gguf"):
            raise InvalidMessageError(f"Unknown backend '{backend}'. Known: {', '.join(registry.names())}.")

    def _conversation(self, conversation_id: str | None, master_id: str | None) -> Conversation:
        if conversation_id is None:
            if not master_id:
                raise InvalidMessageError("Name a master to start a conversation.")
            try:
                self.engine.catalog.get(master_id)
            except UnknownMasterError as exc:
                raise InvalidMessageError(str(exc)) from exc
            return self.repo.create(master_id)
        conversation = self.repo.get(conversation_id)
        if conversation is None:
            raise NotFoundError(f"conversation {conversation_id} not found")
        return conversation

    def _claim(self, conversation_id: str, wait_s: float = 10.0) -> None:
        """Mark the conversation busy; a generation that is being stopped is waited for."""
        with self._lock:
            running = self._active.get(conversation_id)
        if running is not None and running.stopping:
            running.done.wait(wait_s)
        with self._lock:
            if conversation_id in self._active:
                raise InvalidMessageError("An answer is still being generated in this conversation; stop it first.")
            self._active[conversation_id] = None  # type: ignore[assignment]

    def _release(self, conversation_id: str) -> None:
        with self._lock:
            self._active.pop(conversation_id, None)

    def _launch(self, conversation, user: Message, backend, params, listener=None) -> Generation:
        gen = Generation(conversation, user)
        if listener is not None:
            gen.on_event(listener)
        with self._lock:
            self._active[conversation.id] = gen
        self._threads.submit(self._run, gen, backend, params)
        return gen

    def _history(self, conversation_id: str, before_id: int) -> list[ChatMessage]:
        history = []
        for m in self.repo.messages(conversation_id):
            if m.id >= before_id:
                break
            if m.role in ("user", "assistant") and m.content.strip():
                history.append(ChatMessage(m.role, m.content))
        return history

    def _run(self, gen: Generation, backend, params) -> None:
        conv, user = gen.conversation, gen.user_message
        assistant = None
        try:
            master = self.engine.catalog.get(conv.master_id)
            chosen, _ = self.engine.resolve(master, backend, params)
            assistant = self.repo.start_assistant(conv.id, model=f"{chosen.name}:{chosen.model}")
            gen.assistant_message_id = assistant.id
            gen._emit(Event("start", {"conversation_id": conv.id, "user_message_id": user.id,
                                      "message_id": assistant.id, "title": self.repo.get(conv.id).title}))
            if self.wait_ready is not None:
                self.wait_ready(chosen, lambda: gen._emit(Event("loading", {"message": "The model is still loading…"})))
            turn = self.engine.stream(master, self._history(conv.id, user.id), user.content, backend=backend, params=params)
            self._pump(gen, turn, assistant.id)
        except Exception as exc:  # noqa: BLE001 - every failure is stored and reported
            message = str(exc)
            if assistant is not None:
                self.repo.finish_message(assistant.id, "", "error", error=message)
            gen._emit(Event("error", {"code": _error_code(exc), "message": message,
                                      "message_id": assistant.id if assistant else None}))
        finally:
            self._release(conv.id)
            gen.done.set()
            gen._emit(None)

    def _pump(self, gen: Generation, turn: Turn, message_id: int) -> None:
        parts: list[str] = []
        last_flush = time.monotonic()
        flushed = 0
        try:
            for delta in turn:
                parts.append(delta)
                gen._emit(Event("delta", {"text": delta}))
                if gen.stopping:
                    break
                now = time.monotonic()
                if now - last_flush >= self.flush_interval_s and len(parts) != flushed:
                    self.repo.update_content(message_id, "".join(parts))
                    last_flush, flushed = now, len(parts)
        finally:
            if turn.reply is None:  # stopped, or a storage error: end the generation now
                turn.close()
        reply = turn.reply
        usage = reply.usage if reply else Usage(finish_reason="cancelled")
        text = reply.text if reply else "".join(parts)
        status, error = _status(usage, gen)
        self.repo.finish_message(
            message_id, text, status, error=error,
            prompt_tokens=usage.prompt_tokens or None, completion_tokens=usage.completion_tokens or None,
            ttft_s=usage.ttft_s, tokens_per_s=usage.tokens_per_s, finish_reason=usage.finish_reason,
            notes=reply.notes if reply else None,
        )
        payload = {"message_id": message_id, "status": status, "error": error, "text": text, "usage": usage.to_dict(),
                   "finish_reason": usage.finish_reason, "notes": reply.notes if reply else []}
        gen._emit(Event("error" if status == "error" else "done",
                        {**payload, "code": "generation_failed", "message": error} if status == "error" else payload))


def _status(usage: Usage, gen: Generation) -> tuple[str, str | None]:
    if usage.finish_reason == "error":
        return "error", usage.error or "the backend failed during generation"
    if usage.finish_reason == "cancelled" or gen.stopping:
        return "stopped", gen._stop_reason
    return "complete", None


def _validate(content: str) -> str:
    if not isinstance(content, str) or not content.strip():
        raise InvalidMessageError("The message is empty.")
    if len(content) > MAX_MESSAGE_CHARS:
        raise InvalidMessageError(f"The message is too long ({len(content):,} characters; the limit is {MAX_MESSAGE_CHARS:,}).")
    if "\x00" in content:
        raise InvalidMessageError("The message contains binary data.")
    return content.strip()
