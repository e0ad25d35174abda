"""The builder API: user masters, per-field validation, one-click test, preview with debug info, files."""

from __future__ import annotations

import pytest

from .conftest import parse_sse

pytestmark = pytest.mark.anyio


async def draft(client, master_id="my-stoic"):
    socrates = (await client.get("/api/masters/socrates")).json()
    socrates.update(id=master_id, category="philosophy")
    socrates["name"] = {"zh": "我的斯多葛", "en": "My Stoic"}
    return socrates


async def test_create_publish_appears_everywhere_then_unpublish(client, fake):
    m = await draft(client)
    r = await client.post("/api/builder/masters", json={"master": m})
    assert r.status_code == 201 and r.json()["status"] == "draft"
    assert "my-stoic" not in [x["id"] for x in (await client.get("/v1/models")).json()["data"]]
    assert (await client.get("/api/masters/my-stoic")).status_code == 404
    assert (await client.post("/api/builder/masters/my-stoic/publish")).json()["status"] == "published"
    assert "my-stoic" in [x["id"] for x in (await client.get("/api/masters")).json()]
    assert "my-stoic" in [x["id"] for x in (await client.get("/v1/models")).json()["data"]]
    fake.queue("Hello from my stoic.")
    r = await client.post("/v1/chat/completions", json={"model": "my-stoic", "messages": [{"role": "user", "content": "hi"}]})
    assert r.json()["choices"][0]["message"]["content"] == "Hello from my stoic."
    events = parse_sse((await client.post("/api/messages", json={"master_id": "my-stoic", "content": "hey"})).text)
    assert events[-1][0] == "done"
    await client.post("/api/builder/masters/my-stoic/unpublish")
    assert "my-stoic" not in [x["id"] for x in (await client.get("/api/masters")).json()]
    assert (await client.delete("/api/builder/masters/my-stoic")).status_code == 204
    assert (await client.get("/api/builder/masters/my-stoic")).status_code == 404


async def test_validation_messages_name_the_fields(client):
    m = await draft(client)
    m["starters"]["en"] = ["just one"]
    m["id"] = "Bad Id!"
    del m["instructions"]
    r = await client.post("/api/builder/validate", json={"master": m})
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["error"]["fields"]}
    assert {"starters.en", "id", "instructions"} <= fields
    ok = await client.post("/api/builder/validate", json={"master": await draft(client)})
    assert ok.json() == {"ok": True}


async def test_builtins_are_read_only_but_can_be_forked(client):
    socrates = (await client.get("/api/masters/socrates")).json()
    r = await client.post("/api/builder/masters", json={"master": socrates})
    assert r.status_code == 409 and r.json()["error"]["fields"][0]["field"] == "id"
    assert (await client.delete("/api/builder/masters/socrates")).status_code == 409
    fork = await client.post("/api/builder/fork/socrates")
    assert fork.status_code == 201 and fork.json()["master"]["id"] == "socrates-copy"
    assert fork.json()["forked_from"] == "socrates" and fork.json()["status"] == "draft"
    assert (await client.post("/api/builder/fork/nobody")).status_code == 404


async def test_one_click_test_runs_every_starter(client, fake):
    m = await draft(client)
    r = await client.post("/api/builder/test", json={"master": m, "langs": ["zh", "en"]})
    events = parse_sse(r.text)
    starters = events[0][1]["starters"]
    assert len(starters) == len(m["starters"]["zh"]) + len(m["starters"]["en"])
    done = {d["index"]: d["text"] for e, d in events if e == "done"}
    assert sorted(done) == list(range(len(starters)))
    for s in starters:
        assert done[s["index"]] == f"[fake] You said: {s['text']}"


async def test_preview_shows_exactly_what_the_model_receives(client, fake):
    m = await draft(client)
    m["instructions"] = "You are a terse stoic. Always reply in the person's language."
    fake.queue("Begin with what is yours.")
    body = {"master": m, "history": [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "reply"}],
            "content": "What now?", "temperature": 0.3}
    events = parse_sse((await client.post("/api/builder/preview", json=body)).text)
    kinds = [e for e, _ in events]
    assert kinds[0] == "debug" and kinds[-1] == "done"
    debug = events[0][1]
    sent = fake.calls[-1][0]
    assert [x["content"] for x in debug["messages"]] == [x.content for x in sent]
    assert debug["messages"][0]["content"].startswith("You are a terse stoic.")
    assert debug["messages"][-3]["content"] == "earlier" and debug["messages"][-1]["content"] == "What now?"
    assert all(x["tokens"] > 0 for x in debug["messages"]) and debug["prompt_tokens"] == sum(x["tokens"] for x in debug["messages"])
    assert debug["context_window"] == 4096 and debug["backend"] == "fake" and debug["params"]["temperature"] == 0.3
    assert events[-1][1]["usage"]["completion_tokens"] == 5 and events[-1][1]["usage"]["ttft_s"] is not None
    assert (await client.get("/api/conversations")).json() == []  # previews are not stored


async def test_files_private_unless_creator_allows(client):
    await client.post("/api/builder/masters", json={"master": await draft(client), "status": "published"})
    up = await client.post("/api/builder/masters/my-stoic/files", files={"file": ("notes.txt", b"secret notes", "text/plain")})
    assert up.status_code == 201 and up.json()["downloadable"] is False and up.json()["size"] == 12
    fid = up.json()["id"]
    assert (await client.get(f"/api/masters/my-stoic/files/{fid}")).status_code == 404
    assert (await client.get(f"/api/builder/files/{fid}/download")).content == b"secret notes"
    await client.patch(f"/api/builder/files/{fid}", json={"downloadable": True})
    got = await client.get(f"/api/masters/my-stoic/files/{fid}")
    assert got.status_code == 200 and got.content == b"secret notes"
    assert (await client.get(f"/api/masters/socrates/files/{fid}")).status_code == 404


async def test_import_and_export_over_http(client):
    csv = "act,prompt\nTravel Guide,I want you to act as a travel guide for the city I name.\nPoet,I want you to act as a poet writing short verses.\n"
    r = await client.post("/api/builder/import", params={"publish": "true", "category": "life"},
                          files={"file": ("prompts.csv", csv.encode(), "text/csv")})
    assert r.status_code == 200, r.text
    ids = r.json()["masters"]
    assert r.json()["stored"] == 2 and len(ids) == 2
    listed = [m["id"] for m in (await client.get("/api/masters")).json()]
    assert all(i in listed for i in ids)
    card = await client.get(f"/api/masters/{ids[0]}/export", params={"format": "card-json"})
    assert card.status_code == 200 and card.json()["spec"] == "chara_card_v2"
    png = await client.get("/api/masters/socrates/export", params={"format": "card-png"})
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    bad = await client.post("/api/builder/import", files={"file": ("x.json", b"{not json", "application/json")})
    assert bad.status_code == 400 and bad.json()["error"]["message"]
    broken = "act,prompt\nGood,I want you to act as a helpful guide for hikers.\nEmpty,\n"
    r = await client.post("/api/builder/import", files={"file": ("t.csv", broken.encode(), "text/csv")})
    assert r.status_code == 422 and r.json()["error"]["rejected"]
    assert (await client.get("/api/masters/nobody/export")).status_code == 404


async def test_uploaded_file_names_are_made_safe(client):
    await client.post("/api/builder/masters", json={"master": await draft(client)})
    up = await client.post("/api/builder/masters/my-stoic/files", files={"file": ("../../evil.html", b"<b>x</b>", "text/html")})
    assert up.json()["filename"] == "evil.html"
    got = await client.get(f"/api/builder/files/{up.json()['id']}/download")
    assert got.headers["x-content-type-options"] == "nosniff" and "attachment" in got.headers["content-disposition"]
