"""How the hall delivers its pages and files (issue 17, item 4): gzip for text but never for an
answer's stream, long cache lifetimes for versioned static files only, the hall's own 404 and
error pages for browsers (JSON stays for /api and /v1), a meta description on every page."""

from __future__ import annotations

import gzip
import re
import time

import httpx
import pytest

from .conftest import LiveServer

pytestmark = pytest.mark.anyio

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Encoding": "gzip"}


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path):
    """These tests are about HTTP, not the database: SQLite only."""
    from sqlalchemy.engine import URL

    return URL.create("sqlite", database=str(tmp_path / "hall.db")).render_as_string()


async def test_pages_styles_scripts_and_json_are_gzipped(client):
    page = await client.get("/", headers=BROWSER)
    assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["vary"]
    raw = await client.get("/", headers={**BROWSER, "Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content) / 2  # what gzip saves on the hall page
    for url in re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js)\?v=\d+)"', raw.text)[:4]:
        r = await client.get(url, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, url
        if int(r.headers.get("content-length", "2000")) > 1024 or r.headers.get("content-encoding"):
            assert r.headers["content-encoding"] == "gzip", url
    api = await client.get("/api/masters", headers={"Accept-Encoding": "gzip"})
    assert api.headers["content-encoding"] == "gzip" and api.json()


async def test_small_answers_are_not_gzipped(client):
    r = await client.get("/api/status", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "content-encoding" not in r.headers


async def test_versioned_static_files_are_cached_for_good_and_plain_ones_revalidated(client):
    page = (await client.get("/")).text
    url = re.search(r'href="(/static/css/base\.css\?v=[^"]+)"', page).group(1)
    versioned = await client.get(url)
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = await client.get("/static/css/base.css")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    again = await client.get("/static/css/base.css", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304


async def test_every_page_has_a_meta_description(client):
    for path in ("/", "/masters/socrates", "/masters/socrates/chat", "/builder", "/builder/new", "/no-such-page"):
        html = (await client.get(path, headers={"Accept": "text/html"})).text
        match = re.search(r'<meta name="description" content="([^"]+)">', html)
        assert match and len(match.group(1)) > 20, path
    assert "Socrates" in re.search(r'<meta name="description" content="([^"]+)">', (await client.get("/masters/socrates")).text).group(1)


async def test_a_browser_gets_the_halls_404_page_and_api_clients_get_json(client):
    page = await client.get("/no/such/page", headers=BROWSER)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Nothing here</h1>" in page.text and 'href="/"' in page.text
    zh = await client.get("/no/such/page", headers={**BROWSER, "Accept-Language": "zh-CN"})
    assert zh.status_code == 404 and "这里什么也没有" in zh.text
    for path in ("/api/no-such-thing", "/api/masters/nobody"):
        r = await client.get(path, headers=BROWSER)  # even a browser asking under /api gets JSON
        assert r.status_code == 404 and r.json()["error"]["code"] in ("not_found", "unknown_master"), path
    v1 = await client.get("/v1/no-such-thing", headers=BROWSER)
    assert v1.status_code == 404 and "message" in v1.json()["error"]
    script = await client.get("/no/such/page", headers={"Accept": "application/json"})
    assert script.status_code == 404 and script.json() == {"detail": "Not Found"}


async def test_a_browser_gets_the_halls_error_page_when_a_page_fails(hall, monkeypatch):
    from masterhall.web.app import create_app

    app = create_app(hall, load_model=False)

    def broken(*args, **kwargs):
        raise RuntimeError("the catalog broke")

    monkeypatch.setattr(hall.catalog, "advisors", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://hall") as c:
            page = await c.get("/", headers=BROWSER)
            assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
            assert "Something went wrong" in page.text and "the catalog broke" not in page.text
            script = await c.get("/", headers={"Accept": "application/json"})
            assert script.status_code == 500 and script.json()["error"]["code"] == "internal"


def test_an_answer_streams_event_by_event_uncompressed(hall, fake):
    """gzip must never hold back a Server-Sent Events stream: each event arrives as it is made."""
    from masterhall.web.app import create_app

    fake.delay_s = 0.15
    fake.queue(" ".join(f"w{i}" for i in range(8)))
    with LiveServer(create_app(hall, load_model=False)) as server, httpx.Client(base_url=server.url, timeout=10) as c:
        with c.stream("POST", "/api/messages", json={"master_id": "socrates", "content": "talk"},
                      headers={"Accept-Encoding": "gzip"}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in r.headers
            arrivals = [time.monotonic() for line in r.iter_lines() if line == "event: delta"]
    assert len(arrivals) >= 6
    assert arrivals[-1] - arrivals[0] > 0.5  # spread over the answer, not delivered in one piece at the end


async def test_robots_txt_asks_every_crawler_to_stay_out(client):
    r = await client.get("/robots.txt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text.splitlines() == ["User-agent: *", "Disallow: /"]
