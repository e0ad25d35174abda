"""Whether a conversation's answer is live: a generation being stopped (Stop, or the page
reloaded) is not, and its message reads as stopped at once, not as "still generating"."""

from __future__ import annotations

import threading


def test_a_running_answer_is_generating(hall, fake, held_turn):
    gen, release = held_turn(hall, fake)
    try:
        t = hall.chat.get(gen.conversation.id)
        assert t.generating and not t.stopping and t.messages[-1].status == "streaming"
    finally:
        release.set()
        assert gen.done.wait(10)
    t = hall.chat.get(gen.conversation.id)
    assert not t.generating and t.messages[-1].status == "complete"


def test_an_answer_being_stopped_reads_as_stopped_at_once(hall, fake, held_turn):
    gen, release = held_turn(hall, fake)
    try:
        gen.stop("the client disconnected")  # what a reload does to the page's stream
        t = hall.chat.get(gen.conversation.id)
        # was: generating=True and status "streaming" -> the page said "still generating… will update"
        assert not t.generating and t.stopping
        assert t.messages[-1].status == "stopped" and t.messages[-1].error == "the client disconnected"
        assert hall.store.conversations.messages(gen.conversation.id)[-1].status == "streaming"  # not yet written
    finally:
        release.set()
        assert gen.done.wait(10)
    t = hall.chat.get(gen.conversation.id)
    assert not t.generating and not t.stopping
    assert t.messages[-1].status == "stopped" and t.messages[-1].content.startswith("one")


def test_a_streaming_message_with_no_generation_reads_as_interrupted(hall, fake, held_turn):
    gen, release = held_turn(hall, fake)
    conv_id = gen.conversation.id
    with hall.chat._lock:  # as if the process that ran it were gone
        hall.chat._active.pop(conv_id)
    try:
        t = hall.chat.get(conv_id)
        assert not t.generating and t.messages[-1].status == "stopped" and t.messages[-1].error == "interrupted"
    finally:
        release.set()
        assert gen.done.wait(10)


def test_a_delta_in_flight_when_stop_lands_is_neither_shown_nor_stored(hall, fake):
    # The stop lands while the backend is producing the next delta (the page has shown the first):
    # that delta must not reach the stream nor the stored answer, and the answer reads as its
    # final text from the moment of the stop (was: stored one delta more, read "" until written).
    fake.delay_s = 1.0
    fake.queue("Xq7 Yq8 Zq9")
    deltas, first = [], threading.Event()

    def listener(event):
        if event is not None and event.type == "delta":
            deltas.append(event.data["text"])
            first.set()

    gen = hall.chat.send("hello", master_id="socrates", listener=listener)
    assert first.wait(10)
    stopped = hall.chat.stop(gen.conversation.id)
    shown = "".join(deltas)
    assert stopped is gen and shown.startswith("Xq") and gen.text == shown
    t = hall.chat.get(gen.conversation.id)
    assert t.stopping and t.messages[-1].status == "stopped" and t.messages[-1].content == shown
    assert gen.done.wait(10)
    assert "".join(deltas) == shown  # nothing streamed after the stop
    stored = hall.store.conversations.messages(gen.conversation.id)[-1]
    assert stored.status == "stopped" and stored.content == shown
    assert gen.final.type == "done" and gen.final.data["text"] == shown
