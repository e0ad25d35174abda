"""Following an answer while it is generated, in the process that runs it: every event from its
first, once, in order, whenever the follower joins; a follower that goes away stops nothing."""

from __future__ import annotations

import threading

import pytest

from masterhall.conversations.live import follow
from masterhall.errors import ConflictError, NotFoundError


def test_a_follower_gets_the_whole_answer_whenever_it_joins(hall, fake):
    fake.delay_s = 0.03
    gen = hall.chat.send(" ".join(f"w{i}" for i in range(120)), master_id="socrates")  # ~4 s
    got, ended = [], threading.Event()

    def listener(event):
        got.append(event) if event is not None else ended.set()

    assert hall.chat.active(gen.conversation.id) is gen
    follower = follow(hall.chat, gen.conversation.id, listener)
    assert ended.wait(60) and gen.done.wait(30)  # ~4 s; generous for a busy machine (returns at once when done)
    kinds = [e.type for e in got]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert "".join(e.data["text"] for e in got if e.type == "delta") == gen.final.data["text"]
    follower.stop()
    with pytest.raises(ConflictError):
        follow(hall.chat, gen.conversation.id, listener)  # nothing runs any more


def test_a_follower_that_goes_away_stops_nothing_and_strangers_see_nothing(hall, fake, accounts):
    fake.delay_s = 0.01
    gen = hall.chat.send(" ".join(f"w{i}" for i in range(40)), master_id="socrates")
    stranger = accounts(hall.store.engine, "mallory")
    with pytest.raises(NotFoundError):
        follow(hall.chat, gen.conversation.id, lambda e: None, caller=stranger)
    follower = follow(hall.chat, gen.conversation.id, lambda e: None)
    follower.stop()
    assert gen.done.wait(60) and gen.final.data["status"] == "complete"
