"""Continuing an answer cut at the token limit: same prompt plus the cut answer as a prefill,
the rest appended to the same stored message; refused for anything else."""

from __future__ import annotations

import pytest

from masterhall import BackendError
from masterhall.catalog.models import SamplingParams
from masterhall.conversations.continuation import CONTINUED_NOTE, CannotContinueError
from masterhall.errors import NotFoundError


def run(gen):
    assert gen.done.wait(10)
    return gen


def cut_answer(hall, fake, text="one two three four five six seven eight", limit=4):
    """A conversation whose answer stopped at the length limit after ``limit`` words."""
    fake.queue(text)
    events = []
    gen = run(hall.chat.send("Tell me a story", master_id="socrates", params=SamplingParams(max_tokens=limit),
                             listener=events.append))
    return gen.conversation.id, gen.assistant_message_id, events


def test_an_answer_cut_at_the_length_limit_is_continued_in_the_same_message(hall, fake):
    conv, mid, events = cut_answer(hall, fake)
    done = [e for e in events if e and e.type == "done"][-1].data
    assert done["finish_reason"] == "length" and done["text"] == "one two three four"
    stored = hall.chat.get(conv).messages[-1]
    assert (stored.id, stored.finish_reason, stored.status) == (mid, "length", "complete")

    fake.queue(" five six seven.")
    events = []
    run(hall.chat.continue_answer(conv, mid, listener=events.append))
    kinds = [e.type for e in events if e]
    assert kinds[0] == "start" and kinds[-1] == "done" and events[0].data["continued"] is True
    assert events[0].data["message_id"] == mid
    assert "".join(e.data["text"] for e in events if e and e.type == "delta") == " five six seven."
    done = events[-2].data if events[-1] is None else events[-1].data
    assert done["text"] == "one two three four five six seven." and done["finish_reason"] == "stop"

    # the backend got the same prompt, then the cut answer as the last (assistant) message
    sent = fake.calls[-1][0]
    first = fake.calls[-2][0]
    assert sent[:-1] == first and (sent[-1].role, sent[-1].content) == ("assistant", "one two three four")

    messages = hall.chat.get(conv).messages
    assert len(messages) == 2 and messages[-1].id == mid
    answer = messages[-1]
    assert answer.content == "one two three four five six seven." and answer.status == "complete"
    assert answer.finish_reason == "stop" and CONTINUED_NOTE in (answer.notes or [])
    assert answer.completion_tokens == 4 + 3  # the cut part, then " five", " six", " seven."


def test_a_continuation_cut_again_can_be_continued_again(hall, fake):
    conv, mid, _ = cut_answer(hall, fake)
    fake.queue(" five six seven eight nine ten")
    run(hall.chat.continue_answer(conv, mid, params=SamplingParams(max_tokens=2)))
    answer = hall.chat.get(conv).messages[-1]
    assert answer.content == "one two three four five six" and answer.finish_reason == "length"
    fake.queue(" seven.")
    run(hall.chat.continue_answer(conv, mid))
    answer = hall.chat.get(conv).messages[-1]
    assert answer.content == "one two three four five six seven." and answer.finish_reason == "stop"
    assert answer.notes.count(CONTINUED_NOTE) == 1


def test_refusals_change_nothing(hall, fake):
    fake.queue("A whole answer.")
    gen = run(hall.chat.send("Hello", master_id="socrates"))
    conv, mid = gen.conversation.id, gen.assistant_message_id
    with pytest.raises(CannotContinueError, match="did not stop at the length limit"):
        hall.chat.continue_answer(conv, mid)
    with pytest.raises(CannotContinueError, match="not a message of yours"):
        hall.chat.continue_answer(conv, gen.user_message.id)
    with pytest.raises(NotFoundError):
        hall.chat.continue_answer(conv, 999_999)
    with pytest.raises(NotFoundError):
        hall.chat.continue_answer("0" * 32, mid)

    conv2, cut, _ = cut_answer(hall, fake)
    fake.queue("Next answer.")
    run(hall.chat.send("Go on", conversation_id=conv2))
    with pytest.raises(CannotContinueError, match="last answer"):
        hall.chat.continue_answer(conv2, cut)
    assert hall.chat.active(conv2) is None  # the claim was released
    assert hall.chat.get(conv2).messages[1].finish_reason == "length"


def test_a_backend_that_fails_before_streaming_leaves_the_cut_answer_as_it_was(hall, fake):
    conv, mid, _ = cut_answer(hall, fake)
    fake.queue(BackendError("server down", "unavailable"))
    events = []
    run(hall.chat.continue_answer(conv, mid, listener=events.append))
    error = next(e for e in events if e and e.type == "error")
    assert error.data["code"] == "unavailable"
    answer = hall.chat.get(conv).messages[-1]
    assert (answer.content, answer.status, answer.finish_reason) == ("one two three four", "complete", "length")
    fake.queue(" five.")
    run(hall.chat.continue_answer(conv, mid))
    assert hall.chat.get(conv).messages[-1].content == "one two three four five."


def test_a_stopped_continuation_keeps_the_whole_text(hall, fake):
    conv, mid, _ = cut_answer(hall, fake)
    fake.delay_s = 0.02
    fake.queue(" " + " ".join(f"w{i}" for i in range(200)))
    seen = []

    def listener(event):
        if event and event.type == "delta":
            seen.append(event.data["text"])
            if len(seen) == 3:
                hall.chat.stop(conv)

    run(hall.chat.continue_answer(conv, mid, listener=listener))
    answer = hall.chat.get(conv).messages[-1]
    assert answer.status == "stopped" and answer.content.startswith("one two three four w0 w1")
    with pytest.raises(CannotContinueError):
        hall.chat.continue_answer(conv, mid)
