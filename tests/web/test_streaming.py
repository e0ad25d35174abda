"""Streams before the first token: Stop ends them at once, and keep-alive comments hold the
connection open while the prompt is read (issue 13, items 1 and 5)."""

from __future__ import annotations

import asyncio
import time

import pytest

from masterhall.web import sse as sse_module

from .conftest import parse_sse

pytestmark = pytest.mark.anyio


async def _wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_stop_before_the_first_token_ends_the_stream_and_the_next_message_is_accepted(client, hall, fake):
    fake.first_token_delay_s = 30.0  # a long prompt being read
    send = asyncio.create_task(client.post("/api/messages", json={"master_id": "socrates", "content": "a long question"}))
    await _wait_for(lambda: len(fake.calls) == 1)
    conv_id = hall.chat.list()[0].id
    started = time.monotonic()
    stopped = (await client.post(f"/api/conversations/{conv_id}/stop")).json()
    assert stopped == {"stopped": True, "message_id": stopped["message_id"], "text": ""}
    r = await asyncio.wait_for(send, 5)
    assert time.monotonic() - started < 2.0
    events = parse_sse(r.text)
    assert events[-1][0] == "done" and events[-1][1]["status"] == "stopped"
    assert fake.cancelled == 1
    assert hall.store.conversations.messages(conv_id)[-1].status == "stopped"
    assert hall.store.conversations.messages(conv_id)[-1].id == stopped["message_id"]
    assert (await client.post(f"/api/conversations/{conv_id}/stop")).json() == {"stopped": False}

    fake.first_token_delay_s = 0.0
    started = time.monotonic()
    r = await client.post("/api/messages", json={"conversation_id": conv_id, "content": "next"})
    assert r.status_code == 200 and time.monotonic() - started < 2.0
    assert parse_sse(r.text)[-1][1]["status"] == "complete"


async def test_builder_preview_stop_before_the_first_token(client, fake, hall):
    fake.first_token_delay_s = 30.0
    master = hall.catalog.get("socrates")
    events = []
    gen = hall.trial.preview(master, [], "hello", events.append)
    await _wait_for(lambda: len(fake.calls) == 1)
    gen.stop()
    assert await asyncio.to_thread(gen.done.wait, 2.0)
    assert gen.final.data["usage"]["finish_reason"] == "cancelled"


@pytest.fixture
def quick_keepalive(monkeypatch):
    monkeypatch.setattr(sse_module, "KEEPALIVE_S", 0.05)


async def test_web_chat_sends_keep_alive_comments_while_the_prompt_is_read(client, fake, quick_keepalive):
    fake.first_token_delay_s = 0.5
    r = await client.post("/api/messages", json={"master_id": "socrates", "content": "hello"})
    before_first_delta = r.text.split("event: delta", 1)[0]
    assert before_first_delta.count(": keep-alive\n\n") >= 3
    assert parse_sse(r.text.replace(": keep-alive\n\n", ""))[-1][1]["status"] == "complete"


async def test_v1_stream_sends_keep_alive_comments_while_the_prompt_is_read(client, fake, quick_keepalive):
    fake.first_token_delay_s = 0.5
    r = await client.post("/v1/chat/completions", json={"model": "socrates", "stream": True,
                                                         "messages": [{"role": "user", "content": "hello"}]})
    assert r.status_code == 200
    head = r.text.split("[fake]", 1)[0]
    assert head.count(": keep-alive\n\n") >= 3
    assert r.text.rstrip().endswith("data: [DONE]")


async def test_v1_stream_stops_the_backend_when_the_client_goes_away_before_the_first_token(hall, fake):
    from masterhall.web.app import create_app

    fake.first_token_delay_s = 30.0
    app = create_app(hall, load_model=False)
    sent: list[dict] = []
    request_body = b'{"model": "socrates", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": request_body, "more_body": False}
        await _wait_for(lambda: len(fake.calls) == 1)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions", "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"host", b"hall")], "server": ("hall", 80),
             "client": ("127.0.0.1", 1)}
    async with app.router.lifespan_context(app):
        started = time.monotonic()
        await asyncio.wait_for(app(scope, receive, send), 5)
        await _wait_for(lambda: fake.cancelled == 1, 2)
        assert time.monotonic() - started < 3.0
