"""The sign-in limiter: per name and address, per address, the window, a success clears."""

from __future__ import annotations

import pytest

from masterhall.accounts.limits import LoginLimiter
from masterhall.errors import RateLimitedError


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_failures_per_name_and_address_then_the_window_passes():
    clock = Clock()
    limiter = LoginLimiter(per_name=3, per_address=100, window_s=60, clock=clock)
    for _ in range(3):
        limiter.check("Bob", "10.0.0.1")
        limiter.failed("Bob", "10.0.0.1")
        clock.now += 10
    with pytest.raises(RateLimitedError) as exc:
        limiter.check("bob", "10.0.0.1")  # names compare case-insensitively
    assert exc.value.retry_after_s == 30  # the first failure (t=1000) leaves the window at t=1060; now t=1030
    limiter.check("bob", "10.0.0.2")  # another address may still try
    limiter.check("alice", "10.0.0.1")  # and another name
    clock.now += 30
    limiter.check("bob", "10.0.0.1")


def test_failures_per_address_across_names():
    limiter = LoginLimiter(per_name=100, per_address=4, window_s=60, clock=Clock())
    for i in range(4):
        limiter.failed(f"user{i}", "10.0.0.9")
    with pytest.raises(RateLimitedError):
        limiter.check("someone-else", "10.0.0.9")


def test_a_success_clears_that_name():
    limiter = LoginLimiter(per_name=2, per_address=100, window_s=60, clock=Clock())
    limiter.failed("bob", "a")
    limiter.succeeded("bob", "a")
    limiter.failed("bob", "a")
    limiter.check("bob", "a")
