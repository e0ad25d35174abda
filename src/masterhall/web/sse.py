"""Server-Sent Events: format events and bridge a worker thread's events to an async stream."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator, Callable


def sse(event: str | None, data) -> str:
    """One SSE frame: optional ``event:`` line and a JSON ``data:`` line (or the raw string)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


class ThreadBridge:
    """Receives items from a worker thread (``put``, thread-safe) and yields them asynchronously.

    ``None`` ends the stream. Create it inside the event loop, hand ``put`` to the worker.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue = asyncio.Queue()

    def put(self, item) -> None:
        """Called from any thread."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    async def items(self) -> AsyncIterator:
        """Yield items until ``None``."""
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item


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
