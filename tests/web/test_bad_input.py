"""Bad input gets a clear 4xx and stores nothing, on SQLite and PostgreSQL: integers beyond 64
bits, blank titles, lone surrogates, NUL characters, JSON nested without end, unreadable bodies
(the faults schema fuzzing found; see ``masterhall.inputs``)."""

from __future__ import annotations

import json

import pytest

from masterhall.inputs import MAX_DB_INT, MAX_JSON_DEPTH, MAX_ROW_ID

from .conftest import parse_sse

pytestmark = pytest.mark.anyio

TOO_BIG = 2**64


def raw_json(text: str) -> dict:
    """Keyword arguments posting ``text`` as it is (lone ``\\uD800`` escapes stay escapes)."""
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


def api_error(response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    for word in words:
        assert word in error["message"] or word in json.dumps(error), (word, error)
    return error


async def conversation(client) -> str:
    r = await client.post("/api/messages", json={"master_id": "socrates", "content": "What is virtue?"})
    return next(data for event, data in parse_sse(r.text) if event == "start")["conversation_id"]


async def test_integers_beyond_64_bits_are_422_and_the_largest_is_fine(client):
    cid = await conversation(client)
    for url in (f"/api/conversations?offset={TOO_BIG}", f"/api/conversations?offset=-{TOO_BIG}"):
        api_error(await client.get(url), 422, "less than or equal" if "-" not in url else "")
    api_error(await client.post(f"/api/conversations/{cid}/messages/{TOO_BIG}/continue"), 422, "message_id")
    # file ids are 32 hex digits, not row numbers: anything else is refused before a lookup
    for url in (f"/api/builder/files/{TOO_BIG}/download", f"/api/masters/socrates/files/{TOO_BIG}",
                f"/api/builder/files/{MAX_ROW_ID}/download", "/api/builder/files/1/download",
                f"/api/builder/files/{'A' * 32}/download"):
        api_error(await client.get(url), 422, "file_id")
    api_error(await client.patch(f"/api/builder/files/{TOO_BIG}", json={"downloadable": True}), 422, "file_id")
    api_error(await client.get(f"/api/builder/files/{'0' * 32}/download"), 404)
    # the largest row id is valid (and does not exist); the largest 64-bit value is a valid offset
    api_error(await client.post(f"/api/conversations/{cid}/messages/{MAX_ROW_ID}/continue"), 404)
    assert (await client.get(f"/api/conversations?offset={MAX_DB_INT}")).json() == []


async def test_v1_integers_out_of_range_are_400_in_openai_shape(client):
    for field, value in (("seed", 2**70), ("max_tokens", 2**40), ("max_completion_tokens", TOO_BIG)):
        r = await client.post("/v1/chat/completions", json={"model": "socrates", field: value,
                                                             "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["param"] == field and r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("title", ["   ", "\t\n", "\u200b\u3000\ufeff", ""])
async def test_a_title_blank_after_cleaning_is_422_and_the_old_title_stays(client, title):
    cid = await conversation(client)
    before = (await client.get(f"/api/conversations/{cid}")).json()["conversation"]["title"]
    api_error(await client.patch(f"/api/conversations/{cid}", json={"title": title}), 422, "title")
    assert (await client.get(f"/api/conversations/{cid}")).json()["conversation"]["title"] == before
    renamed = await client.patch(f"/api/conversations/{cid}", json={"title": "  Virtue \n and  habit "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Virtue and habit"


async def test_a_lone_surrogate_in_a_message_is_422_and_leaves_no_conversation(client):
    r = await client.post("/api/messages", **raw_json('{"master_id": "socrates", "content": "hi \\ud800 there"}'))
    api_error(r, 422, "content", "surrogate")
    assert (await client.get("/api/conversations")).json() == []
    cid = await conversation(client)
    r = await client.post(f"/api/conversations/{cid}/edit", **raw_json('{"content": "\\udfff"}'))
    api_error(r, 422, "surrogate")
    messages = (await client.get(f"/api/conversations/{cid}")).json()["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["What is virtue?"]
    body = '{"model": "socrates", "messages": [{"role": "user", "content": "a\\ud800"}]}'
    r = await client.post("/v1/chat/completions", **raw_json(body))
    assert r.status_code == 400 and "surrogate" in r.json()["error"]["message"]
    assert r.json()["error"]["param"] == "messages.0.content"


@pytest.mark.parametrize("parts", [[{"type": "text", "text": 5}], [{"type": "text", "text": None}], [{"type": "text"}]])
async def test_v1_text_parts_without_a_string_are_400(client, parts):
    r = await client.post("/v1/chat/completions", json={"model": "socrates", "messages": [{"role": "user", "content": parts}]})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == "messages.0.content" and "part 0" in r.json()["error"]["message"]


async def test_nan_and_infinite_numbers_are_refused(client):
    for number in ("NaN", "Infinity", "-Infinity"):
        body = '{"model": "socrates", "messages": [{"role": "user", "content": "hi"}], "temperature": %s}' % number
        r = await client.post("/v1/chat/completions", **raw_json(body))
        assert r.status_code == 400 and r.json()["error"]["param"] == "temperature"
        body = '{"master_id": "socrates", "content": "hi", "temperature": %s}' % number
        api_error(await client.post("/api/messages", **raw_json(body)), 422, "temperature")
    assert (await client.get("/api/conversations")).json() == []


async def test_nul_characters_are_refused_everywhere_and_nothing_is_stored(client):
    r = await client.post("/api/messages", json={"master_id": "socrates", "content": "a\x00b"})
    api_error(r, 422, "NUL")
    assert (await client.get("/api/conversations")).json() == []
    cid = await conversation(client)
    api_error(await client.patch(f"/api/conversations/{cid}", json={"title": "a\x00b"}), 422, "NUL")
    for url in ("/api/conversations?q=a%00b", "/api/conversations?master_id=%00", "/api/conversations/a%00b",
                "/api/builder/masters/a%00b", "/api/masters/a%00b", "/api/match?q=%00", "/api/masters?category=%00"):
        api_error(await client.get(url), 422, "NUL")
    api_error(await client.get("/api/masters?category=nope"), 422, "unknown category", "philosophy")
    philosophers = (await client.get("/api/masters?category=philosophy")).json()
    assert philosophers and {m["category"] for m in philosophers} == {"philosophy"}
    r = await client.post("/v1/chat/completions", json={"model": "socr\x00ates", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"
    master = (await client.get("/api/masters/socrates")).json() | {"id": "nul-test"}
    master["tagline"] = {**master["tagline"], "en": "wise\x00"}
    error = api_error(await client.post("/api/builder/masters", json={"master": master}), 422)
    assert error["fields"][0]["field"] == "tagline.en" and "NUL" in error["fields"][0]["message"]
    assert (await client.get("/api/builder/masters")).json() == []


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


async def test_extensions_nested_too_deep_are_refused_before_saving(client):
    master = (await client.get("/api/masters/socrates")).json() | {"id": "deep-test", "extensions": nested(300)}
    for url in ("/api/builder/validate", "/api/builder/masters"):
        error = api_error(await client.post(url, json={"master": master}), 422)
        assert error["fields"][0]["field"] == "extensions" and f"deeper than {MAX_JSON_DEPTH}" in error["fields"][0]["message"]
    assert (await client.get("/api/builder/masters")).json() == []
    master["extensions"] = nested(MAX_JSON_DEPTH)  # the limit itself saves and reads back
    saved = await client.post("/api/builder/masters", json={"master": master})
    assert saved.status_code == 201, saved.text
    assert (await client.get("/api/builder/masters/deep-test")).json()["master"]["extensions"] == nested(MAX_JSON_DEPTH)


async def test_unreadable_bodies_and_unknown_routes_answer_in_the_api_shapes(client):
    r = await client.post("/api/messages", content=b'{"content": "\xff"}', headers={"Content-Type": "application/json"})
    api_error(r, 400, "UTF-8")
    assert api_error(await client.get("/api/no-such-route"), 404)["code"] == "not_found"
    r = await client.post("/v1/chat/completions", content=b'{"model": "\xff"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


async def test_the_schema_declares_the_real_answers(client):
    schema = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in json.dumps(schema)  # the framework's 422 shape is never sent
    send = schema["paths"]["/api/messages"]["post"]["responses"]
    assert list(send["200"]["content"]) == ["text/event-stream"]
    assert {"400", "404", "422", "503"} <= set(send) and list(send["422"]["content"]) == ["application/json"]
    v1 = schema["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert "422" not in v1 and {"application/json", "text/event-stream"} <= set(v1["200"]["content"])
    assert v1["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/OpenAIError")
    files = schema["paths"]["/api/masters/{master_id}/export"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "image/png", "application/yaml"} <= set(files)
    offset = next(p for p in schema["paths"]["/api/conversations"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == MAX_DB_INT


async def test_a_draft_run_refuses_texts_it_could_not_send(client):
    draft = {"id": "half-done", "instructions": "Answer\x00 briefly.", "starters": {"en": ["a\ud800"]}}
    for url, body in (("/api/builder/preview", {"master": draft, "content": "hi"}), ("/api/builder/test", {"master": draft})):
        r = await client.post(url, **raw_json(json.dumps(body)))  # ASCII JSON: the surrogate as an escape
        api_error(r, 422, "master")
        assert r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("body", [{"langs": []}, {"langs": ["zh"], "starters": {"zh": [" "], "en": ["hi"]}}])
async def test_a_test_run_with_no_starter_to_answer_is_a_400_not_a_broken_stream(client, body):
    master = (await client.get("/api/masters/socrates")).json() | {"id": "no-starters"}
    if "starters" in body:
        master["starters"] = body["starters"]
    r = await client.post("/api/builder/test", json={"master": master, "langs": body["langs"]})
    assert api_error(r, 400, "starter")["code"] == "no_starters"
