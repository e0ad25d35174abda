"""Sign-in limits shared by hall processes through Redis.

The same two counters as :class:`~masterhall.accounts.limits.LoginLimiter` (failures per name and
client address, and per address), kept as sorted sets of failure times
(``<prefix>:login:<kind>:<hash>``, expiring with the window) so that every process counts every
failure. While Redis does not answer, the process counts in its own memory (the local limiter),
as a single process does.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from typing import Callable

from ..accounts.limits import LoginLimiter
from ..errors import RateLimitedError
from .bus import LocalBus


class SharedLoginLimiter(LoginLimiter):
    """:class:`~masterhall.accounts.limits.LoginLimiter` on ``bus`` (see the module docstring);
    ``clock`` returns wall-clock seconds (shared by the processes)."""

    def __init__(self, bus: LocalBus, per_name: int = 5, per_address: int = 20, window_s: float = 300.0,
                 clock: Callable[[], float] = time.time):
        super().__init__(per_name, per_address, window_s, clock)
        self.bus = bus

    def _redis_keys(self, name: str, address: str) -> list[str]:
        digest = [hashlib.sha256(repr(key).encode()).hexdigest()[:32] for key in self._keys(name, address)]
        return [self.bus.key("login", "name", digest[0]), self.bus.key("login", "address", digest[1])]

    def check(self, name: str, address: str) -> None:
        """Raise :class:`RateLimitedError` when this attempt must wait (counts of every process)."""
        now, keys = self.clock(), self._redis_keys(name, address)

        async def oldest_over(r):
            found = []
            for key, limit in zip(keys, (self.per_name, self.per_address)):
                await r.zremrangebyscore(key, 0, now - self.window_s)
                times = await r.zrange(key, -limit, -1, withscores=True)
                found.append(times[0][1] if len(times) >= limit else None)
            return found

        found = self.bus.call(oldest_over)
        if found is None:  # Redis is down: this process's own counts
            return super().check(name, address)
        for oldest in found:
            if oldest is not None:
                wait = math.ceil(oldest + self.window_s - now)
                raise RateLimitedError("Too many failed sign-ins; try again later.", retry_after_s=max(1, wait))

    def failed(self, name: str, address: str) -> None:
        """Count a failed attempt (in Redis; in memory while it is down)."""
        now, keys = self.clock(), self._redis_keys(name, address)

        async def add(r):
            async with r.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zadd(key, {f"{now}:{uuid.uuid4().hex[:8]}": now})
                    pipe.expire(key, math.ceil(self.window_s))
                await pipe.execute()
            return True

        if not self.bus.call(add, default=False):
            super().failed(name, address)

    def succeeded(self, name: str, address: str) -> None:
        """Clear the failures of this name from this address."""
        key = self._redis_keys(name, address)[0]
        self.bus.call(lambda r: r.delete(key))
        super().succeeded(name, address)
