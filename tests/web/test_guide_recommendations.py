"""The hall recommends real masters only: /api/match's fit and no-fit verdict, the builder
prefilled with the need, and the master-finder's answers stored with their master cards."""

from __future__ import annotations

import json
import re

import anyio
import httpx
import pytest

from masterhall import FakeBackend, load_catalog, load_settings
from masterhall.finder.guide import NO_FIT
from masterhall.hall import build_hall
from masterhall.store import Store
from masterhall.web.app import create_app
from masterhall.web.guide import guide_cards
from masterhall.web.render import MarkdownRenderer

from .conftest import parse_sse

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hall.db'}")
    hall = build_hall(load_settings(backend="fake"), store=store, flush_interval_s=0.05)
    fake = FakeBackend("fake")
    hall.registry.register(fake)
    app = create_app(hall, load_model=False)
    async with app.router.lifespan_context(app):
        await anyio.to_thread.run_sync(hall.finder.get)  # the full index (searches never wait for it)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hall", timeout=120) as c:
            c.fake = fake
            yield c
    store.close()


async def test_match_says_no_master_fits_gibberish(client):
    body = (await client.get("/api/match", params={"q": "xyzzy qwerty", "k": 3})).json()
    assert body["no_fit"] is True
    assert body["create_url"] == "/builder/new?need=xyzzy+qwerty"
    assert body["matches"] and all(m["strength"] is None and 0 <= m["fit"] < 0.5 for m in body["matches"])


async def test_match_gives_fit_and_strength_for_a_clear_need(client):
    body = (await client.post("/api/match", json={"q": "我总是半夜醒来然后想很多", "k": 3})).json()
    assert body["no_fit"] is False and "create_url" not in body
    top = body["matches"][0]
    assert top["id"] == "sleep-coach" and top["strength"] == "strong" and isinstance(top["fit"], float)
    assert top["reason"].startswith("契合你的需要")


async def test_builder_is_prefilled_with_the_need(client):
    page = (await client.get("/builder/new", params={"need": "修理自行车链条"})).text
    data = json.loads(re.search(r'<script type="application/json" id="mh-page">(.*?)</script>', page, re.S).group(1))
    assert data["mode"] == "new"
    assert data["master"]["description"] == {"zh": "修理自行车链条", "en": ""}
    assert "修理自行车链条" in data["master"]["instructions"]
    plain = (await client.get("/builder/new")).text
    assert '"master": null' in plain


async def _send(client, content: str) -> tuple[dict, dict]:
    r = await client.post("/api/messages", json={"master_id": "master-finder", "content": content})
    events = parse_sse(r.text)
    start = next(d for e, d in events if e == "start")
    done = next(d for e, d in events if e == "done")
    return start, done


async def test_guide_answer_keeps_its_master_cards(client):
    client.fake.queue("Try **Sleep & Stress Coach** (sleep-coach), or the Course Master (course-master).")
    start, done = await _send(client, "I can't fall asleep and wake up at 3am every night")
    system = client.fake.calls[-1][0][0].content
    assert "(sleep-coach)" in system and NO_FIT not in system  # the model was told the Finder's matches
    cards = done["cards"]
    assert cards["no_fit"] is False and cards["matches"][0]["id"] == "sleep-coach"
    card = cards["matches"][0]
    assert card["name"] == "Sleep & Stress Coach" and card["avatar"] and card["reason"].startswith("Matches your need")
    assert card["url"].startswith("/masters/sleep-coach/chat?q=")
    assert [m["id"] for m in cards["matches"]] == [m["id"] for m in done["recommendations"]["matches"]]
    # the real id is linked, the invented one is plain text
    assert 'href="/masters/sleep-coach"' in done["html"] and "/masters/course-master" not in done["html"]
    assert "course-master" in done["html"]

    stored = (await client.get(f"/api/conversations/{start['conversation_id']}")).json()["messages"][-1]
    assert stored["recommendations"] == done["recommendations"] and stored["cards"] == cards
    assert 'href="/masters/sleep-coach"' in stored["html"] and "/masters/course-master" not in stored["html"]
    page = (await client.get(f"/chat/{start['conversation_id']}")).text  # after a reload
    data = json.loads(re.search(r'<script type="application/json" id="mh-page">(.*?)</script>', page, re.S).group(1))
    assert data["messages"][-1]["cards"] == cards


async def test_guide_says_no_master_fits_and_offers_to_create_one(client):
    client.fake.queue("No master here fits that. You can create one.")
    _, done = await _send(client, "xyzzy qwerty")
    assert NO_FIT in client.fake.calls[-1][0][0].content
    assert done["cards"] == {"no_fit": True, "matches": [], "create_url": "/builder/new?need=xyzzy+qwerty"}


async def test_other_masters_get_no_cards(client):
    r = await client.post("/api/messages", json={"master_id": "socrates", "content": "What is virtue?"})
    done = next(d for e, d in parse_sse(r.text) if e == "done")
    assert done["cards"] is None and done["recommendations"] is None


def test_cards_leave_out_ids_that_are_not_real_masters():
    record = {"query": "need", "lang": "zh", "no_fit": False, "matches": [
        {"id": "course-master", "reason": "invented", "strength": "strong"},
        {"id": "master-finder", "reason": "the guide itself", "strength": "strong"},
        {"id": "socrates", "reason": "可能相关：美德", "strength": "weak"},
    ]}
    cards = guide_cards(record, load_catalog())
    assert [m["id"] for m in cards["matches"]] == ["socrates"] and cards["matches"][0]["name"] == "苏格拉底"
    only_fake = guide_cards({"query": "need", "lang": "en", "matches": [{"id": "course-master"}]}, load_catalog())
    assert only_fake["no_fit"] is True and only_fake["create_url"] == "/builder/new?need=need"
    assert guide_cards(None, load_catalog()) is None


def test_renderer_links_real_ids_only():
    render = MarkdownRenderer(lambda: {"sleep-coach", "socrates"})
    text = "See (socrates), sleep-coach and course-master; [Fake](/masters/fake-master/chat) [Real](/masters/socrates)"
    html = render(text, link_masters=True)
    assert html.count('href="/masters/socrates"') == 2 and 'href="/masters/sleep-coach"' in html
    assert "course-master" in html and "/masters/course-master" not in html and "fake-master" not in html
    plain = render(text)
    assert 'href="/masters/sleep-coach"' not in plain and "fake-master" not in plain and 'href="/masters/socrates"' in plain
