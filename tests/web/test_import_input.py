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
