"""Sign-in attempts, counted in memory: too many failures in a window and the next tries wait.

Two counters guard each attempt: failures for one name from one client address (someone guessing
one person's password) and failures from one client address for any name (someone trying many
names). A success clears the first. The counts live in this process only: a restart forgets
them, and several server processes count separately.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable

from ..errors import RateLimitedError


class LoginLimiter:
    """At most ``per_name`` failures per (name, address) and ``per_address`` failures per address
    within ``window_s`` seconds; ``clock`` returns seconds (monotonic)."""

    def __init__(self, per_name: int = 5, per_address: int = 20, window_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.per_name = per_name
        self.per_address = per_address
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[tuple, deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str) -> tuple[tuple, tuple]:
        return ("name", name.strip().lower(), address), ("address", address)

    def _recent(self, key: tuple, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, name: str, address: str) -> None:
        """Raise :class:`RateLimitedError` (with the seconds to wait) when this attempt must wait."""
        now = self.clock()
        with self._lock:
            for key, limit in zip(self._keys(name, address), (self.per_name, self.per_address)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = math.ceil(times[len(times) - limit] + self.window_s - now)
                    raise RateLimitedError("Too many failed sign-ins; try again later.", retry_after_s=max(1, wait))

    def failed(self, name: str, address: str) -> None:
        """Count a failed attempt."""
        now = self.clock()
        with self._lock:
            for key in self._keys(name, address):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 10_000:  # forget the oldest keys rather than grow without end
                for key in list(self._failures)[:1000]:
                    del self._failures[key]

    def succeeded(self, name: str, address: str) -> None:
        """Clear the failures of this name from this address."""
        with self._lock:
            self._failures.pop(self._keys(name, address)[0], None)
