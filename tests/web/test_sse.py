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


class _InlinePool:
    """A turn pool that runs the job, then the turn it submitted, at once on the caller's thread."""

    def __init__(self):
        self.turn = None

    def submit(self, fn, *args) -> None:
        self.turn = (fn, args)

    def submit_with_handoff(self, fn, *args) -> None:
        fn(*args)
        if self.turn is not None:
            self.turn[0](*self.turn[1])


def test_a_turn_that_ended_goes_out_with_its_closing_in_one_write():
    from masterhall.conversations.turns import Event, Generation
    from masterhall.web.sse import event_stream

    pool = _InlinePool()

    def run(gen: Generation) -> None:
        for word in ("one", " two"):
            gen.emit(Event("delta", {"text": word}))
        gen.emit(Event("done", {}))
        gen.end()

    def start(listener) -> Generation:
        gen = Generation()
        gen.on_event(listener)
        pool.submit(run, gen)
        return gen

    async def main() -> list[str]:
        response = await event_stream(pool, start, lambda e: [sse(e.type, e.data)], opening=["open\n\n"],
                                      closing=lambda: ["close\n\n"])
        return [chunk async for chunk in response.body_iterator]

    chunks = asyncio.run(main())  # the turn ended before the response started: one write
    assert chunks == ["open\n\n" + sse("delta", {"text": "one"}) + sse("delta", {"text": " two"}) + sse("done", {})
                      + "close\n\n"]
