"""The web hall against other web pages (README, *Security*): Host allow-list, same-origin
writes, Fetch-Metadata reads, security headers, and backends only by configured name."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from fastapi import FastAPI, Request

from masterhall import FakeBackend, load_settings
from masterhall.backends.base import UnknownBackendError
from masterhall.backends.registry import BackendRegistry
from masterhall.config import Settings
from masterhall.hall import build_hall
from masterhall.store import Store
from masterhall.web.app import create_app
from masterhall.web.security import HostPolicy, Refusal, SecurityMiddleware, check_request

from .conftest import parse_sse

pytestmark = pytest.mark.anyio
EVIL = "https://evil.example"


@pytest.fixture
async def make_client(tmp_path):
    """``make_client(**settings)``: an in-process client (Host ``hall``) on a fresh SQLite hall."""
    stores, stacks = [], []

    async def make(**settings):
        store = Store(f"sqlite:///{tmp_path / f'hall{len(stores)}.db'}")
        stores.append(store)
        hall = build_hall(load_settings(backend="fake", **settings), store=store, flush_interval_s=0.05)
        fake = FakeBackend("fake")
        hall.registry.register(fake)
        app = create_app(hall, load_model=False)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hall", timeout=30)
        stacks.append((lifespan, client))
        client.hall, client.fake = hall, fake
        return client

    yield make
    for lifespan, client in stacks:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
    for store in stores:
        store.close()


@pytest.fixture
async def client(make_client):
    return await make_client()


# -- 1. Host allow-list (DNS rebinding) ---------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8042", "127.0.0.1.nip.io:8042", "localhost.evil.example"])
async def test_a_foreign_host_is_refused_everywhere(client, host):
    for path in ("/api/conversations", "/", "/v1/models", "/static/css/base.css"):
        r = await client.get(path, headers={"Host": host})
        assert r.status_code == 400, path
        assert "allowed_hosts" in r.text and "MASTERHALL_ALLOWED_HOSTS" in r.text
    r = await client.get("/api/conversations", headers={"Host": host})
    assert r.json()["error"]["code"] == "host_not_allowed"
    assert (await client.get("/v1/models", headers={"Host": host})).json()["error"]["code"] == "host_not_allowed"


@pytest.mark.parametrize("host", ["127.0.0.1:8042", "127.0.0.1", "localhost:1", "LOCALHOST", "[::1]:8042", "[::1]",
                                  "192.168.1.20:8042"])
async def test_loopback_names_any_port_and_ip_literals_are_served(client, host):
    assert (await client.get("/api/conversations", headers={"Host": host})).status_code == 200


async def test_configured_host_and_allowed_hosts_are_served(make_client):
    c = await make_client(host="hall.lan", allowed_hosts=["proxy.example", "exact.example:8443"])
    for host in ("hall.lan:8042", "proxy.example", "proxy.example:443", "exact.example:8443"):
        assert (await c.get("/api/status", headers={"Host": host})).status_code == 200, host
    for host in ("exact.example", "exact.example:80", "other.example", "hall"):  # "hall" came from the env only
        assert (await c.get("/api/status", headers={"Host": host})).status_code == 400, host


async def test_allowed_hosts_star_turns_the_host_check_off(make_client):
    c = await make_client(allowed_hosts=["*"])
    assert (await c.get("/api/status", headers={"Host": "anything.example"})).status_code == 200


def test_allowed_hosts_from_the_environment(monkeypatch):
    monkeypatch.setenv("MASTERHALL_ALLOWED_HOSTS", "a.example, b.example:8443 ,")
    settings = load_settings()
    assert settings.allowed_hosts == ["a.example", "b.example:8443"]
    policy = HostPolicy.from_settings(settings)
    assert policy.allows("a.example:1") and policy.allows("b.example:8443") and not policy.allows("b.example")


# -- 2. same-origin writes (CSRF) ------------------------------------------------------------
async def test_cross_origin_writes_are_refused_and_change_nothing(client):
    refused = [
        await client.post("/api/builder/fork/socrates", headers={"Origin": EVIL}),
        await client.post("/api/builder/import", headers={"Origin": EVIL},
                          files={"file": ("m.csv", b"id,name\nx-y,Evil\n", "text/csv")}, params={"publish": "true"}),
        await client.post("/api/messages", headers={"Origin": EVIL}, json={"master_id": "socrates", "content": "hi"}),
        await client.delete("/api/conversations/abc", headers={"Origin": "http://127.0.0.1:9999"}),
        await client.post("/api/builder/fork/socrates", headers={"Origin": "null"}),
        await client.post("/api/builder/fork/socrates", headers={"Origin": "http://hall:9999"}),
        await client.post("/api/builder/fork/socrates", headers={"Sec-Fetch-Site": "cross-site"}),
        await client.post("/api/builder/fork/socrates", headers={"Sec-Fetch-Site": "same-site"}),  # another port
    ]
    for r in refused:
        assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin"
    assert "came from a cross-site page" in refused[-2].json()["error"]["message"]  # no Origin to name
    assert (await client.get("/api/builder/masters")).json() == []
    assert (await client.get("/api/conversations")).json() == []
    v1 = await client.post("/v1/chat/completions", headers={"Origin": EVIL},
                           json={"model": "socrates", "messages": [{"role": "user", "content": "hi"}]})
    assert v1.status_code == 403 and v1.json()["error"]["code"] == "cross_origin" and "message" in v1.json()["error"]


async def test_same_origin_and_header_less_writes_pass(client):
    same = await client.post("/api/builder/fork/socrates", headers={"Origin": "http://hall", "Sec-Fetch-Site": "same-origin"},
                             json={"new_id": "mine-a"})
    assert same.status_code == 201
    curl = await client.post("/api/builder/fork/socrates", json={"new_id": "mine-b"})  # no Origin, no Sec-Fetch-*
    assert curl.status_code == 201
    typed = await client.post("/api/builder/fork/socrates", headers={"Sec-Fetch-Site": "none"}, json={"new_id": "mine-c"})
    assert typed.status_code == 201
    proxied = await client.post("/api/builder/fork/socrates", headers={"Origin": "https://hall"}, json={"new_id": "mine-d"})
    assert proxied.status_code == 201  # a TLS-terminating proxy in front: https page, http request
    stored = {m["master"]["id"] for m in (await client.get("/api/builder/masters")).json()}
    assert stored == {"mine-a", "mine-b", "mine-c", "mine-d"}


async def test_a_bearer_header_passes_the_origin_check(client):
    r = await client.post("/api/builder/fork/socrates", headers={"Origin": EVIL, "Authorization": "Bearer future-key"},
                          json={"new_id": "by-key"})
    assert r.status_code == 201
    rebinding = await client.post("/api/builder/fork/socrates", json={"new_id": "x-y"},
                                  headers={"Host": "evil.example", "Origin": "http://evil.example", "Authorization": "Bearer k"})
    assert rebinding.status_code == 400  # the Host check comes first


# -- 3. Fetch-Metadata reads ---------------------------------------------------------------------
async def test_cross_site_reads_are_refused_but_navigations_and_static_pass(client):
    cors = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
    for path in ("/api/conversations", "/v1/models", "/api/masters/socrates/export", "/"):
        r = await client.get(path, headers=cors)
        assert r.status_code == 403, path
    assert (await client.get("/api/conversations", headers={**cors, "Sec-Fetch-Site": "same-site"})).status_code == 403
    no_cors = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}
    assert (await client.get("/api/conversations", headers=no_cors)).status_code == 403
    embed = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "embed"}
    assert (await client.get("/api/conversations", headers=embed)).status_code == 403
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert (await client.get("/", headers=link)).status_code == 200
    assert (await client.get("/masters/socrates", headers=link)).status_code == 200
    assert (await client.get("/static/css/base.css", headers=no_cors)).status_code == 200
    own = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
    assert (await client.get("/api/conversations", headers=own)).status_code == 200


def test_websocket_handshakes_follow_the_write_rules():
    policy = HostPolicy(frozenset({"localhost"}))
    ok = check_request("GET", "/ws", {"host": "localhost:8042", "origin": "http://localhost:8042"}, "ws", policy)
    bad = check_request("GET", "/ws", {"host": "localhost:8042", "origin": EVIL}, "ws", policy)
    assert ok is None and bad is not None and bad.status == 403


# -- 4. headers ---------------------------------------------------------------------------
async def test_security_headers_on_every_response(client):
    responses = {
        "page": await client.get("/"),
        "json": await client.get("/api/masters"),
        "missing": await client.get("/api/conversations/nope"),
        "static": await client.get("/static/css/base.css"),
        "refused": await client.get("/", headers={"Host": "evil.example"}),
    }
    for kind, r in responses.items():
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", kind
        assert h["referrer-policy"] == "same-origin", kind
        assert h["x-frame-options"] == "DENY", kind
        assert "frame-ancestors 'none'" in h["content-security-policy"], kind
    page_csp = responses["page"].headers["content-security-policy"]
    assert "unsafe-inline" not in page_csp and "unsafe-eval" not in page_csp
    assert "script-src 'self' 'sha256-" in page_csp and "style-src 'self';" in page_csp
    assert responses["json"].headers["content-security-policy"].startswith("default-src 'none'")


async def test_the_page_csp_allows_exactly_the_pages_inline_import_map(client):
    for path in ("/", "/masters/socrates", "/builder", "/builder/new", "/masters/socrates/chat"):
        r = await client.get(path)
        html = r.text
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", html, re.S)
        runnable = [(attrs, body) for attrs, body in inline if 'type="application/json"' not in attrs]
        assert [attrs.strip() for attrs, _ in runnable] == ['type="importmap"'], path  # no other inline script
        digest = base64.b64encode(hashlib.sha256(runnable[0][1].encode()).digest()).decode()
        assert f"'sha256-{digest}'" in r.headers["content-security-policy"], path
        assert not re.search(r"\son[a-z]+=", html) and " style=" not in html, path  # no inline handlers or styles


# -- further checks (where authentication plugs in) --------------------------------------------
async def test_a_further_check_refuses_or_passes_what_it_found_to_the_routes():
    seen = []

    def bearer_only(scope, headers):
        seen.append(scope["path"])
        if headers.get("authorization") != "Bearer good":
            return Refusal(401, "unauthorized", "Sign in first.")
        scope.setdefault("state", {})["caller"] = "alice"
        return None

    app = FastAPI()

    @app.get("/api/who")
    async def who(request: Request):
        return {"caller": request.state.caller}

    app.add_middleware(SecurityMiddleware, settings=Settings.model_construct, checks=[bearer_only])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
        refused = await client.get("/api/who")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        assert refused.headers["x-frame-options"] == "DENY"  # answered like the built-in refusals
        ok = await client.get("/api/who", headers={"Authorization": "Bearer good"})
        assert ok.status_code == 200 and ok.json() == {"caller": "alice"}
        foreign = await client.get("/api/who", headers={"Host": "evil.example", "Authorization": "Bearer good"})
        assert foreign.status_code == 400  # the built-in steps come first: the check never saw it
    assert seen == ["/api/who", "/api/who"]


# -- 5. backends only by configured name ------------------------------------------------------------
@pytest.fixture
def gguf(tmp_path):
    path = tmp_path / "planted.gguf"
    path.write_bytes(b"GGUF not really")
    return str(path)


async def test_a_gguf_path_in_api_messages_is_refused(client, gguf):
    for body in ({"master_id": "socrates", "content": "hi", "backend": gguf},
                 {"master_id": "socrates", "content": "hi", "backend": "/nowhere/x.gguf"}):
        r = await client.post("/api/messages", json=body)
        assert r.status_code == 400 and "Known: " in r.json()["error"]["message"] and "fake" in r.json()["error"]["message"]
    assert (await client.get("/api/conversations")).json() == []
    assert gguf not in client.hall.registry._instances


async def test_a_gguf_path_on_continue_is_refused(client, gguf):
    r = await client.post("/api/conversations/any/messages/1/continue", json={"backend": gguf})
    assert r.status_code == 400 and "Known: " in r.json()["error"]["message"]
    assert gguf not in client.hall.registry._instances


async def test_a_gguf_path_as_v1_model_is_refused(client, gguf):
    r = await client.post("/v1/chat/completions", json={"model": gguf, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    ids = [m["id"] for m in (await client.get("/v1/models")).json()["data"]]
    assert gguf not in ids and "fake" in ids and "socrates" in ids


async def test_a_user_master_with_a_path_model_is_refused_at_save(client, gguf):
    master = (await client.get("/api/masters/socrates")).json()
    master.update(id="pathy", model=gguf)
    for route in ("/api/builder/masters", "/api/builder/validate", "/api/builder/test"):
        r = await client.post(route, json={"master": master})
        assert r.status_code == 422, route
        assert r.json()["error"]["fields"][0]["field"] == "model" and "fake" in r.json()["error"]["fields"][0]["message"]
    r = await client.post("/api/builder/preview", json={"master": master, "content": "hi"})
    assert r.status_code == 422
    master["model"] = "fake"  # a configured name is fine
    assert (await client.post("/api/builder/masters", json={"master": master})).status_code == 201


async def test_a_user_master_with_a_path_model_is_refused_at_use(client, gguf):
    """A master stored another way (e.g. imported) with a file path as ``model`` never loads it."""
    master = (await client.get("/api/masters/socrates")).json()
    master.update(id="planted", model=gguf)
    from masterhall.builder.library import validate_master

    client.hall.library.save(validate_master(master), "published")
    r = await client.post("/v1/chat/completions", json={"model": "planted", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    events = parse_sse((await client.post("/api/messages", json={"master_id": "planted", "content": "hi"})).text)
    assert events[-1][0] == "error" and "Unknown backend" in events[-1][1]["message"]
    assert gguf not in client.hall.registry._instances


def test_registry_strict_mode(gguf):
    registry = BackendRegistry(load_settings(backend="fake"))
    assert registry.knows(gguf) and registry.label(gguf).endswith(":planted")  # the command line may name a file
    strict = BackendRegistry(load_settings(backend="fake"), allow_paths=False)
    assert not strict.knows(gguf) and strict.knows("fake") and strict.knows(None)
    with pytest.raises(UnknownBackendError) as caught:
        strict.get(gguf)
    assert "fake" in caught.value.known and "operator" in str(caught.value)
    with pytest.raises(UnknownBackendError):
        strict.label(gguf)
    assert strict.knows(gguf, allow_paths=True) and not registry.knows(gguf, allow_paths=False)
    served = BackendRegistry(load_settings(backend=gguf), allow_paths=False)  # `serve --backend file.gguf`
    assert served.knows(gguf) and served.knows(None) and served.label().endswith(":planted")
