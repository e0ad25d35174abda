"""Whether a conversation's answer is live: a generation being stopped (Stop, or the page
reloaded) is not, and its message reads as stopped at once, not as "still generating"."""

from __future__ import annotations

import threading


def held_turn(hall, fake):
    """A turn whose thread is held inside its first delta, until ``release`` is set."""
    fake.queue("one two three four five six")
    first, release = threading.Event(), threading.Event()

    def listener(event):
        if event is not None and event.type == "delta" and not first.is_set():
            first.set()
            assert release.wait(10)

    gen = hall.chat.send("hello", master_id="socrates", listener=listener)
    assert first.wait(10)
    return gen, release


def test_a_running_answer_is_generating(hall, fake):
    gen, release = held_turn(hall, fake)
    try:
        t = hall.chat.get(gen.conversation.id)
        assert t.generating and not t.stopping and t.messages[-1].status == "streaming"
    finally:
        release.set()
        assert gen.done.wait(10)
    t = hall.chat.get(gen.conversation.id)
    assert not t.generating and t.messages[-1].status == "complete"


def test_an_answer_being_stopped_reads_as_stopped_at_once(hall, fake):
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


def test_a_streaming_message_with_no_generation_reads_as_interrupted(hall, fake):
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
