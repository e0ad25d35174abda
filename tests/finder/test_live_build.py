"""The live Finder never makes a publish or a search wait for its first index build."""

from __future__ import annotations

import threading
import time

import pytest

from masterhall.catalog.loader import load_catalog
from masterhall.finder import Finder
from masterhall.finder.live import LiveFinder


class SlowFactory:
    """Builds a names-and-BM25 Finder, but only once ``release`` is set (a cold index build)."""

    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self, masters):
        self.started.set()
        assert self.release.wait(30)
        return Finder(masters, channels=[], persist=False)


def _bonsai(catalog):
    m = catalog.masters["socrates"]
    return m.model_copy(update={"id": "bonsai-master", "tags": m.tags.model_copy(update={"en": ["bonsai", "pruning", "watering"]})})


@pytest.fixture()
def slow():
    catalog = load_catalog()
    factory = SlowFactory()
    live = LiveFinder(catalog, factory=factory)
    yield catalog, live, factory
    factory.release.set()


def test_publish_and_search_during_the_first_build_do_not_wait(slow):
    catalog, live, factory = slow
    live.start()
    assert factory.started.wait(10) and live.state == "building"
    t0 = time.monotonic()
    catalog.add(_bonsai(catalog))  # was: blocked on the build's lock until the index was built
    result, state = live.search("how often to water my bonsai", k=3)
    assert time.monotonic() - t0 < 5
    assert state == "building" and result.matches[0].master_id == "bonsai-master"
    named, _ = live.search("苏格拉底", k=1)
    assert named.matches[0].master_id == "socrates"
    assert live.wait(0.05) is None  # a bounded wait gives up
    factory.release.set()
    finder = live.wait(30)
    assert finder is not None and live.state == "ready" and "bonsai-master" in finder
    result, state = live.search("how often to water my bonsai", k=3)
    assert state == "ready" and result.matches[0].master_id == "bonsai-master"


def test_a_removal_during_the_build_is_applied(slow):
    catalog, live, factory = slow
    catalog.add(_bonsai(catalog))
    live.start()
    assert factory.started.wait(10)
    catalog.remove("bonsai-master")
    factory.release.set()
    assert "bonsai-master" not in live.wait(30)


def test_search_starts_the_build_once(slow):
    _, live, factory = slow
    for _ in range(3):
        live.search("sleep", k=1)
    assert factory.started.wait(10)
    factory.release.set()
    assert live.wait(30) is live.get()
