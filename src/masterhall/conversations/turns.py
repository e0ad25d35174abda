"""Running turns: the events a turn emits, a handle to stop one, the threads that run them, and
the loop that streams a turn's deltas into its generation (:func:`pump`).

Every turn the hall streams — a stored conversation's, a ``/v1`` completion's, a builder preview
or one-click test — runs on one :class:`TurnPool` and reports through one listener callback
(``Listener``): :class:`Event` objects in order, then ``None``. Callers (the web's SSE helper, the
command line, tests) stop a turn through its :class:`Generation`.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal

from ..backends.base import CancelToken, Usage, cancel_scope

if TYPE_CHECKING:
    from ..chat.engine import Turn

EventType = Literal["start", "loading", "context", "delta", "done", "error", "debug", "starters", "speaker", "round"]


@dataclass
class Event:
    """One step of a turn, in order: ``start`` (conversation and message ids), optional
    ``loading`` (the model is still loading), ``context`` (what the prompt left out to fit the
    context window: ``dropped_turns``, ``notes``; sent before the first token, only when something
    was left out), ``delta`` (text), then ``done`` (status, usage) or
    ``error`` (code, message — the partial answer is kept). Builder runs also send ``debug``
    (what the model receives) and ``starters`` (the one-click test's list). A round table's round
    sends ``speaker`` (``master_id``, ``name``, ``avatar``, ``message_id``) before each reply's
    deltas and ``done``/``error``, then ``round`` (how the round ended) last."""

    type: EventType
    data: dict = field(default_factory=dict)


#: Receives a turn's events, then ``None`` once the turn has ended.
Listener = Callable[[Event | None], None]


class TurnPool:
    """Daemon threads that run turns, kept for the next turn once one ends.

    Starting an OS thread costs ~0.5 ms on a small VM (more than the rest of a turn's bookkeeping
    with the fake backend); handing a job to a waiting thread costs a few microseconds. A new
    thread starts only when every existing one is busy, so there are never more threads than
    the most turns that ran at once. Daemon threads: a server that stops does not wait for
    answers in progress (stored turns are then marked interrupted at the next start).
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    def submit(self, fn: Callable[..., None], *args) -> None:
        """Run ``fn(*args)`` on an idle thread, or on a new one; ``fn`` reports its own failures.

        Inside a job started with :meth:`submit_with_handoff`, the first job submitted runs next
        on the same thread (once that job returns) instead.
        """
        local = self._local
        if getattr(local, "handoff", False) and local.next is None:
            local.next = (fn, args)
            return
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put((fn, args))
                return
        threading.Thread(target=self._work, args=((fn, args),), name="turn", daemon=True).start()

    def submit_with_handoff(self, fn: Callable[..., None], *args) -> None:
        """Run ``fn(*args)`` on the pool; the first job ``fn`` submits (the turn it starts) then
        runs on the same thread, right after ``fn`` returns — one hand-off between threads
        instead of two. Further jobs go to other threads as usual (they run concurrently)."""
        self.submit(self._with_handoff, fn, args)

    def _with_handoff(self, fn: Callable[..., None], args: tuple) -> None:
        local = self._local
        local.handoff, local.next = True, None
        try:
            fn(*args)
        finally:
            local.handoff = False
            following, local.next = local.next, None
        if following is not None:
            following[0](*following[1])

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


class Generation:
    """A turn running on the pool. Its events go to the listeners given with :meth:`on_event`;
    :meth:`stop` ends it after the current delta, or at once while the prompt is still read (the
    partial answer is kept, as ``stopped``): it cancels ``cancel``, the token its backend request
    runs under (see :func:`~masterhall.backends.base.cancel_scope`).

    The code running the turn records each delta with :meth:`add_delta` before emitting it; once
    :meth:`stop` has returned, no further delta is recorded (the one in flight is dropped, neither
    shown nor stored), so :attr:`text` — what was shown — is then the answer's final text.

    ``done`` is set once the turn has ended; ``final`` is then its last event (``done`` or
    ``error``). ``conversation``, ``user_message`` and ``assistant_message_id`` are set for
    stored turns.
    """

    def __init__(self, conversation=None, user_message=None):
        self.conversation = conversation
        self.user_message = user_message
        self.assistant_message_id: int | None = None
        self.final: Event | None = None
        self.done = threading.Event()
        self._stop = threading.Event()
        #: Cancels the backend request (see :func:`~masterhall.backends.base.cancel_scope`).
        self.cancel = CancelToken()
        #: What the prompt left out to fit the context window (``dropped_turns``, ``notes``), once known.
        self.context: dict = {}
        self._stop_reason = "stopped by the user"
        self._listeners: list[Listener] = []
        #: Text the answer already had before this turn (a continuation's cut answer), else "".
        self.prefix = ""
        self._parts: list[str] = []
        self._history: list[Event] = []
        self._ended = False
        self._lock = threading.Lock()

    def next_answer(self, message_id: int | None) -> None:
        """Start recording the next answer of a round table's round (stored as ``message_id``):
        :attr:`text` and :attr:`assistant_message_id` then follow that answer. A stop stays."""
        with self._lock:
            self._parts = []
            self.prefix = ""
            self.assistant_message_id = message_id

    def stop(self, reason: str = "stopped by the user") -> None:
        """Ask the generation to stop after the current delta, or at once when no token has come
        yet (the first reason given is kept). From the moment it returns, :meth:`add_delta`
        refuses every delta: :attr:`text` is final."""
        with self._lock:
            if not self._stop.is_set():
                self._stop_reason = reason
            self._stop.set()
        self.cancel.cancel()

    def add_delta(self, text: str) -> bool:
        """Record ``text`` as shown (called by the code running the turn, before it emits the
        delta); ``False``, recording nothing, once :meth:`stop` was called — the caller then
        drops the delta and ends the turn."""
        with self._lock:
            if self._stop.is_set():
                return False
            self._parts.append(text)
            return True

    @property
    def text(self) -> str:
        """:attr:`prefix` and the deltas recorded so far: the answer as shown (final once stopping)."""
        with self._lock:
            return self.prefix + "".join(self._parts)

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    @property
    def stop_reason(self) -> str:
        """Why it was stopped (the first reason given)."""
        return self._stop_reason

    def on_event(self, callback: Listener) -> None:
        """Also send every later event to ``callback`` (``None`` marks the end); call before it starts."""
        self._listeners.append(callback)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to every listener (called by the code running the turn); it is kept for
        listeners that :meth:`follow` later."""
        if event.type in ("done", "error"):
            self.final = event
        with self._lock:
            self._history.append(event)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)

    def end(self) -> None:
        """Mark the turn ended and tell the listeners (``None``)."""
        with self._lock:
            self._ended = True
            listeners = list(self._listeners)
        self.done.set()
        for listener in listeners:
            listener(None)

    def follow(self, callback: Listener) -> None:
        """Send ``callback`` every event so far, then every later one and ``None`` at the end —
        each exactly once, in order, whenever it is called (a page that joins a running answer)."""
        with self._lock:  # no event is emitted meanwhile: none is missed or sent twice
            for event in self._history:
                callback(event)
            if self._ended:
                callback(None)
            else:
                self._listeners.append(callback)


def pump(gen: Generation, turn: "Turn", progress: Callable[[list[str]], None] | None = None,
         observe: Callable[[str, Usage], None] | None = None) -> tuple[str, Usage, list[str], dict | None, dict | None]:
    """Stream ``turn``'s deltas as ``delta`` events of ``gen`` until it ends or ``gen`` is stopped
    (each recorded with :meth:`Generation.add_delta` first: one in flight at a stop is dropped);
    ``progress`` sees the parts so far after each delta; ``observe(backend name, usage)`` the
    finished turn (metrics). Returns the text, usage, notes, a guide's recommendations (``None``
    for other masters) and the safety guard's record (stored on the message for an audit)."""
    parts: list[str] = []
    with cancel_scope(gen.cancel):  # a Stop cancels the backend request, even before its first token
        try:
            for delta in turn:
                if not gen.add_delta(delta):  # stopped: the delta in flight is neither shown nor stored
                    break
                parts.append(delta)
                gen.emit(Event("delta", {"text": delta}))
                if gen.stopping:
                    break
                if progress is not None:
                    progress(parts)
        finally:
            if turn.reply is None:  # stopped, or a storage error: end the generation now
                turn.close()
    reply = turn.reply
    usage = reply.usage if reply else Usage(finish_reason="cancelled")
    if observe is not None and reply is not None:
        observe(reply.backend, usage)
    text = reply.text if reply is not None and not gen.stopping else "".join(parts)  # stopped: what was shown
    return (text, usage, list(getattr(reply, "notes", None) or []), getattr(reply, "recommendations", None),
            getattr(reply, "safety", None))


def settled(messages: list, gen: Generation | None) -> list:
    """``messages`` as they read when no generation of theirs is live: a message still
    ``streaming`` becomes ``stopped``, with ``gen``'s stop reason when a stopped generation is
    finishing, else "interrupted". The answer of a stopped ``gen`` reads as its final text
    (:attr:`Generation.text`, which the turn thread is about to store; the stored row may hold
    an older progress write), any other keeps its stored text. The stored rows are not changed
    (the turn thread, or the next start's recovery, writes their real end)."""
    from dataclasses import replace

    reason = gen.stop_reason if gen is not None else "interrupted"
    final = gen.text if gen is not None and gen.stopping else None
    own = gen.assistant_message_id if gen is not None else None

    def settle(m):
        content = final if final is not None and m.id == own else m.content
        return replace(m, status="stopped", error=m.error or reason, content=content)

    return [settle(m) if m.status == "streaming" else m for m in messages]
