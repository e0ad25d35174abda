"""The native /api, in-process over ASGI with the fake backend, on SQLite and PostgreSQL."""

from __future__ import annotations

import anyio
import pytest

from masterhall import BackendError
from masterhall.store import Store

from .conftest import parse_sse

pytestmark = pytest.mark.anyio


async def send(client, **body):
    r = await client.post("/api/messages", json=body)
    return r, parse_sse(r.text) if r.headers.get("content-type", "").startswith("text/event-stream") else None


async def wait_for_partial_answer(client) -> list[dict]:
    """Poll until the newest conversation's answer has some stored text; returns the list."""
    for _ in range(200):
        await anyio.sleep(0.02)
        convs = (await client.get("/api/conversations")).json()
        last = (await client.get(f"/api/conversations/{convs[0]['id']}")).json()["messages"][-1] if convs else {}
        if last.get("role") == "assistant" and last["content"]:
            return convs
    raise AssertionError("no partial answer was stored")


async def test_masters(client):
    masters = (await client.get("/api/masters")).json()
    assert len(masters) == 42 and {"id", "name", "tagline", "avatar", "category"} <= set(masters[0])
    psych = (await client.get("/api/masters", params={"category": "psychology"})).json()
    assert len(psych) == 6
    socrates = (await client.get("/api/masters/socrates")).json()
    assert socrates["name"]["zh"] == "苏格拉底" and len(socrates["starters"]["en"]) >= 3
    missing = await client.get("/api/masters/socretes")
    assert missing.status_code == 404 and "socrates" in missing.json()["error"]["message"]


async def test_send_streams_typed_events_and_stores_everything(client, fake):
    fake.queue("Tell me, **friend**, what is virtue?")
    r, events = await send(client, master_id="socrates", content="What is virtue?")
    assert r.status_code == 200
    kinds = [e for e, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("delta") >= 5
    start, done = events[0][1], events[-1][1]
    assert "".join(d["text"] for e, d in events if e == "delta") == done["text"]
    assert done["status"] == "complete" and done["usage"]["completion_tokens"] >= 5
    assert "<strong>friend</strong>" in done["html"]
    conv = (await client.get(f"/api/conversations/{start['conversation_id']}")).json()
    assert conv["conversation"]["title"] == "What is virtue?" and conv["conversation"]["master_id"] == "socrates"
    user, answer = conv["messages"]
    assert (user["role"], user["content"], user["status"]) == ("user", "What is virtue?", "complete")
    assert (answer["role"], answer["status"]) == ("assistant", "complete")
    assert answer["completion_tokens"] >= 5 and answer["ttft_s"] is not None
    # the next turn sends the history
    await send(client, conversation_id=start["conversation_id"], content="And justice?")
    sent = fake.calls[-1][0]
    assert [m.content for m in sent[-3:]] == ["What is virtue?", "Tell me, **friend**, what is virtue?", "And justice?"]


async def test_user_message_is_committed_before_generation(client, fake, db_url):
    seen = {}
    original = fake.stream_chat

    def spy(messages, params):
        other = Store(db_url)  # another connection, as another process would see it
        conv = other.conversations.list()[0]
        seen["stored"] = [(m.role, m.content, m.status) for m in other.conversations.messages(conv.id)]
        other.close()
        return original(messages, params)

    fake.stream_chat = spy
    await send(client, master_id="socrates", content="hello there")
    assert seen["stored"][0] == ("user", "hello there", "complete")
    assert seen["stored"][1][0] == "assistant" and seen["stored"][1][2] == "streaming"


async def test_backend_down_keeps_the_message_and_says_why(client, fake):
    fake.queue(BackendError("cannot reach http://127.0.0.1:9/v1: connection refused", "unavailable"))
    r, events = await send(client, master_id="socrates", content="Are you there?")
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "unavailable" and "cannot reach" in events[-1][1]["message"]
    conv_id = events[0][1]["conversation_id"]
    msgs = (await client.get(f"/api/conversations/{conv_id}")).json()["messages"]
    assert msgs[0]["content"] == "Are you there?"
    assert msgs[1]["status"] == "error" and "cannot reach" in msgs[1]["error"]


async def test_failure_mid_stream_keeps_partial_answer(client, fake):
    fake.queue("one two three four five", fail_after=2)
    _, events = await send(client, master_id="socrates", content="count")
    assert events[-1][0] == "error" and events[-1][1]["text"] == "one two"
    msgs = (await client.get(f"/api/conversations/{events[0][1]['conversation_id']}")).json()["messages"]
    assert msgs[1]["content"] == "one two" and msgs[1]["status"] == "error" and msgs[1]["error"] == "fake backend failure"


async def test_context_too_long_is_a_readable_error(client, fake):
    fake.context_window = 1024
    _, events = await send(client, master_id="socrates", content="word " * 3000)
    assert events[-1][0] == "error" and events[-1][1]["code"] == "context_length"
    assert "context window" in events[-1][1]["message"]


async def test_stop_keeps_partial_answer(client, fake):
    fake.delay_s = 0.02
    full = " ".join(f"w{i}" for i in range(400))
    fake.queue(full)
    results = {}

    async def post():
        results["events"] = (await send(client, master_id="li-bai", content="a long poem"))[1]

    async with anyio.create_task_group() as tg:
        tg.start_soon(post)
        convs = await wait_for_partial_answer(client)
        stop = (await client.post(f"/api/conversations/{convs[0]['id']}/stop")).json()
        assert stop == {"stopped": True, "message_id": stop["message_id"], "text": stop["text"]}
    done = results["events"][-1]
    assert done[0] == "done" and done[1]["status"] == "stopped"
    msgs = (await client.get(f"/api/conversations/{convs[0]['id']}")).json()["messages"]
    assert msgs[1]["status"] == "stopped" and msgs[1]["error"] == "stopped by the user"
    # the kept text is what had streamed: a non-empty beginning of the answer, not the whole of it
    # (the stop may land mid-word, so the check is "a prefix", not a word count)
    kept = msgs[1]["content"]
    assert kept.startswith("w0") and full.startswith(kept) and len(kept) < len(full)
    # the stop's answer is the stored text, and the stream's last word
    assert msgs[1]["id"] == stop["message_id"] and msgs[1]["content"] == stop["text"] == done[1]["text"]


async def test_crisis_message_answered_with_help(client, fake):
    _, events = await send(client, master_id="copywriter", content="我真的撑不下去了，想自杀")
    assert "12356" in events[-1][1]["text"] and fake.calls == []


async def test_invalid_input_is_rejected_and_nothing_stored(client):
    for body, status, text in [
        ({"master_id": "socrates", "content": "   "}, 400, "empty"),
        ({"master_id": "socratez", "content": "hi"}, 400, "Did you mean: socrates"),
        ({"master_id": "socrates", "content": "x" * 40_000}, 400, "too long"),
        ({"master_id": "socrates", "content": "a\x00b"}, 422, "NUL"),
        ({"conversation_id": "0" * 32, "content": "hi"}, 404, "not found"),
        ({"master_id": "socrates"}, 422, "content"),
    ]:
        r = await client.post("/api/messages", json=body)
        assert r.status_code == status and text in r.json()["error"]["message"], (body, r.text)
    assert (await client.get("/api/conversations")).json() == []


async def test_regenerate_and_edit_last(client, fake):
    fake.queue("first answer", "second answer", "third answer")
    _, events = await send(client, master_id="socrates", content="question one")
    cid = events[0][1]["conversation_id"]
    events = parse_sse((await client.post(f"/api/conversations/{cid}/regenerate")).text)
    assert events[-1][1]["text"] == "second answer"
    msgs = (await client.get(f"/api/conversations/{cid}")).json()["messages"]
    assert [m["content"] for m in msgs] == ["question one", "second answer"]
    events = parse_sse((await client.post(f"/api/conversations/{cid}/edit", json={"content": "question two"})).text)
    msgs = (await client.get(f"/api/conversations/{cid}")).json()["messages"]
    assert [m["content"] for m in msgs] == ["question two", "third answer"]
    empty = await client.post(f"/api/conversations/{cid}/edit", json={"content": ""})
    assert empty.status_code == 400


async def test_list_search_rename_delete_export(client, fake):
    for text in ("How to sleep better", "Python decorators", "sleep and stress"):
        await send(client, master_id="sleep-coach", content=text)
    titles = [c["title"] for c in (await client.get("/api/conversations")).json()]
    assert titles == ["sleep and stress", "Python decorators", "How to sleep better"]  # newest first
    found = (await client.get("/api/conversations", params={"q": "SLEEP"})).json()
    assert {c["title"] for c in found} == {"sleep and stress", "How to sleep better"}
    cid = found[0]["id"]
    renamed = await client.patch(f"/api/conversations/{cid}", json={"title": "Evenings"})
    assert renamed.json()["title"] == "Evenings"
    md = await client.get(f"/api/conversations/{cid}/export", params={"format": "md"})
    assert md.headers["content-type"].startswith("text/markdown") and "attachment" in md.headers["content-disposition"]
    assert md.text.startswith("# Evenings") and "[fake] You said: sleep and stress" in md.text
    js = (await client.get(f"/api/conversations/{cid}/export", params={"format": "json"})).json()
    assert js["conversation"]["title"] == "Evenings" and [m["role"] for m in js["messages"]] == ["user", "assistant"]
    assert (await client.delete(f"/api/conversations/{cid}")).status_code == 204
    assert (await client.get(f"/api/conversations/{cid}")).status_code == 404
    assert (await client.delete(f"/api/conversations/{cid}")).status_code == 404
    assert (await client.patch(f"/api/conversations/{cid}", json={"title": "x"})).status_code == 404


async def test_status_and_openapi_schema(client):
    status = (await client.get("/api/status")).json()
    assert status["model"]["state"] == "ready"
    # what a benchmark waits for before it measures (bench/common.py): the Finder's index build
    assert status["finder"]["state"] in ("idle", "building", "ready") and status["finder"]["error"] is None
    schema = (await client.get("/openapi.json")).json()
    for path in ("/api/masters", "/api/conversations", "/api/messages", "/api/conversations/{conversation_id}/export",
                 "/v1/models", "/v1/chat/completions"):
        assert path in schema["paths"], path


async def test_non_json_body_and_unknown_backend_are_clear_errors(client):
    r = await client.post("/api/messages", content=b'{"master_id": "socrates", "content": "hi"}',
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422 and "application/json" in r.json()["error"]["message"]
    r = await client.post("/api/messages", json={"master_id": "socrates", "content": "hi", "backend": "nope"})
    assert r.status_code == 400 and "Unknown backend 'nope'" in r.json()["error"]["message"]
    assert (await client.get("/api/conversations")).json() == []


async def test_regenerate_right_after_stop_waits_for_the_stop(client, fake):
    fake.delay_s = 0.05
    fake.queue(" ".join(f"w{i}" for i in range(200)), "fresh answer")
    results = {}

    async def post():
        results["first"] = (await send(client, master_id="socrates", content="talk"))[1]

    async with anyio.create_task_group() as tg:
        tg.start_soon(post)
        convs = await wait_for_partial_answer(client)
        await client.post(f"/api/conversations/{convs[0]['id']}/stop")
        again = parse_sse((await client.post(f"/api/conversations/{convs[0]['id']}/regenerate")).text)
    assert again[-1][0] == "done" and again[-1][1]["text"] == "fresh answer"
