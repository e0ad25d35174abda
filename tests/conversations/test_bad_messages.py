"""The chat service refuses a message it cannot store before storing anything (a caller that
is not the web API, such as the command line, gets the same checks), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from masterhall.conversations.service import InvalidMessageError


@pytest.mark.parametrize("content, word", [("hi \ud800", "surrogate"), ("a\x00b", "NUL"), (" \n ", "empty")])
def test_a_message_that_cannot_be_stored_leaves_no_conversation(hall, content, word):
    with pytest.raises(InvalidMessageError, match=word):
        hall.chat.send(content, master_id="socrates")
    assert hall.chat.list() == []
    gen = hall.chat.send("What is virtue?", master_id="socrates")
    assert gen.done.wait(60)  # the first turn of a hall may load the safety guard (slow on a busy machine)
    with pytest.raises(InvalidMessageError, match=word):
        hall.chat.edit_last(gen.conversation.id, content)
    assert [m.content for m in hall.chat.get(gen.conversation.id).messages if m.role == "user"] == ["What is virtue?"]
