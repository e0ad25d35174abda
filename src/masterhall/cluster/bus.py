"""The connection of one hall process to the Redis that several processes share.

:class:`RedisBus` runs redis-py's asyncio client on an event loop of its own, in a daemon thread,
so the hall's threaded services call it synchronously (:meth:`RedisBus.call`, with a timeout) and
its subscriptions run whatever the hall's web server does. Every key and channel starts with the
configured prefix (``settings.redis_prefix``, default ``masterhall``) followed by ``:``.

**Losing Redis never fails a request.** Every call returns its ``default`` when Redis does not
answer within the timeout or refuses the connection (and, for :data:`RETRY_S` seconds after such
a failure, at once, without trying); the bus then reports ``state`` ``down``
and a ``warning`` (shown by ``/api/status``, ``/readyz`` and the server log: "Stop and live
streams only work on the process that runs the answer; other processes learn of published
masters when Redis is back or they restart"). The subscription loop reconnects every second; once
Redis answers again the state is ``ok``.

:class:`LocalBus` is the bus of a hall without ``redis_url`` (one process): nothing is shared and
nothing is warned about.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable

log = logging.getLogger("masterhall.cluster")

#: What a process without Redis loses, said once when Redis goes away (and in ``warning``).
DEGRADED = ("Redis at {url} does not answer: Stop and resuming a live answer only work on the process that runs the "
            "answer, and other processes learn of published masters when Redis is back or they restart.")

Handler = Callable[[dict], None]

#: Seconds during which calls return their default at once after Redis failed (the subscription
#: loop keeps trying every second and marks Redis up as soon as it answers).
RETRY_S = 5.0


def process_id() -> str:
    """A name for this process, unique across hosts and restarts: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LocalBus:
    """The bus of a single-process hall: no Redis, nothing shared (every call returns its default)."""

    shared = False
    state = "off"
    warning: str | None = None

    def __init__(self) -> None:
        self.process = process_id()
        self.prefix = "masterhall"

    def key(self, *parts: str) -> str:
        """A key or channel name under the prefix."""
        return ":".join((self.prefix, *parts))

    def call(self, fn: Callable[[Any], Awaitable], default=None, timeout_s: float = 2.0):
        """``default``: there is no Redis."""
        return default

    def publish(self, channel: str, message: dict) -> None:
        """Nothing: no other process listens."""

    def submit(self, fn: Callable[[Any], Awaitable]) -> None:
        """Nothing: there is no Redis."""

    def subscribe(self, channel: str, handler: Handler) -> None:
        """Nothing: no other process publishes."""

    def start(self) -> None:
        """Nothing to start."""

    def close(self) -> None:
        """Nothing to close."""


class RedisBus(LocalBus):
    """Redis shared by hall processes (see the module docstring). ``url``: a ``redis://`` URL;
    ``prefix``: of every key and channel. Nothing connects before :meth:`start` (or the first call)."""

    shared = True

    def __init__(self, url: str, prefix: str = "masterhall", *, timeout_s: float = 2.0):
        super().__init__()
        self.url = url
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.state = "starting"
        self.warning = None
        self._handlers: dict[str, list[Handler]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = None
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="redis-handler")
        self._closed = False
        self._down_at = 0.0

    # -- the loop --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the bus's thread and its subscription loop (idempotent)."""
        with self._lock:
            if self._loop is not None:
                return
            import redis.asyncio as aioredis

            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                self._client = aioredis.Redis.from_url(self.url, socket_timeout=self.timeout_s + 3,
                                                       socket_connect_timeout=self.timeout_s, decode_responses=True)
                loop.call_soon(ready.set)
                loop.create_task(self._listen())
                loop.run_forever()

            threading.Thread(target=run, name="redis-bus", daemon=True).start()
            ready.wait(5)
            self._loop = loop

    def wait_listening(self, timeout_s: float = 5.0) -> bool:
        """Wait until the subscription loop is subscribed (tests, start-up); True when it is."""
        self.start()
        return self._listening.wait(timeout_s)

    def _down(self, exc: BaseException) -> None:
        self._down_at = time.monotonic()
        if self.state != "down":
            self.warning = DEGRADED.format(url=_safe_url(self.url))
            log.warning("%s (%s: %s)", self.warning, type(exc).__name__, exc)
        self.state = "down"

    def _up(self) -> None:
        if self.state == "down":
            log.warning("Redis at %s answers again: Stop, live streams and catalog changes reach every process.",
                        _safe_url(self.url))
        self.state, self.warning = "ok", None

    # -- calls -----------------------------------------------------------------------------------
    def call(self, fn: Callable[[Any], Awaitable], default=None, timeout_s: float | None = None):
        """Run ``fn(client)`` (a coroutine function of a ``redis.asyncio.Redis``) on the bus and
        return its result, or ``default`` when Redis fails or does not answer within
        ``timeout_s`` (default: the bus's) — never raises for Redis' sake."""
        self.start()
        if self._loop is None or self._closed:
            return default
        if self.state == "down" and time.monotonic() - self._down_at < RETRY_S:
            return default  # a Redis that does not answer is not waited for again at every call
        future = asyncio.run_coroutine_threadsafe(fn(self._client), self._loop)
        try:
            result = future.result((timeout_s or self.timeout_s) + 0.5)
        except Exception as exc:  # noqa: BLE001 - any Redis failure degrades, never fails the caller
            future.cancel()
            self._down(exc)
            return default
        self._up()
        return result

    def publish(self, channel: str, message: dict) -> None:
        """Publish ``message`` (JSON, with this process as ``origin``) on ``channel``, without waiting."""
        self.start()
        if self._loop is None or self._closed:
            return
        payload = json.dumps({**message, "origin": self.process})

        async def send():
            try:
                await self._client.publish(self.key(channel), payload)
            except Exception as exc:  # noqa: BLE001
                self._down(exc)
            else:
                self._up()

        asyncio.run_coroutine_threadsafe(send(), self._loop)

    def submit(self, fn: Callable[[Any], Awaitable]) -> None:
        """Run ``fn(client)`` on the bus without waiting for it (a failure marks Redis down)."""
        self.start()
        if self._loop is None or self._closed:
            return

        async def run():
            try:
                await fn(self._client)
            except Exception as exc:  # noqa: BLE001
                self._down(exc)

        asyncio.run_coroutine_threadsafe(run(), self._loop)

    def subscribe(self, channel: str, handler: Handler) -> None:
        """Call ``handler(message)`` (on a worker thread) for every message another process
        publishes on ``channel``. Subscribe before :meth:`start`, or the channel joins at the
        next reconnection."""
        self._handlers.setdefault(self.key(channel), []).append(handler)

    async def _listen(self) -> None:
        while not self._closed:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                channels = list(self._handlers) or [self.key("ping")]
                await pubsub.subscribe(*channels)
                self._up()
                self._listening.set()
                while not self._closed:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._dispatch(message["channel"], message["data"])
            except Exception as exc:  # noqa: BLE001 - reconnect after a pause
                self._listening.clear()
                self._down(exc)
                await asyncio.sleep(1.0)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001
                    pass

    def _dispatch(self, channel: str, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if message.get("origin") == self.process:
            return
        for handler in self._handlers.get(channel, []):
            self._workers.submit(_safely, handler, message)

    def close(self) -> None:
        """Stop the loop and its thread (the connection pool is dropped)."""
        self._closed = True
        loop = self._loop
        if loop is not None and loop.is_running():
            async def cancel_all() -> None:
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()

            try:
                asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(1.0)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
            loop.call_soon_threadsafe(loop.stop)
        self._workers.shutdown(wait=False)


def _safely(handler: Handler, message: dict) -> None:
    try:
        handler(message)
    except Exception:  # noqa: BLE001 - one bad message must not stop the others
        log.exception("handling a message from Redis failed")


def _safe_url(url: str) -> str:
    """``url`` without its password."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"


def make_bus(url: str | None, prefix: str = "masterhall") -> LocalBus:
    """A :class:`RedisBus` for ``url``, or a :class:`LocalBus` when it is unset."""
    return RedisBus(url, prefix) if url else LocalBus()
