"""Which process runs which conversation's answer, and Stop across processes.

A process that starts an answer claims its conversation in Redis (key ``<prefix>:turn:<id>`` =
the process's id, expiring after :data:`TTL_S` seconds unless the process keeps renewing it —
a process that dies lets go within that time). Another process then refuses a second answer in
the same conversation, shows the conversation as ``generating``, and on Stop publishes a request
on ``<prefix>:stop``: the holder stops the answer and replies on a list
``<prefix>:stop-reply:<nonce>`` with the answer's final text, exactly as a local Stop answers.

With :class:`~masterhall.cluster.bus.LocalBus` (no Redis) or while Redis is down, every method
answers as if no other process existed: claims succeed, nothing runs elsewhere, Stop finds
nothing elsewhere — a Stop then only works on the process that runs the answer.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Callable

from .bus import LocalBus
from .streams import LiveRelay

#: Seconds a claim lives without renewal (renewed every third of it while the answer runs).
TTL_S = 30
#: Seconds a Stop waits for the process that runs the answer to reply.
STOP_REPLY_S = 2.0


@dataclass(frozen=True)
class RemoteStop:
    """An answer stopped on another process: its stored message id and final text (what the
    route answers, as for a local :class:`~masterhall.conversations.turns.Generation`)."""

    assistant_message_id: int | None
    text: str


class SharedTurns:
    """The claims and Stop requests of one process on ``bus`` (see the module docstring).

    ``lookup(conversation_id)`` returns the process's running generation of a conversation (an
    object with ``stop(reason)``, ``assistant_message_id`` and ``text``), or ``None``; it is set
    with :meth:`attach` by the chat service.
    """

    def __init__(self, bus: LocalBus):
        self.bus = bus
        self._lookup: Callable[[str], object | None] = lambda _cid: None
        self._mine: set[str] = set()
        self._lock = threading.Lock()
        self._beat: threading.Thread | None = None
        self.live = LiveRelay(bus)
        if bus.shared:
            bus.subscribe("stop", self._on_stop)

    def attach(self, lookup: Callable[[str], object | None]) -> None:
        """Where this process's running generations are found (by conversation id)."""
        self._lookup = lookup

    def _key(self, conversation_id: str) -> str:
        return self.bus.key("turn", conversation_id)

    def claim(self, conversation_id: str) -> bool:
        """Claim the conversation for an answer of this process: False when another live process
        holds it (True without Redis, or while it is down)."""
        if not self.bus.shared:
            return True
        with self._lock:
            if conversation_id in self._mine:
                return True
        key, me = self._key(conversation_id), self.bus.process

        async def claim(r):
            if await r.set(key, me, ex=TTL_S, nx=True):
                return True
            return await r.get(key) in (me, None)

        ok = self.bus.call(claim, default=True)
        if ok:
            with self._lock:
                self._mine.add(conversation_id)
            self._start_beat()
        return ok

    def release(self, conversation_id: str) -> None:
        """Let go of a claim of this process (another process's claim is left alone)."""
        if not self.bus.shared:
            return
        with self._lock:
            if conversation_id not in self._mine:
                return
            self._mine.discard(conversation_id)
        key, me = self._key(conversation_id), self.bus.process

        async def release(r):
            if await r.get(key) == me:
                await r.delete(key)

        self.bus.call(release)

    def relay(self, conversation_id: str) -> Callable[[object | None], None] | None:
        """A listener that relays an answer's events to the other processes (through Redis), or
        ``None`` without Redis."""
        return self.live.writer(conversation_id) if self.bus.shared else None

    def holder(self, conversation_id: str) -> str | None:
        """The process that runs the conversation's answer, if another one does (else ``None``)."""
        if not self.bus.shared:
            return None
        holder = self.bus.call(lambda r: r.get(self._key(conversation_id)))
        return holder if holder and holder != self.bus.process else None

    def running_elsewhere(self) -> set[str]:
        """Ids of the conversations whose answers other live processes run (for start-up recovery)."""
        if not self.bus.shared:
            return set()
        prefix = self.bus.key("turn", "")

        async def scan(r):
            found = set()
            async for key in r.scan_iter(match=prefix + "*", count=500):
                found.add(key[len(prefix):])
            return found

        return self.bus.call(scan, default=set()) - self._mine

    def stop_elsewhere(self, conversation_id: str, reason: str = "stopped by the user") -> RemoteStop | None:
        """Ask the process that runs the conversation's answer to stop it; its final text, or
        ``None`` when no process answered within :data:`STOP_REPLY_S` seconds (none runs it, or
        Redis is down)."""
        if not self.bus.shared:
            return None
        nonce = uuid.uuid4().hex
        reply_key = self.bus.key("stop-reply", nonce)
        self.bus.publish("stop", {"conversation_id": conversation_id, "reason": reason, "reply": reply_key})
        reply = self.bus.call(lambda r: r.blpop([reply_key], timeout=STOP_REPLY_S), timeout_s=STOP_REPLY_S + 1)
        if not reply:
            return None
        data = json.loads(reply[1])
        return RemoteStop(data["message_id"], data["text"]) if data.get("stopped") else None

    def _on_stop(self, message: dict) -> None:
        gen = self._lookup(message.get("conversation_id", ""))
        if gen is None:
            return  # another process runs it (or nobody): it replies
        gen.stop(message.get("reason") or "stopped by the user")
        payload = json.dumps({"stopped": True, "message_id": gen.assistant_message_id, "text": gen.text})
        reply = message["reply"]

        async def answer(r):
            await r.rpush(reply, payload)
            await r.expire(reply, 30)

        self.bus.call(answer)

    def _start_beat(self) -> None:
        with self._lock:
            if self._beat is not None:
                return
            self._beat = threading.Thread(target=self._renew, name="turn-claims", daemon=True)
            self._beat.start()

    def _renew(self) -> None:
        stop = threading.Event()
        while not stop.wait(TTL_S / 3):
            with self._lock:
                keys = [self._key(cid) for cid in self._mine]
            if not keys:
                continue

            async def renew(r, keys=keys):
                async with r.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.expire(key, TTL_S)
                    await pipe.execute()

            self.bus.call(renew)
