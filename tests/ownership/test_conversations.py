"""A conversation is its owner's alone: nobody else (admins included) lists, finds, reads,
changes, continues, exports or stops it — to them it does not exist."""

from __future__ import annotations

import pytest

from masterhall.accounts import LOCAL
from masterhall.conversations.continuation import CannotContinueError
from masterhall.errors import NotFoundError


def talk(hall, caller, text="What is a quokka?", master_id="socrates"):
    gen = hall.chat.send(text, master_id=master_id, caller=caller)
    assert gen.done.wait(10)
    return gen.conversation.id


def test_a_new_conversation_belongs_to_its_caller(hall, people):
    cid = talk(hall, people.a)
    assert hall.store.conversations.get(cid).owner_id == people.a.user_id
    assert hall.store.conversations.get(talk(hall, LOCAL)).owner_id is None  # a hall without accounts


def test_lists_and_search_show_only_the_callers_own(hall, people):
    mine = talk(hall, people.a, "Quokka questions")
    theirs = talk(hall, people.b, "Quokka answers")
    assert [c.id for c in hall.chat.list(caller=people.a)] == [mine]
    assert [c.id for c in hall.chat.list(search="quokka", caller=people.b)] == [theirs]
    assert [c.id for c in hall.chat.list(master_id="socrates", caller=people.a)] == [mine]
    assert hall.chat.list(search="quokka", caller=people.admin) == []  # admins do not read members' chats
    assert hall.chat.list(caller=LOCAL) == []  # rows with owners are not LOCAL's either


@pytest.mark.parametrize("who", ["b", "admin"])
def test_another_person_gets_not_found_for_everything(hall, people, fake, who):
    cid = talk(hall, people.a)
    answer = hall.chat.get(cid, caller=people.a).messages[-1]
    other = getattr(people, who)
    for attempt in (
        lambda: hall.chat.get(cid, caller=other),
        lambda: hall.chat.rename(cid, "mine now", caller=other),
        lambda: hall.chat.delete(cid, caller=other),
        lambda: hall.chat.export(cid, "json", caller=other),
        lambda: hall.chat.send("and now?", conversation_id=cid, caller=other),
        lambda: hall.chat.regenerate(cid, caller=other),
        lambda: hall.chat.edit_last(cid, "edited", caller=other),
        lambda: hall.chat.continue_answer(cid, answer.id, caller=other),
    ):
        with pytest.raises(NotFoundError):
            attempt()
    t = hall.chat.get(cid, caller=people.a)  # nothing changed
    assert t.conversation.title != "mine now" and [m.content for m in t.messages][0] == "What is a quokka?"
    assert len(t.messages) == 2 and hall.store.conversations.get(cid) is not None
    # the owner may do all of it
    assert hall.chat.rename(cid, "Quokkas", caller=people.a).title == "Quokkas"
    assert hall.chat.export(cid, "json", caller=people.a).body["conversation"]["title"] == "Quokkas"
    with pytest.raises(CannotContinueError):  # allowed to try: the answer was not cut
        hall.chat.continue_answer(cid, answer.id, caller=people.a)
    gen = hall.chat.regenerate(cid, caller=people.a)
    assert gen.done.wait(10)
    hall.chat.delete(cid, caller=people.a)
    assert hall.store.conversations.get(cid) is None


def test_nobody_else_can_stop_an_answer(hall, people, fake, held_turn):
    gen, release = held_turn(hall, fake, caller=people.a)
    try:
        cid = gen.conversation.id
        assert hall.chat.stop(cid, caller=people.b) is None
        assert hall.chat.stop(cid, caller=people.admin) is None
        assert not gen.stopping
        assert hall.chat.stop(cid, caller=people.a) is gen and gen.stopping
    finally:
        release.set()
        assert gen.done.wait(10)


def test_unstored_turns_need_no_owner(hall, people):
    gen = hall.chat.complete("socrates", [], "Hello")  # /v1: nothing is stored, nobody owns it
    assert gen.done.wait(10) and gen.final.type == "done"
    assert hall.store.conversations.list() == []
