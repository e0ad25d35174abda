"""/api/match and publishing while the Finder's first index is still building: answered at once."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from masterhall.finder import Finder
from masterhall.finder.live import LiveFinder

pytestmark = pytest.mark.anyio


class SlowFactory:
    """Builds a names-and-BM25 Finder once ``release`` is set (a cold index build)."""

    def __init__(self):
        self.release = threading.Event()

    def __call__(self, masters):
        assert self.release.wait(30)
        return Finder(masters, channels=[], persist=False)


async def test_search_and_publish_during_the_first_build(hall, client):
    factory = SlowFactory()
    hall.finder = LiveFinder(hall.catalog, factory=factory)
    try:
        t0 = time.monotonic()
        body = (await client.get("/api/match", params={"q": "I can't sleep at night", "k": 3})).json()
        assert time.monotonic() - t0 < 5
        assert body["index"] == "building" and body["no_fit"] is False and "create_url" not in body
        assert body["matches"][0]["id"] == "sleep-coach" and body["matches"][0]["strength"] in ("weak", "strong")
        m = (await client.get("/api/masters/socrates")).json()
        m.update(id="bonsai-master", name={"zh": "盆景师", "en": "Bonsai Master"})
        m["tags"]["en"] = ["bonsai", "pruning", "watering"]
        t0 = time.monotonic()
        r = await client.post("/api/builder/masters", json={"master": m, "status": "published"})
        assert r.status_code < 300 and time.monotonic() - t0 < 5  # was: waited for the whole build
        found = (await client.get("/api/match", params={"q": "how often should I water my bonsai", "k": 3})).json()
        assert found["index"] == "building" and found["matches"][0]["id"] == "bonsai-master"
    finally:
        factory.release.set()
    await anyio.to_thread.run_sync(hall.finder.get)
    ready = (await client.get("/api/match", params={"q": "how often should I water my bonsai", "k": 3})).json()
    assert ready["index"] == "ready" and ready["matches"][0]["id"] == "bonsai-master"
