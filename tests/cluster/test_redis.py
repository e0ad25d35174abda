"""Redis shared by processes, in one test process: sign-in limits count across processes, and a
hall whose Redis is gone keeps working on its own (Stop included), with a visible warning."""

from __future__ import annotations

import uuid

import pytest

from masterhall.cluster.bus import RedisBus
from masterhall.cluster.limits import SharedLoginLimiter
from masterhall.config import load_settings
from masterhall.errors import RateLimitedError
from masterhall.hall import build_hall
from masterhall.store import Store

from .conftest import REDIS_URL, redis_or_skip


def test_sign_in_failures_on_one_process_count_on_another():
    redis_or_skip()
    prefix = f"mhtest-{uuid.uuid4().hex[:10]}"
    one, two = RedisBus(REDIS_URL, prefix), RedisBus(REDIS_URL, prefix)
    try:
        a, b = SharedLoginLimiter(one, per_name=3), SharedLoginLimiter(two, per_name=3)
        for limiter in (a, b, a):
            limiter.check("alice", "10.0.0.1")
            limiter.failed("alice", "10.0.0.1")
        with pytest.raises(RateLimitedError):
            b.check("alice", "10.0.0.1")
        b.check("bob", "10.0.0.1")  # another name from the address: still allowed
        a.succeeded("alice", "10.0.0.1")
        b.check("alice", "10.0.0.1")
    finally:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        one.close()
        two.close()


def test_a_hall_whose_redis_is_gone_still_answers_and_stops_with_a_warning(tmp_path):
    settings = load_settings(backend="fake", safety_semantic=False, redis_url="redis://127.0.0.1:1/0")
    hall = build_hall(settings, store=Store(f"sqlite:///{tmp_path / 'h.db'}"), flush_interval_s=0.0)
    hall.bus.timeout_s = 0.3
    hall.start(load_model=False)
    fake = hall.registry.get("fake")
    fake.delay_s = 0.02
    gen = hall.chat.send(" ".join(f"w{i}" for i in range(200)), master_id="socrates")
    stopped = hall.chat.stop(gen.conversation.id)
    assert stopped is gen and gen.done.wait(5)
    assert hall.chat.get(gen.conversation.id).messages[1].status == "stopped"
    assert hall.bus.state == "down" and "Stop and resuming a live answer only work on the process" in hall.bus.warning
    ready = hall.readiness()
    assert ready["ready"] is True and ready["redis"] == "down" and ready["warning"]
    hall.close()


def test_the_pages_say_when_redis_is_gone(tmp_path):
    from fastapi.testclient import TestClient

    from masterhall.web.app import create_app

    settings = load_settings(backend="fake", safety_semantic=False, redis_url="redis://127.0.0.1:1/0")
    hall = build_hall(settings, store=Store(f"sqlite:///{tmp_path / 'h.db'}"))
    with TestClient(create_app(hall, load_model=False)) as client:
        assert client.get("/api/status").json()["redis"]["state"] in ("down", "starting")
        hall.bus.call(lambda r: r.ping())  # fails: the bus knows it is down
        page = client.get("/", headers={"accept-language": "en"})
        assert 'id="redis-banner"' in page.text and "Stop and following a live answer only work" in page.text
        assert client.get("/readyz").json()["warning"]
    hall.close()
