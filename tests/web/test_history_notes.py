"""History left out to fit the context window is never silent (issue 13, item 2): the web chat
gets a ``context`` event before the answer and the note is stored with it; ``/v1`` says how
many of the client's messages were dropped in a header and a ``masterhall`` field."""

from __future__ import annotations

import json
import random

import pytest

from .conftest import parse_sse

pytestmark = pytest.mark.anyio

_USER = "apple river stone cloud market garden silver winter".split()
_ASSISTANT = "letter bridge candle forest mirror engine violin harbor".split()


def _text(i: int, words: int = 250) -> str:
    rng = random.Random(i)
    vocabulary = _USER if i % 2 == 0 else _ASSISTANT
    return " ".join(f"{rng.choice(vocabulary)}{rng.randint(0, 999)}" for _ in range(words))


async def test_web_chat_shows_and_stores_the_history_left_out(client, hall, fake):
    fake.context_window = 2560  # the system prompt and three example exchanges fit; the history does not
    fake.queue(_text(1))
    r = await client.post("/api/messages", json={"master_id": "socrates", "content": _text(0)})
    conv_id = parse_sse(r.text)[0][1]["conversation_id"]
    assert "context" not in [e for e, _ in parse_sse(r.text)]  # nothing left out yet
    fake.queue(_text(3))
    r = await client.post("/api/messages", json={"conversation_id": conv_id, "content": _text(2)})
    events = parse_sse(r.text)
    kinds = [e for e, _ in events]
    assert "context" in kinds and kinds.index("context") < kinds.index("delta")  # shown before the answer
    context = events[kinds.index("context")][1]
    assert context["dropped_turns"] == 2
    assert context["notes"] == ["2 earlier message(s) left out to fit the context window"]
    assert events[-1][1]["notes"] == context["notes"]

    stored = (await client.get(f"/api/conversations/{conv_id}")).json()["messages"]
    assert stored[-1]["notes"] == context["notes"]  # still there after a reload
    assert stored[1]["notes"] is None
    page = (await client.get(f"/chat/{conv_id}")).text  # the chat page opened again
    data = json.loads(page.split('id="mh-page">', 1)[1].split("</script>", 1)[0])
    assert data["messages"][-1]["notes"] == context["notes"]


def _history(n: int) -> list[dict]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": _text(i)} for i in range(n)]


async def test_v1_says_how_many_client_messages_were_dropped(client, fake):
    fake.context_window = 2560  # the system prompt and three example exchanges fit; the history does not
    messages = [{"role": "system", "content": "Be brief."}, *_history(16), {"role": "user", "content": "and now?"}]
    r = await client.post("/v1/chat/completions", json={"model": "socrates", "messages": messages})
    assert r.status_code == 200
    assert r.headers["X-MasterHall-History-Dropped"] == "16"
    assert r.json()["masterhall"] == {"history_dropped": 16,
                                      "notes": ["16 earlier message(s) left out to fit the context window"]}

    r = await client.post("/v1/chat/completions", json={"model": "socrates", "messages": messages, "stream": True})
    assert r.headers["X-MasterHall-History-Dropped"] == "16"
    first = json.loads(next(line for line in r.text.splitlines() if line.startswith("data:"))[5:])
    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert first["masterhall"]["history_dropped"] == 16


async def test_v1_reports_zero_when_nothing_was_dropped(client):
    r = await client.post("/v1/chat/completions", json={"model": "socrates", "messages": [{"role": "user", "content": "hi"}]})
    assert r.headers["X-MasterHall-History-Dropped"] == "0"
    assert r.json()["masterhall"]["history_dropped"] == 0
