"""Other web pages against the hall, in a real Chromium (README, *Security*).

A page served by a second small HTTP server on another port (another origin: same-site from
``127.0.0.1``, cross-site from ``localhost``) tries what the issue showed working: import,
publish, fork, upload and read conversations, with ``fetch`` (simple, no-cors requests) and an
HTML form. A control hall without the security middleware shows the same attack succeeding.
DNS rebinding is played by mapping a foreign name to 127.0.0.1 in Chromium's resolver.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, start_server

ATTACKS = """async ({hall, master}) => {
  const out = {};
  const send = async (name, url, init) => {
    try { await fetch(hall + url, {mode: "no-cors", credentials: "include", ...init}); out[name] = "sent"; }
    catch (e) { out[name] = "error: " + e; }
  };
  const file = new Blob([JSON.stringify(master)], {type: "application/json"});
  const importForm = new FormData(); importForm.append("file", file, "m.json");
  const uploadForm = new FormData(); uploadForm.append("file", new Blob(["secret"], {type: "text/plain"}), "f.txt");
  await send("fork", "/api/builder/fork/socrates", {method: "POST"});
  await send("publish", "/api/builder/masters/victim-draft/publish", {method: "POST"});
  await send("import", "/api/builder/import?format=json&publish=true", {method: "POST", body: importForm});
  await send("upload", "/api/builder/masters/victim-draft/files", {method: "POST", body: uploadForm});
  await send("message", "/api/messages", {method: "POST", headers: {"Content-Type": "text/plain"},
             body: JSON.stringify({master_id: "socrates", content: "planted"})});
  try { const r = await fetch(hall + "/api/conversations"); out.read = "read " + (await r.text()).length; }
  catch (e) { out.read = "blocked"; }
  try { const r = await fetch(hall + "/api/conversations", {mode: "no-cors"}); out.read_opaque = r.type; }
  catch (e) { out.read_opaque = "blocked"; }
  return out;
}"""


class _EvilPage(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"<!doctype html><html><body><h1>Another site</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def evil_port():
    """A second, tiny HTTP server on another port: the attacker's page."""
    port = _free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _EvilPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()


def _victim_state(url: str) -> dict:
    draft = httpx.get(url + "/api/builder/masters/victim-draft", timeout=10).json()
    return {
        "user_masters": sorted(m["master"]["id"] for m in httpx.get(url + "/api/builder/masters", timeout=10).json()),
        "victim_status": draft["status"],
        "victim_files": len(httpx.get(url + "/api/builder/masters/victim-draft/files", timeout=10).json()),
        "conversations": len(httpx.get(url + "/api/conversations", timeout=10).json()),
    }


def _planted(url: str) -> dict:
    master = httpx.get(url + "/api/masters/socrates", timeout=10).json()
    master.update(id="planted-x", name={"zh": "植入", "en": "Planted"})
    return master


def _prepare_victim(url: str) -> None:
    master = httpx.get(url + "/api/masters/socrates", timeout=10).json()
    master.update(id="victim-draft", name={"zh": "草稿", "en": "Draft"})
    r = httpx.post(url + "/api/builder/masters", json={"master": master, "status": "draft"}, timeout=10)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def halls(tmp_path_factory):
    """``(protected_url, unprotected_url)``: the hall, and a control hall without the middleware."""
    started = [start_server(tmp_path_factory.mktemp("sec") / "hall.db"),
               start_server(tmp_path_factory.mktemp("ctl") / "hall.db", secure=False)]
    for live, _, _ in started:
        _prepare_victim(live.url)
    yield started[0][0].url, started[1][0].url
    for live, server, thread in started:
        server.should_exit = True
        thread.join(timeout=10)
        live.hall.store.close()


@pytest.mark.parametrize("evil_host", ["127.0.0.1", "localhost"])  # same-site and cross-site
def test_another_origins_page_can_neither_write_nor_read(context, halls, evil_port, evil_host):
    url, _ = halls
    before = _victim_state(url)
    page = context.new_page()
    page.goto(f"http://{evil_host}:{evil_port}/")
    results = page.evaluate(ATTACKS, {"hall": url, "master": _planted(url)})
    assert results["read"] == "blocked" and results["read_opaque"] in ("opaque", "blocked"), results
    with page.expect_response(lambda r: "/api/builder/fork/" in r.url) as answer:
        page.evaluate("""(hall) => { const f = document.createElement("form"); f.method = "post";
            f.enctype = "multipart/form-data"; f.action = hall + "/api/builder/fork/socrates";
            document.body.append(f); f.submit(); }""", url)
    assert answer.value.status == 403
    page.wait_for_url(url + "/api/builder/fork/socrates")
    assert "cross_origin" in page.content()
    assert _victim_state(url) == before == {"user_masters": ["victim-draft"], "victim_status": "draft",
                                            "victim_files": 0, "conversations": 0}
    page.close()


def test_control_without_the_middleware_the_same_page_succeeds(context, halls, evil_port):
    """The attack is real: against a hall without the middleware the same requests go through."""
    _, control = halls
    page = context.new_page()
    page.goto(f"http://localhost:{evil_port}/")
    page.evaluate(ATTACKS, {"hall": control, "master": _planted(control)})
    after = {}
    for _ in range(50):  # no-cors requests finish on the server after the page's promises settle
        after = _victim_state(control)
        if after["victim_status"] == "published" and after["victim_files"] == 1:
            break
        page.wait_for_timeout(100)
    assert after["victim_status"] == "published" and after["victim_files"] == 1, after
    assert "planted-x" in after["user_masters"] and any(m.startswith("socrates") for m in after["user_masters"]), after
    page.close()


def test_dns_rebinding_gets_nothing(browser, halls):
    """A foreign name resolving to 127.0.0.1 (the end state of DNS rebinding) is refused by Host."""
    url, _ = halls
    port = url.rsplit(":", 1)[1]
    rebinding = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
        "--host-resolver-rules=MAP rebind.test 127.0.0.1",
        # Chromium's own Private Network Access guard would stop the page first; other browsers have none
        "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
        "PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks"])
    try:
        page = rebinding.new_page()
        for path in ("/api/conversations", "/", "/api/builder/masters"):
            response = page.goto(f"http://rebind.test:{port}{path}")
            assert response.status == 400 and "host_not_allowed" in page.content(), path
        # the attacker's page, served as if from rebind.test before its name was re-pointed at 127.0.0.1
        page.route(f"http://rebind.test:{port}/attack", lambda route: route.fulfill(
            body="<!doctype html><title>rebound</title>", content_type="text/html"))
        page.goto(f"http://rebind.test:{port}/attack")
        statuses = page.evaluate("""async () => [(await fetch("/api/conversations")).status,
            (await fetch("/api/builder/fork/socrates", {method: "POST"})).status]""")
        assert statuses == [400, 400]
    finally:
        rebinding.close()
    assert _victim_state(url)["user_masters"] == ["victim-draft"]


def test_the_halls_pages_run_under_the_csp(page, live):
    """Every page loads its modules (through the hashed import map) without a CSP violation."""
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.add_init_script("""document.addEventListener("securitypolicyviolation",
        e => console.error("Content Security Policy violation: " + e.violatedDirective + " " + e.blockedURI));""")
    live.fake.queue("Hello there.")
    for path in ("/", "/masters/socrates", "/masters/socrates/chat", "/builder", "/builder/new", "/masters/nobody"):
        response = page.goto(live.url + path)
        assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto(live.url + "/masters/socrates/chat")
    page.locator("#input").fill("Hi")
    page.locator("#input").press("Enter")
    page.locator(".msg[data-role=assistant][data-status=complete]").wait_for()
    loaded = page.evaluate("""() => performance.getEntriesByType("resource").map(e => e.name).filter(n => n.endsWith(".js") ||
        n.includes(".js?"))""")
    assert loaded and all("?v=" in name for name in loaded), loaded  # the import map applied: versioned URLs only
    assert not violations, violations
