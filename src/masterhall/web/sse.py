"""Server-Sent Events: the one way the web app streams a turn.

Every streaming route (``/api/messages`` and its kin, the builder's test and preview, ``/v1``)
calls :func:`event_stream`: the turn is started and run on a thread of the hall's turn pool
(storing, reading the prompt, streaming: whatever may block), and hands its events to the event
loop through a :class:`ThreadBridge`; the route only says how an event becomes SSE frames.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from typing import AsyncIterator, Callable, Iterable

from fastapi.responses import StreamingResponse

from ..conversations.turns import Event, Generation, Listener, TurnPool

#: Headers of every event stream: no caching, no proxy buffering.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

#: Seconds a stream may stay silent before a keep-alive comment goes out (while the model reads a
#: long prompt, before the first token): proxies and load balancers commonly cut a connection idle
#: for 30-100 s (nginx ``proxy_read_timeout`` 60 s, AWS ALB 60 s, Cloudflare 100 s).
KEEPALIVE_S = 5.0

#: An SSE comment line: clients ignore it (the SSE specification's own keep-alive idiom).
KEEPALIVE = ": keep-alive\n\n"


#: ``json.dumps(data, ensure_ascii=False)`` without building an encoder per call.
_encode = json.JSONEncoder(ensure_ascii=False).encode
#: ``json.dumps(text, ensure_ascii=False)`` for a string (what the encoder itself calls).
_encode_text = json.encoder.encode_basestring


def sse(event: str | None, data) -> str:
    """One SSE frame: optional ``event:`` line and a JSON ``data:`` line (or the raw string)."""
    payload = data if isinstance(data, str) else _encode(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


def text_frame(prefix: str, text: str, suffix: str) -> str:
    """An SSE ``data:`` frame whose JSON is ``prefix`` + ``text`` as a JSON string + ``suffix``:
    the frame of a text delta built without encoding the same constant structure again for every
    delta (``prefix``/``suffix`` come from :func:`json_around`)."""
    return f"{prefix}{_encode_text(text)}{suffix}\n\n"


def json_around(event: str | None, data: dict, path: tuple) -> tuple[str, str]:
    """The two halves of ``sse(event, data)`` around the string found at ``path`` (keys and list
    indexes) in ``data``, for :func:`text_frame`."""
    marker = "\u0000TEXT\u0000"
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = marker
    frame = sse(event, data)[:-2]
    encoded = json.dumps(marker)
    cut = frame.index(encoded)
    return frame[:cut], frame[cut + len(encoded):]


class ThreadBridge:
    """Receives items from a worker thread (``put``, thread-safe) and yields them asynchronously.

    ``None`` ends the stream. Create it inside the event loop, hand ``put`` to the worker.

    Waking the event loop from another thread costs a system call and a loop iteration (0.1-0.2 ms
    of CPU on a small VM), so ``put`` wakes it only when no wake-up is already on its way: items
    that arrive together (a burst from a fast backend) are handed over with one wake-up, in order.
    A wake-up counts as on its way until the loop has taken the items (not merely until it woke):
    what arrives while the loop is busy with the previous batch goes with the next one.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._items: deque = deque()
        self._lock = threading.Lock()
        self._wake_pending = False
        self._ready = asyncio.Event()
        #: True once :meth:`batches` has taken the ``None`` that ends the stream (its last batch is on its way).
        self.ended = False

    def put(self, item) -> None:
        """Called from any thread."""
        with self._lock:
            self._items.append(item)
            if self._wake_pending:
                return
            self._wake_pending = True
        self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._ready.set()

    def _take(self) -> list:
        """The items that arrived, in order; the next ``put`` wakes the loop again."""
        with self._lock:
            batch = list(self._items)
            self._items.clear()
            self._wake_pending = False
        return batch

    async def items(self) -> AsyncIterator:
        """Yield items until ``None``."""
        async for batch in self.batches():
            for item in batch:
                yield item

    async def batches(self, idle_s: float | None = None) -> AsyncIterator[list]:
        """Yield the items that arrived together (one wake-up), as lists, until ``None``; with
        ``idle_s``, an empty list after each ``idle_s`` seconds in which nothing arrived."""
        idle = [False]

        def time_out() -> None:
            idle[0] = True
            self._ready.set()

        while True:
            # a timer rather than asyncio.wait_for: no task per wait (a stream waits once a delta)
            timer = self._loop.call_later(idle_s, time_out) if idle_s is not None else None
            await self._ready.wait()
            if timer is not None:
                timer.cancel()
            self._ready.clear()
            batch = self._take()
            if not batch and idle[0]:
                idle[0] = False
                yield []
                continue
            idle[0] = False
            if None in batch:
                self.ended = True
                batch = batch[: batch.index(None)]
                if batch:
                    yield batch
                return
            if batch:
                yield batch


async def guarded(stream: AsyncIterator[str], on_abort: Callable[[], None]) -> AsyncIterator[str]:
    """Pass ``stream`` through; if the client goes away before it ends, call ``on_abort``."""
    finished = False
    try:
        async for chunk in stream:
            yield chunk
        finished = True
    finally:
        if not finished:
            on_abort()


class _Started:
    """The turn's start function returned this generation (first item of a bridge)."""

    def __init__(self, generation: Generation):
        self.generation = generation


class _Refused:
    """The turn's start function raised this (nothing was started)."""

    def __init__(self, error: BaseException):
        self.error = error


async def event_stream(
    pool: TurnPool,
    start: Callable[[Listener], Generation],
    frames: Callable[[Event], Iterable[str]],
    *,
    opening: Iterable[str] = (),
    closing: Callable[[], Iterable[str]] | None = None,
    headers: Callable[[Generation], dict[str, str]] | None = None,
) -> StreamingResponse:
    """Start a turn and stream it as ``text/event-stream``.

    ``start(listener)`` runs on a thread of the hall's turn ``pool`` (it may block: it stores,
    reads the prompt) and returns the turn's :class:`~masterhall.conversations.Generation`; the
    turn then runs on that same thread (:meth:`~masterhall.conversations.TurnPool.submit_with_handoff`).
    What ``start`` raises (a typed error: nothing was started) is raised here, for the app's error
    handlers, so the client gets a JSON error instead of a stream. Then the response sends
    ``opening``, ``frames(event)`` for each event, and ``closing()``; events that arrive together
    go out in one write, the last ones with the closing frames; a stream silent for
    :data:`KEEPALIVE_S` seconds (a long prompt being read) gets a :data:`KEEPALIVE` comment.
    ``headers(generation)`` adds response headers (known once the turn has started). A client that
    goes away stops the turn (its partial answer is kept), and cancels its backend request.
    """
    bridge = ThreadBridge()

    def job() -> None:
        try:
            generation = start(bridge.put)
        except BaseException as exc:  # noqa: BLE001 - raised again in the event loop
            bridge.put(_Refused(exc))
            bridge.put(None)
            return
        bridge.put(_Started(generation))

    pool.submit_with_handoff(job)
    batches = bridge.batches(KEEPALIVE_S)
    early: list = []  # events sent before start() returned (a test run's list of starters)
    gen: Generation | None = None
    while gen is None:
        try:
            batch = await anext(batches)
        except StopAsyncIteration:
            raise RuntimeError("the turn ended before it started") from None
        for i, item in enumerate(batch):
            if isinstance(item, _Refused):
                raise item.error
            if isinstance(item, _Started):
                gen = item.generation
                early.extend(batch[i + 1:])
                break
            early.append(item)

    def text(items: list) -> str:
        return "".join(frame for event in items for frame in frames(event))

    async def body() -> AsyncIterator[str]:
        # The turn's last events and the closing frames go out together (one write fewer).
        chunk = "".join(opening) + text(early)
        if chunk and not bridge.ended:
            yield chunk
            chunk = ""
        async for batch in batches:
            if not batch:
                yield KEEPALIVE
                continue
            chunk = text(batch)
            if chunk and not bridge.ended:
                yield chunk
                chunk = ""
        if closing is not None:
            chunk += "".join(closing())
        if chunk:
            yield chunk

    def abort() -> None:
        if not gen.done.is_set():
            gen.stop("the client disconnected")

    extra = headers(gen) if headers is not None else {}
    return StreamingResponse(guarded(body(), abort), media_type="text/event-stream", headers={**STREAM_HEADERS, **extra})
