"""The builder's import over HTTP: warnings in the response, clear refusals of oversized input
(limits named, nothing stored), and the request body cap."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.anyio


async def _newer_version_file(client) -> bytes:
    doc = (await client.get("/api/masters/socrates")).json()
    doc.update(id="future-socrates", x_future={"a": 1}, params={"top_k": 20, "repetition_penalty": 1.2})
    return json.dumps(doc, ensure_ascii=False).encode()


async def test_import_response_carries_warnings(client):
    data = await _newer_version_file(client)
    r = await client.post("/api/builder/import", files={"file": ("future.json", data, "application/json")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stored"] == 1 and body["masters"] == ["future-socrates"]
    assert any("x_future" in w and "unknown_fields" in w for w in body["warnings"])
    assert any("repetition_penalty" in w for w in body["warnings"])
    stored = (await client.get("/api/builder/masters/future-socrates")).json()["master"]
    assert stored["params"]["top_k"] == 20 and stored["params"]["repeat_penalty"] == 1.2
    assert stored["extensions"]["unknown_fields"] == {"x_future": {"a": 1}}


async def test_import_limits_answer_413_and_store_nothing(client):
    rows = "act,prompt\n" + "".join(f"Helper {i},Act as helper {i}; answer in short, kind steps.\n" for i in range(5001))
    r = await client.post("/api/builder/import", files={"file": ("many.csv", rows.encode(), "text/csv")})
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == "too_large" and "5,000 rows" in error["message"] and error["limit"] == 5000
    wide = ",".join(f"c{i}" for i in range(100_000)) + "\n"
    r = await client.post("/api/builder/import", files={"file": ("wide.csv", wide.encode(), "text/csv")})
    assert r.status_code == 413 and "200 columns" in r.json()["error"]["message"]
    assert (await client.get("/api/builder/masters")).json() == []


async def test_gbk_semicolon_csv_imports_over_http(client):
    text = "act;prompt\n翻译官;我希望你担任翻译，把我说的每一句话翻成地道的英文，并解释难懂的词。\n"
    r = await client.post("/api/builder/import", params={"dry_run": "true"},
                          files={"file": ("zh.csv", text.encode("gbk"), "text/csv")})
    assert r.status_code == 200, r.text
    assert len(r.json()["masters"]) == 1 and any("gb18030" in w for w in r.json()["warnings"])


async def test_builder_fields_have_the_import_limits(client):
    from masterhall.catalog.models import MAX_INSTRUCTIONS_CHARS, MAX_NAME_CHARS

    m = (await client.get("/api/masters/socrates")).json()
    m.update(id="too-long", instructions="x" * (MAX_INSTRUCTIONS_CHARS + 1))
    r = await client.post("/api/builder/masters", json={"master": m})
    assert r.status_code == 422 and [f["field"] for f in r.json()["error"]["fields"]] == ["instructions"]
    assert r.json()["error"]["fields"][0]["ctx"] == {"max_length": MAX_INSTRUCTIONS_CHARS}
    m.update(instructions="You are a patient guide. " * 4, name={"zh": "名", "en": "N" * (MAX_NAME_CHARS + 1)})
    r = await client.post("/api/builder/masters", json={"master": m})
    assert r.status_code == 422 and "200 characters" in r.json()["error"]["fields"][0]["message"]
    data = json.dumps(m).encode()  # the same master as a file: the same limit, as a rejected record
    r = await client.post("/api/builder/import", files={"file": ("long.json", data, "application/json")})
    assert r.status_code == 422 and "name" in r.json()["error"]["rejected"][0]
    assert (await client.get("/api/builder/masters")).json() == []


async def test_request_bodies_are_capped(client):
    big = b'{"master": {"id": "' + b"x" * (5 * 1024 * 1024) + b'"}}'
    r = await client.post("/api/builder/masters", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large" and "4 MiB" in r.json()["error"]["message"]

    async def chunks():  # streamed, no Content-Length
        yield b'{"master": {"id": "'
        for _ in range(80):
            yield b"y" * 65536
        yield b'"}}'

    r = await client.post("/api/builder/masters", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["limit"] == 4 * 1024 * 1024
    r = await client.post("/v1/chat/completions", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert (await client.get("/api/builder/masters")).json() == []
    assert (await client.get("/api/masters/socrates")).status_code == 200  # small requests still pass


async def test_a_false_content_length_does_not_get_past_the_cap(hall):
    from masterhall.web.app import create_app

    hall.settings.max_upload_bytes = 200_000
    app = create_app(hall, load_model=False)
    boundary = "b0undary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n'
            "Content-Type: text/csv\r\n\r\nact,prompt\n").encode()
    parts = [head] + [b"Helper,Act as a helper and answer briefly.\n" * 1000] * 10 + [f"\r\n--{boundary}--\r\n".encode()]
    messages = [{"type": "http.request", "body": p, "more_body": True} for p in parts]
    messages[-1]["more_body"] = False
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/builder/import", "raw_path": b"/api/builder/import", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"hall"), (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                         (b"content-length", b"1000")], "client": ("127.0.0.1", 1), "server": ("hall", 80)}
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 413 and json.loads(body)["error"]["limit"] == 200_000
    assert hall.library.list() == []
