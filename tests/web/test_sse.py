"""The SSE bridge hands a worker thread's items to the event loop in order, with one wake-up per burst."""

from __future__ import annotations

import asyncio
import threading

from masterhall.web.sse import ThreadBridge, json_around, sse, text_frame


def test_thread_bridge_hands_over_every_item_in_order():
    async def main() -> list:
        bridge = ThreadBridge()

        def produce() -> None:
            for i in range(500):
                bridge.put(i)
            bridge.put(None)

        threading.Thread(target=produce).start()
        return [item async for item in bridge.items()]

    assert asyncio.run(main()) == list(range(500))


def test_items_that_arrive_together_come_as_one_batch():
    async def main() -> list:
        bridge = ThreadBridge()
        for i in range(5):
            bridge.put(i)
        bridge.put(None)
        return [batch async for batch in bridge.batches()]

    assert asyncio.run(main()) == [[0, 1, 2, 3, 4]]


def test_a_text_frame_is_the_frame_sse_would_write():
    for text in ("hi", ' 你好 "q" \\ \n x', "", "\u2028"):
        delta = json_around("delta", {"text": ""}, ("text",))
        assert text_frame(delta[0], text, delta[1]) == sse("delta", {"text": text})
        chunk = {"id": "c", "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": None}]}
        around = json_around(None, chunk, ("choices", 0, "delta", "content"))
        expected = {"id": "c", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
        assert text_frame(around[0], text, around[1]) == sse(None, expected)
