"""Answers that do not end on their own say so: the continue route (SSE, same message), its
refusals, and the finish reasons of /v1 (``length`` passes, the hall's ``loop`` goes out as
``stop`` with the real reason in ``native_finish_reason``)."""

from __future__ import annotations

import pytest

from .conftest import parse_sse

pytestmark = pytest.mark.anyio

LOOP = "尊重和牺牲、" * 200


async def cut_conversation(client, fake) -> tuple[str, int]:
    fake.queue("one two three four five six")
    r = await client.post("/api/messages", json={"master_id": "socrates", "content": "Tell me", "max_tokens": 3})
    events = parse_sse(r.text)
    assert events[-1][0] == "done" and events[-1][1]["finish_reason"] == "length"
    return events[0][1]["conversation_id"], events[0][1]["message_id"]


async def test_continue_streams_the_rest_into_the_same_message(client, fake):
    conv, mid = await cut_conversation(client, fake)
    stored = (await client.get(f"/api/conversations/{conv}")).json()["messages"][-1]
    assert (stored["finish_reason"], stored["content"]) == ("length", "one two three")

    fake.queue(" four **five**.")
    r = await client.post(f"/api/conversations/{conv}/messages/{mid}/continue")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    assert events[0] == ("start", {**events[0][1], "message_id": mid, "continued": True})
    assert "".join(d["text"] for e, d in events if e == "delta") == " four **five**."
    kind, done = events[-1]
    assert kind == "done" and done["message_id"] == mid and done["finish_reason"] == "stop"
    assert done["text"] == "one two three four **five**." and "<strong>five</strong>" in done["html"]

    messages = (await client.get(f"/api/conversations/{conv}")).json()["messages"]
    assert len(messages) == 2
    assert (messages[-1]["id"], messages[-1]["content"], messages[-1]["finish_reason"]) == \
        (mid, "one two three four **five**.", "stop")


async def test_continue_takes_optional_settings(client, fake):
    conv, mid = await cut_conversation(client, fake)
    fake.queue(" four five six seven")
    r = await client.post(f"/api/conversations/{conv}/messages/{mid}/continue", json={"max_tokens": 2})
    done = parse_sse(r.text)[-1][1]
    assert done["text"] == "one two three four five" and done["finish_reason"] == "length"
    assert fake.calls[-1][1].max_tokens == 2


async def test_continue_is_refused_with_a_clear_message(client, fake):
    fake.queue("A whole answer.")
    r = await client.post("/api/messages", json={"master_id": "socrates", "content": "Hi"})
    start = parse_sse(r.text)[0][1]
    conv, mid = start["conversation_id"], start["message_id"]
    r = await client.post(f"/api/conversations/{conv}/messages/{mid}/continue")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "cannot_continue" and "length limit" in r.json()["error"]["message"]
    r = await client.post(f"/api/conversations/{conv}/messages/{start['user_message_id']}/continue")
    assert r.status_code == 409
    assert (await client.post(f"/api/conversations/{conv}/messages/999999/continue")).status_code == 404
    assert (await client.post(f"/api/conversations/{'0' * 32}/messages/{mid}/continue")).status_code == 404

    conv, cut = await cut_conversation(client, fake)
    fake.queue("Later.")
    await client.post("/api/messages", json={"conversation_id": conv, "content": "Next"})
    r = await client.post(f"/api/conversations/{conv}/messages/{cut}/continue")
    assert r.status_code == 409 and "last answer" in r.json()["error"]["message"]


async def test_v1_length_passes_through(client, fake):
    fake.queue("a b c d e")
    r = await client.post("/v1/chat/completions", json={
        "model": "socrates", "max_tokens": 2, "messages": [{"role": "user", "content": "go"}]})
    choice = r.json()["choices"][0]
    assert choice["message"]["content"] == "a b" and choice["finish_reason"] == "length"
    assert choice["native_finish_reason"] == "length" and r.headers["x-masterhall-finish-reason"] == "length"

    fake.queue("a b c d e")
    r = await client.post("/v1/chat/completions", json={
        "model": "socrates", "max_tokens": 2, "stream": True, "messages": [{"role": "user", "content": "go"}]})
    last = [d for _, d in parse_sse(r.text)][-2]
    assert last["choices"][0]["finish_reason"] == "length" and last["choices"][0]["native_finish_reason"] == "length"


async def test_v1_loop_is_stop_with_the_real_reason_alongside(client, fake):
    fake.queue(LOOP)
    r = await client.post("/v1/chat/completions", json={
        "model": "confucius", "messages": [{"role": "user", "content": "婚姻里最重要的是什么？"}]})
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["native_finish_reason"] == "loop"
    assert r.headers["x-masterhall-finish-reason"] == "loop" and len(choice["message"]["content"]) < 200

    fake.queue(LOOP)
    r = await client.post("/v1/chat/completions", json={
        "model": "confucius", "stream": True, "messages": [{"role": "user", "content": "婚姻里最重要的是什么？"}]})
    last = [d for _, d in parse_sse(r.text)][-2]
    assert last["choices"][0]["finish_reason"] == "stop" and last["choices"][0]["native_finish_reason"] == "loop"


async def test_v1_an_ordinary_answer_is_stop_both_ways(client, fake):
    fake.queue("Fine.")
    r = await client.post("/v1/chat/completions", json={"model": "socrates", "messages": [{"role": "user", "content": "go"}]})
    choice = r.json()["choices"][0]
    assert (choice["finish_reason"], choice["native_finish_reason"]) == ("stop", "stop")
