"""Fixtures for the web pages: the real app on a free port, and a Chromium page driving it.

The app runs with uvicorn in a background thread, on a temporary SQLite database, with a
:class:`FakeBackend` registered as the default backend so each test queues the replies it needs.
Browser tests use Playwright's sync API with the system's Chromium (``/usr/bin/chromium``);
they are skipped when it is missing, unless ``$CI`` is set (then they fail).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from masterhall import FakeBackend, load_settings
from masterhall.hall import Hall, build_hall
from masterhall.store import Store
from masterhall.web.app import create_app
from masterhall.web.security import SecurityMiddleware

CHROMIUM = os.environ.get("MASTERHALL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def require_playwright():
    """``playwright.sync_api``; without it the browser tests skip, or fail when ``$CI`` is set."""
    try:
        import playwright.sync_api as sync_api
    except ImportError as exc:
        if os.environ.get("CI"):
            raise RuntimeError("playwright is not installed (CI is set, so the browser tests must run)") from exc
        pytest.skip("playwright is not installed", allow_module_level=True)
    return sync_api


@dataclass
class LiveHall:
    """A running hall: its base ``url``, the services, and the fake backend behind every master."""

    url: str
    hall: Hall
    fake: FakeBackend

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A direct HTTP request to the running app (to check what the pages did)."""
        return httpx.request(method, self.url + path, timeout=10, **kwargs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db_path: Path, *, secure: bool = True):
    """Start the app on a free port in a daemon thread; return ``(live_hall, server, thread)``.
    ``secure=False`` leaves out the security middleware (a control for the security tests)."""
    import uvicorn

    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("MASTERHALL_") and key != "MASTERHALL_CACHE_DIR":
                mp.delenv(key)
        mp.setenv("MASTERHALL_CONFIG", str(db_path.parent / "absent.toml"))
        settings = load_settings(backend="fake")
    store = Store(URL.create("sqlite", database=str(db_path)).render_as_string())
    hall = build_hall(settings, store=store, flush_interval_s=0.1)
    fake = FakeBackend("fake")
    hall.registry.register(fake)
    app = create_app(hall, load_model=False)
    if not secure:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not SecurityMiddleware]
    hall.finder.get()  # the full Finder index, as a server has it soon after start (searches never wait for it)
    # and its query encoder loaded, as after a server's first search: a round table's first round asks
    # the Finder who speaks first, and a cold load (a second or more on a busy machine) must not eat
    # into the few seconds a page test waits for the first reply to stream
    hall.finder.search("warm up", k=1, build=False)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return LiveHall(f"http://127.0.0.1:{port}", hall, fake), server, thread


@pytest.fixture(scope="session")
def _server(tmp_path_factory):
    live, server, thread = start_server(tmp_path_factory.mktemp("hall") / "masterhall.db")
    yield live
    server.should_exit = True
    thread.join(timeout=10)
    live.hall.store.close()


@pytest.fixture
def live(_server: LiveHall) -> LiveHall:
    """The running hall with a fresh fake backend (nothing queued, no delay) for this test."""
    fake = FakeBackend("fake")
    _server.hall.registry.register(fake)
    _server.fake = fake
    return _server


@pytest.fixture(scope="module")
def browser():
    """Chromium, per test module: Playwright's sync API runs an event loop in this thread, so it
    must be gone before other test packages (which run their own event loops) start."""
    if not Path(CHROMIUM).exists() or not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (CI is set, so the browser tests must run)")
        pytest.skip(f"{CHROMIUM} is missing")
    with require_playwright().sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile (no cookies), English, clipboard allowed."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, live):
    """A page whose JavaScript errors, Content-Security-Policy violations and dialogs are recorded
    (``page.js_errors``, ``page.csp_violations``, ``page.dialogs``); errors and violations fail the test."""
    pg = context.new_page()
    pg.js_errors = []
    pg.dialogs = []
    pg.csp_violations = []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    pg.on("console", lambda msg: pg.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None)

    def on_dialog(dialog):
        pg.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    yield pg
    assert not pg.js_errors, f"JavaScript errors on the page: {pg.js_errors}"
    assert not pg.csp_violations, f"Content-Security-Policy violations on the page: {pg.csp_violations}"


# ---- helpers shared by the browser tests ---------------------------------------------------

USER = ".msg[data-role=user]"
ASSISTANT = ".msg[data-role=assistant]"


def send(page, text: str) -> None:
    """Type ``text`` into the chat input and press Enter."""
    page.locator("#input").fill(text)
    page.locator("#input").press("Enter")


def wait_final(page, count: int = 1, status: str = "complete"):
    """Wait until the ``count``-th assistant message has ``status``; return its locator."""
    last = page.locator(ASSISTANT).nth(count - 1)
    last.and_(page.locator(f"[data-status={status}]")).wait_for()
    return last


def conversation_id(page) -> str:
    """The id of the conversation shown (from the URL ``/chat/{id}``)."""
    page.wait_for_url("**/chat/*")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


# ---- accessibility: axe-core in the page --------------------------------------------------

#: axe-core's impacts that fail a page (minor and moderate ones are reported, not failed).
AXE_FAILING = ("serious", "critical")


def axe_violations(page, *, include: str | None = None) -> list[dict]:
    """Run axe-core (the copy bundled with the ``axe-playwright-python`` package) on ``page`` as it
    is now; return its violations as ``[{"id", "impact", "help", "targets"}]`` (every impact).

    ``include`` limits the check to a CSS selector. The script is evaluated through the DevTools
    protocol, so the page's Content-Security-Policy does not block it."""
    try:
        from axe_playwright_python.base import AXE_SCRIPT
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        if os.environ.get("CI"):
            raise
        pytest.skip(f"axe-playwright-python is not installed: {exc}")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    context = "document" if include is None else f"{{include: [{include!r}]}}"
    result = page.evaluate(f"async () => await axe.run({context}, {{resultTypes: ['violations']}})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [" ".join(map(str, n["target"])) for n in v["nodes"]]} for v in result["violations"]]


@pytest.fixture
def axe_check():
    """``axe_check(page, label)``: fail unless axe-core finds no serious or critical violation on
    the page as it is now (``label`` names the page state in the message); returns all violations.
    Reusable by any browser test: the hall's pages, and pages added later, call it per state."""

    def check(page, label: str = "", *, include: str | None = None) -> list[dict]:
        found = axe_violations(page, include=include)
        failing = [v for v in found if v["impact"] in AXE_FAILING]
        assert not failing, f"axe: serious/critical violations on {label or page.url}:\n" + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} at {v['targets'][:6]}" for v in failing)
        return found

    return check
