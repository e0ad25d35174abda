"""The OpenAI-compatible /v1 API: in-process shape tests, and the official SDK against a live server."""

from __future__ import annotations

import openai
import pytest

from masterhall import BackendError

from .conftest import parse_sse


@pytest.mark.anyio
async def test_models_lists_every_master_and_the_backends(client):
    data = (await client.get("/v1/models")).json()
    ids = [m["id"] for m in data["data"]]
    assert data["object"] == "list" and "socrates" in ids and "master-finder" in ids and "fake" in ids
    assert len([m for m in data["data"] if m["owned_by"] == "masterhall"]) == 43


@pytest.mark.anyio
async def test_master_instructions_then_client_system(client, fake):
    fake.queue("Answer.")
    body = {"model": "socrates", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, friend."},
        {"role": "user", "content": "What is virtue?"}], "temperature": 0.2, "max_tokens": 50}
    r = (await client.post("/v1/chat/completions", json=body)).json()
    assert r["object"] == "chat.completion" and r["choices"][0]["message"]["content"] == "Answer."
    assert r["usage"]["total_tokens"] == r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"] > 0
    sent, params = fake.calls[-1]
    assert [m.role for m in sent].count("system") == 1  # one system message: the master's, then the client's
    assert sent[0].role == "system" and "Socrates" in sent[0].content and sent[0].content.endswith("\n\nBe brief.")
    assert [m.content for m in sent[-3:]] == ["Hi", "Hello, friend.", "What is virtue?"]
    assert params.temperature == 0.2 and params.max_tokens == 50


@pytest.mark.anyio
async def test_streaming_chunks_usage_and_done(client, fake):
    fake.queue("a b c")
    r = await client.post("/v1/chat/completions", json={
        "model": "socrates", "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "go"}]})
    frames = [d for _, d in parse_sse(r.text)]
    assert frames[-1] == "[DONE]"
    assert frames[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(f["choices"][0]["delta"].get("content", "") for f in frames[:-1] if f["choices"])
    assert text == "a b c"
    assert frames[-3]["choices"][0]["finish_reason"] == "stop"
    assert frames[-2]["choices"] == [] and frames[-2]["usage"]["completion_tokens"] == 3


@pytest.mark.anyio
async def test_raw_backend_model_gets_no_master_prompt(client, fake):
    fake.queue("as it is")
    r = await client.post("/v1/chat/completions", json={"model": "fake", "messages": [{"role": "user", "content": "plain"}]})
    assert [m.role for m in fake.calls[-1][0]] == ["user"]
    assert r.status_code == 200, r.text  # the turn is counted in the metrics under the backend's name
    assert r.json()["choices"][0]["message"]["content"] == "as it is"
    metrics = (await client.get("/metrics")).text
    assert 'backend="fake"' in metrics


@pytest.mark.anyio
async def test_errors_in_openai_shape(client, fake):
    cases = [
        ({"model": "nope", "messages": [{"role": "user", "content": "x"}]}, 404, "model_not_found"),
        ({"model": "socrates", "messages": []}, 400, None),
        ({"model": "socrates", "messages": [{"role": "assistant", "content": "x"}]}, 400, None),
        ({"model": "socrates", "messages": [{"role": "user", "content": "x"}], "temperature": 7}, 400, None),
    ]
    for body, status, code in cases:
        r = await client.post("/v1/chat/completions", json=body)
        err = r.json()["error"]
        assert r.status_code == status and err["message"] and "type" in err, (body, r.text)
        if code:
            assert err["code"] == code
    fake.queue(BackendError("cannot reach the server", "unavailable"))
    r = await client.post("/v1/chat/completions", json={"model": "socrates", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 503 and r.json()["error"]["type"] == "server_error"


def test_official_sdk_against_live_server(live, fake):
    client = openai.OpenAI(base_url=live.url + "/v1", api_key="unused")
    assert "aaron-beck" in [m.id for m in client.models.list().data]
    fake.queue("Let us examine that thought.")
    done = client.chat.completions.create(model="aaron-beck", messages=[{"role": "user", "content": "I feel worthless"}])
    assert done.choices[0].message.content == "Let us examine that thought."
    assert done.usage.completion_tokens == 5 and done.usage.prompt_tokens > 100
    fake.queue("One step at a time.")
    stream = client.chat.completions.create(model="focus-coach", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "I procrastinate"}])
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "One step at a time."
    assert chunks[-1].usage.completion_tokens == 5
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="nobody", messages=[{"role": "user", "content": "x"}])
    assert "does not exist" in str(info.value)


@pytest.mark.anyio
async def test_stop_sequences_end_the_reply_and_bad_ones_are_refused(client, fake):
    fake.queue("one two STOP three", "alpha beta gamma")
    r = await client.post("/v1/chat/completions", json={"model": "socrates", "stop": "STOP",
                                                        "messages": [{"role": "user", "content": "count"}]})
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "one two "  # up to the sequence, as a server cuts it
    assert fake.calls[-1][1].stop == ["STOP"]
    r = await client.post("/v1/chat/completions", json={"model": "fake", "stop": ["gamma", "beta"],
                                                        "messages": [{"role": "user", "content": "go"}]})
    assert r.json()["choices"][0]["message"]["content"] == "alpha "
    for bad in ({"stop": 5}, {"stop": ["a"] * 5}, {"stop": [""]}, {"n": 3}, {"presence_penalty": 9}):
        r = await client.post("/v1/chat/completions", json={"model": "socrates", **bad,
                                                            "messages": [{"role": "user", "content": "x"}]})
        assert r.status_code == 400 and r.json()["error"]["message"], (bad, r.text)
