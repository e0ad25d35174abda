"""A live answer relayed through Redis, so a page on another hall process can follow it.

The process that runs an answer writes each of its events, in order, to a Redis stream
``<prefix>:live:<conversation>`` (``XADD``, one field ``e``: the event as JSON, ``end`` last; the
stream is replaced when the conversation's next answer starts and expires a minute after its
end). A page that opens the conversation on another process reads the stream from its first entry
(``XREAD``, blocking a second at a time): it gets the answer so far and then every later event,
exactly as the page that sent the message does. The writes are queued and sent by one coroutine
at a time per answer, so they keep their order and never make the answer wait for Redis.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Callable

from .bus import LocalBus

#: Seconds the stream of a finished answer stays readable.
KEEP_S = 60
#: Entries kept per answer (a 16,000-token answer stays whole).
MAX_ENTRIES = 20_000
#: Seconds a follower waits for a first entry, or for the next one once its process is gone.
IDLE_S = 5.0


class LiveRelay:
    """Writes and reads the live streams of answers on ``bus`` (see the module docstring)."""

    def __init__(self, bus: LocalBus):
        self.bus = bus

    def key(self, conversation_id: str) -> str:
        """The stream of the conversation's current answer."""
        return self.bus.key("live", conversation_id)

    def writer(self, conversation_id: str) -> Callable[[object | None], None]:
        """A listener for a generation's events (``type`` and ``data``, then ``None``) that
        appends them to the conversation's stream, in order, without waiting."""
        key, queue, lock = self.key(conversation_id), deque(), threading.Lock()
        state = {"scheduled": False, "first": True}

        async def drain(r) -> None:
            while True:
                with lock:
                    items = list(queue)
                    queue.clear()
                    if not items:
                        state["scheduled"] = False
                        return
                async with r.pipeline(transaction=False) as pipe:
                    if state["first"]:
                        pipe.delete(key)
                        state["first"] = False
                    for item in items:
                        pipe.xadd(key, {"e": item}, maxlen=MAX_ENTRIES, approximate=True)
                    pipe.expire(key, KEEP_S if items[-1] == "end" else 3600)
                    await pipe.execute()

        def listener(event) -> None:
            item = "end" if event is None else json.dumps({"type": event.type, "data": event.data}, ensure_ascii=False)
            with lock:
                queue.append(item)
                if state["scheduled"]:
                    return
                state["scheduled"] = True
            self.bus.submit(drain)

        return listener

    def read(self, conversation_id: str, emit: Callable[[str, dict], None], *, cancelled: Callable[[], bool],
             running: Callable[[], bool]) -> bool:
        """Call ``emit(type, data)`` for every event of the conversation's current answer, from its
        first, until its end (True), or until ``cancelled()``, or until nothing came for
        :data:`IDLE_S` seconds while ``running()`` says no process runs it any more, or Redis does
        not answer (False)."""
        key, last, quiet = self.key(conversation_id), "0", 0.0
        while not cancelled():
            entries = self.bus.call(lambda r, last=last: r.xread({key: last}, count=500, block=1000), default=None,
                                    timeout_s=2.0)
            if entries is None:
                return False
            batch = entries[0][1] if entries else []
            if not batch:
                quiet += 1.0
                if quiet >= IDLE_S and not running():
                    return False
                continue
            quiet = 0.0
            for entry_id, fields in batch:
                last = entry_id
                if fields.get("e") == "end":
                    return True
                event = json.loads(fields["e"])
                emit(event["type"], event["data"])
        return False
