"""A chat page reloaded during an answer: the reload stopped it, so the page shows it stopped."""

from __future__ import annotations

import json
import re
import threading

import anyio
import pytest

pytestmark = pytest.mark.anyio


async def test_page_and_api_show_an_answer_being_stopped_as_stopped(hall, fake, client):
    fake.queue("one two three four five six")
    first, release = threading.Event(), threading.Event()

    def listener(event):
        if event is not None and event.type == "delta" and not first.is_set():
            first.set()
            release.wait(10)

    gen = hall.chat.send("hello", master_id="socrates", listener=listener)
    assert await anyio.to_thread.run_sync(first.wait, 10)
    conv_id = gen.conversation.id
    try:
        live = (await client.get(f"/api/conversations/{conv_id}")).json()
        assert live["generating"] is True and live["messages"][-1]["status"] == "streaming"
        gen.stop("the client disconnected")  # the reload closed the page's stream
        api = (await client.get(f"/api/conversations/{conv_id}")).json()
        assert api["generating"] is False and api["stopping"] is True
        assert api["messages"][-1]["status"] == "stopped"
        html = (await client.get(f"/chat/{conv_id}")).text
        page = json.loads(re.search(r'<script type="application/json" id="mh-page">(.*?)</script>', html, re.S).group(1))
        # was: generating true + a streaming message -> "still generating… will update"
        assert page["generating"] is False and page["stopping"] is True
        assert page["messages"][-1]["status"] == "stopped" and page["messages"][-1]["error"] == "the client disconnected"
    finally:
        release.set()
        assert await anyio.to_thread.run_sync(gen.done.wait, 10)
    done = (await client.get(f"/api/conversations/{conv_id}")).json()
    assert done["stopping"] is False and done["messages"][-1]["status"] == "stopped"
