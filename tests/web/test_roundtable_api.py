"""Round tables over /api (SSE with speaker events, storage, stop, one reply again, members,
export, the guard per speaker) and /v1 (model ``roundtable:ID,ID``), on the fake backend."""

from __future__ import annotations

import json

import anyio
import pytest

from .conftest import parse_sse

pytestmark = pytest.mark.anyio

TABLE = ["socrates", "marcus-aurelius", "aaron-beck"]


async def send(client, **body):
    r = await client.post("/api/messages", json=body)
    assert r.status_code == 200, r.text
    return parse_sse(r.text)


def speakers(events):
    return [d for e, d in events if e == "speaker"]


async def test_a_round_streams_speakers_in_order_and_stores_each_reply(client, fake):
    fake.queue("Ask first.", "Accept it.", "Test the thought.")
    events = await send(client, master_ids=TABLE, content="Should I quit my job?")
    assert events[0][0] == "start" and events[0][1]["members"] == TABLE and events[-1][0] == "round"
    seated = speakers(events)
    assert sorted(s["master_id"] for s in seated) == sorted(TABLE)
    assert all(s["name"] and s["avatar"] and s["message_id"] for s in seated)
    # speaker, then its deltas, then its done: in order, never interleaved
    current, texts = None, {}
    for event, data in events:
        if event == "speaker":
            current = data["master_id"]
            texts[current] = ""
        elif event == "delta":
            texts[current] += data["text"]
        elif event == "done":
            assert data["master_id"] == current and data["text"] == texts[current] and data["html"]
    assert list(texts.values()) == ["Ask first.", "Accept it.", "Test the thought."]
    cid = events[0][1]["conversation_id"]
    got = (await client.get(f"/api/conversations/{cid}")).json()
    assert got["conversation"]["members"] == TABLE
    replies = [m for m in got["messages"] if m["role"] == "assistant"]
    assert [(m["master_id"], m["content"]) for m in replies] == list(texts.items())
    assert [m["id"] for m in replies] == [s["message_id"] for s in seated]


async def test_export_names_every_speaker(client, fake):
    fake.queue("Ask first.", "Accept it.", "Test the thought.")
    events = await send(client, master_ids=TABLE, content="Should I quit my job?")
    cid = events[0][1]["conversation_id"]
    md = (await client.get(f"/api/conversations/{cid}/export", params={"format": "md"})).text
    for spoke in speakers(events):
        name = (await client.get(f"/api/masters/{spoke['master_id']}")).json()["name"]["en"]
        assert f"## {spoke['avatar']} {name}" in md
    heads = [line for line in md.splitlines() if line.startswith("## ")]
    assert len(heads) == 4 and heads[0] == "## You" and len(set(heads[1:])) == 3
    data = json.loads((await client.get(f"/api/conversations/{cid}/export", params={"format": "json"})).text)
    assert [m["speaker"]["id"] for m in data["messages"] if m["role"] == "assistant"] == \
        [s["master_id"] for s in speakers(events)]
    assert [m["id"] for m in data["members"]] == TABLE


async def test_mention_joins_and_stop_ends_the_round(client, fake):
    events = await send(client, master_ids=TABLE, content="hello")
    cid = events[0][1]["conversation_id"]
    fake.delay_s = 0.02
    fake.queue(" ".join(f"w{i}" for i in range(300)), "never", "never", "never")
    results = {}

    async def post():
        results["events"] = await send(client, conversation_id=cid, content="@Viktor Frankl how should I plan my week?")

    async with anyio.create_task_group() as tg:
        tg.start_soon(post)
        for _ in range(300):
            await anyio.sleep(0.02)
            msgs = (await client.get(f"/api/conversations/{cid}")).json()["messages"]
            if msgs[-1].get("master_id") == "viktor-frankl" and msgs[-1]["content"]:
                break
        stop = (await client.post(f"/api/conversations/{cid}/stop")).json()
        assert stop["stopped"] is True
    events = results["events"]
    assert [s["master_id"] for s in speakers(events)] == ["viktor-frankl"]
    assert events[0][1]["joined"] == ["viktor-frankl"] and events[-1] == ("round", {"status": "stopped",
                                                                                    "speakers": ["viktor-frankl"]})
    got = (await client.get(f"/api/conversations/{cid}")).json()
    assert got["conversation"]["members"] == TABLE + ["viktor-frankl"]
    last = got["messages"][-1]
    assert last["master_id"] == "viktor-frankl" and last["status"] == "stopped" and last["content"] == stop["text"]


async def test_regenerate_one_reply_and_change_members(client, fake):
    fake.queue("A1", "B1", "C1", "B2")
    events = await send(client, master_ids=TABLE, content="hello")
    cid = events[0][1]["conversation_id"]
    second = speakers(events)[1]
    r = await client.post(f"/api/conversations/{cid}/messages/{second['message_id']}/regenerate")
    again = parse_sse(r.text)
    assert [s["master_id"] for s in speakers(again)] == [second["master_id"]]
    assert [m["content"] for m in (await client.get(f"/api/conversations/{cid}")).json()["messages"]] == \
        ["hello", "A1", "B2", "C1"]
    missing = await client.post(f"/api/conversations/{cid}/messages/999999/regenerate")
    assert missing.status_code == 404
    r = await client.put(f"/api/conversations/{cid}/members", json={"master_ids": ["socrates", "laozi"]})
    assert r.status_code == 200 and r.json()["members"] == ["socrates", "laozi"]
    bad = await client.put(f"/api/conversations/{cid}/members", json={"master_ids": ["socrates", "nobody"]})
    assert bad.status_code == 400
    events = await send(client, conversation_id=cid, content="and now?")
    assert sorted(s["master_id"] for s in speakers(events)) == ["laozi", "socrates"]


async def test_the_guard_answers_a_crisis_once(client, fake):
    events = await send(client, master_ids=TABLE, content="我真的撑不下去了，想自杀")
    assert len(speakers(events)) == 1 and fake.calls == []
    done = [d for e, d in events if e == "done"]
    assert "12356" in done[0]["text"] and done[0]["finish_reason"] == "guard"
    assert events[-1][1]["status"] == "guard"


async def test_bad_tables_are_refused_and_nothing_stored(client):
    for body in ({"master_ids": ["socrates"], "content": "hi"}, {"master_ids": ["socrates", "master-finder"], "content": "hi"},
                 {"master_ids": ["socrates", "nobody"], "content": "hi"}):
        r = await client.post("/api/messages", json=body)
        assert r.status_code == 400, body
    assert (await client.get("/api/conversations")).json() == []


async def test_a_table_starts_with_two_to_four_masters_over_the_api_and_the_page(client):
    five = ["socrates", "laozi", "confucius", "aaron-beck", "viktor-frankl"]
    r = await client.post("/api/messages", json={"master_ids": five, "content": "hi"})
    assert r.status_code == 400 and "2 to 4 different masters (5 given)" in r.json()["error"]["message"]
    for masters, count in (("socrates", 1), (",".join(five), 5), ("socrates,socrates", 1)):
        page = await client.get("/roundtable", params={"masters": masters})
        assert page.status_code == 400 and f"2 to 4 masters of this hall ({count} given)" in page.text
        assert 'href="/#table-picker"' in page.text
    unknown = await client.get("/roundtable", params={"masters": "socrates,nobody-here"})
    assert unknown.status_code == 404
    ok = await client.get("/roundtable", params={"masters": ",".join(five[:4])})
    assert ok.status_code == 200
    assert (await client.get("/api/conversations")).json() == []


async def test_v1_roundtable_model_streams_one_labelled_message_per_speaker(client, fake):
    fake.queue("Ask first.", "Accept it.")
    r = await client.post("/v1/chat/completions", json={
        "model": "roundtable:socrates,laozi", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200
    chunks = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:") and "[DONE]" not in line]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    socrates, laozi = "Socrates", "Laozi"
    assert content.index(f"**{socrates}**") < content.index("Ask first.") < content.index(f"**{laozi}**") \
        < content.index("Accept it.")
    plain = await client.post("/v1/chat/completions", json={
        "model": "roundtable:socrates,laozi", "messages": [{"role": "user", "content": "hi"}]})
    body = plain.json()
    assert plain.status_code == 200 and "**Socrates**" in body["choices"][0]["message"]["content"]
    assert [s["master"] for s in body["masterhall"]["speakers"]] == ["socrates", "laozi"]
    for model in ("roundtable:socrates", "roundtable:socrates,no-such-master", "roundtable:" + ",".join(["socrates"] * 2)):
        bad = await client.post("/v1/chat/completions", json={"model": model, "messages": [
            {"role": "user", "content": "hi"}]})
        error = bad.json()["error"]
        assert bad.status_code == 400 and error["param"] == "model" and error["code"] == "invalid_model", (model, error)
    assert (await client.get("/api/conversations")).json() == []


async def test_master_id_and_master_ids_together_are_refused_and_nothing_is_stored(client, fake):
    r = await client.post("/api/messages", json={"master_id": "socrates", "master_ids": ["seneca", "laozi"],
                                                 "content": "who answers?"})
    assert r.status_code == 422 and "not both" in r.text  # as every other invalid body
    assert (await client.get("/api/conversations")).json() == []
