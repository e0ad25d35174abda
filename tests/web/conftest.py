"""Fixtures for the web layer: an in-process app on the fake backend (SQLite and PostgreSQL),
and a live server on 127.0.0.1 for what needs real sockets."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from masterhall import FakeBackend, load_settings
from masterhall.hall import build_hall
from masterhall.store import Store
from masterhall.web.app import create_app


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend("fake")


@pytest.fixture
def hall(db_url, fake):
    store = Store(db_url)
    h = build_hall(load_settings(backend="fake"), store=store, flush_interval_s=0.05)
    h.registry.register(fake)
    yield h
    store.close()


@pytest.fixture
async def client(hall):
    app = create_app(hall, load_model=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hall", timeout=30) as c:
            yield c


def parse_sse(text: str) -> list[tuple[str | None, object]]:
    """``[(event, data)]`` from an SSE body; data is JSON-decoded when it can be."""
    events = []
    for frame in text.split("\n\n"):
        if not frame.strip():
            continue
        event, data = None, []
        for line in frame.splitlines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        raw = "\n".join(data)
        try:
            events.append((event, json.loads(raw)))
        except json.JSONDecodeError:
            events.append((event, raw))
    return events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving ``app`` in a background thread on a free loopback port."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(hall):
    with LiveServer(create_app(hall, load_model=False)) as server:
        yield server
