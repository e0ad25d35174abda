"""The Master Finder in the hall: /api/match, live updates on publish/unpublish, the guide."""

from __future__ import annotations

import anyio
import httpx
import pytest

from masterhall import FakeBackend, load_settings
from masterhall.hall import build_hall
from masterhall.store import Store
from masterhall.web.app import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def finder_client(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hall.db'}")
    hall = build_hall(load_settings(backend="fake"), store=store)
    fake = FakeBackend("fake")
    hall.registry.register(fake)
    app = create_app(hall, load_model=False)
    async with app.router.lifespan_context(app):
        await anyio.to_thread.run_sync(hall.finder.get)  # the full index (searches never wait for it)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hall", timeout=120) as c:
            c.fake = fake
            yield c
    store.close()


async def test_match_in_both_languages_with_reasons(finder_client):
    zh = (await finder_client.get("/api/match", params={"q": "我总是半夜醒来然后想很多", "k": 3})).json()
    assert "sleep-coach" in [m["id"] for m in zh["matches"]]
    assert all(m["lang"] == "zh" and m["reason"] and m["name"] for m in zh["matches"])
    en = (await finder_client.get("/api/match", params={"q": "should we split our monolith into services?", "k": 3})).json()
    assert en["matches"][0]["id"] == "software-architect" and en["matches"][0]["lang"] == "en"
    named = (await finder_client.get("/api/match", params={"q": "苏东坡", "k": 1})).json()
    assert named["matches"][0]["id"] == "su-dongpo"


async def test_bad_queries_get_clear_errors_not_500(finder_client):
    for params, text in [({"q": ""}, "empty"), ({"q": "\x00\x01 hi"}, "NUL"), ({"q": "\x01\x02 hi"}, "binary"),
                         ({"q": "ok", "k": 0}, "k")]:
        r = await finder_client.get("/api/match", params=params)
        assert r.status_code in (400, 422) and text in r.json()["error"]["message"], r.text
    r = await finder_client.post("/api/match", json={"q": "长" * 10_001})
    assert r.status_code == 400 and "too long" in r.json()["error"]["message"]


async def test_published_master_is_findable_at_once_and_gone_when_removed(finder_client):
    await finder_client.get("/api/match", params={"q": "warm up the index"})
    m = (await finder_client.get("/api/masters/socrates")).json()
    m.update(id="bonsai-master", category="life", avatar="🌳")
    m["name"] = {"zh": "盆景大师", "en": "Bonsai Master"}
    m["tagline"] = {"zh": "修剪、浇水、造型：把一棵小树养成一幅画", "en": "Pruning, watering and shaping bonsai trees"}
    m["tags"] = {"zh": ["盆景", "修剪", "浇水", "园艺"], "en": ["bonsai", "pruning", "watering", "gardening", "miniature trees"]}
    await finder_client.post("/api/builder/masters", json={"master": m, "status": "published"})
    found = (await finder_client.get("/api/match", params={"q": "how often should I water my bonsai tree", "k": 3})).json()
    assert found["matches"][0]["id"] == "bonsai-master"
    await finder_client.delete("/api/builder/masters/bonsai-master")
    gone = (await finder_client.get("/api/match", params={"q": "how often should I water my bonsai tree", "k": 5})).json()
    assert "bonsai-master" not in [x["id"] for x in gone["matches"]]


async def test_master_finder_guide_recommends_from_finder_results(finder_client):
    await finder_client.post("/v1/chat/completions", json={"model": "master-finder",
                             "messages": [{"role": "user", "content": "I can't fall asleep and wake up at 3am"}]})
    system = finder_client.fake.calls[-1][0][0].content
    from masterhall.finder.guide import HEADER

    section = system.split(HEADER, 1)[1].split("\n\n", 1)[0]  # the Finder's list, up to the next section
    listed = [line for line in section.splitlines() if line.startswith("- ") and "(" in line]
    assert listed and "(sleep-coach)" in listed[0] + listed[1]
    assert len(listed) <= 5  # the Finder's top matches, not the whole catalog
