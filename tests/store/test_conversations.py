"""Conversations: create, get, list, search, rename, delete, titles, ordering, errors."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from masterhall.store import TITLE_MAX_CHARS, ConversationRepo, NotFoundError, title_from_message

UTC = dt.timezone.utc


def test_create_and_get(repo):
    conv = repo.create("socrates", model="fake/fake")
    assert re.fullmatch(r"[0-9a-f]{32}", conv.id)
    assert conv.master_id == "socrates"
    assert conv.title is None
    assert conv.model == "fake/fake"
    assert conv.created_at.tzinfo is not None and conv.created_at.utcoffset() == dt.timedelta(0)
    assert conv.created_at == conv.updated_at
    assert abs(dt.datetime.now(UTC) - conv.created_at) < dt.timedelta(minutes=1)

    loaded = repo.get(conv.id)
    assert loaded == conv  # timestamps survive the round trip exactly, as aware UTC
    assert loaded.updated_at.tzinfo == UTC
    assert repo.get("0" * 32) is None
    assert repo.create("socrates").id != conv.id


def test_to_dict_is_json_ready(repo):
    conv = repo.create("socrates", title="Virtue")
    msg = repo.add_message(conv.id, "user", "hi")
    data = conv.to_dict()
    assert data["id"] == conv.id and data["title"] == "Virtue"
    assert dt.datetime.fromisoformat(data["created_at"]) == conv.created_at
    assert data["created_at"].endswith("+00:00")
    assert msg.to_dict()["content"] == "hi" and msg.to_dict()["status"] == "complete"


def test_list_newest_updated_first(repo):
    a = repo.create("socrates", title="A")
    b = repo.create("socrates", title="B")
    c = repo.create("seneca", title="C")
    assert [x.id for x in repo.list()] == [c.id, b.id, a.id]

    repo.add_message(a.id, "user", "hello")
    assert [x.id for x in repo.list()] == [a.id, c.id, b.id]

    repo.rename(b.id, "B2")
    assert [x.id for x in repo.list()] == [b.id, a.id, c.id]

    msg = repo.start_assistant(c.id)
    assert [x.id for x in repo.list()] == [c.id, b.id, a.id]
    repo.finish_message(msg.id, "done", "complete")
    assert repo.list()[0].id == c.id
    listed = repo.list()
    assert [x.updated_at for x in listed] == sorted((x.updated_at for x in listed), reverse=True)


def test_list_filters_limit_and_offset(repo):
    ids = [repo.create("socrates" if i % 2 else "seneca", title=f"T{i}").id for i in range(5)]
    newest_first = ids[::-1]
    assert [x.id for x in repo.list(limit=2)] == newest_first[:2]
    assert [x.id for x in repo.list(limit=2, offset=2)] == newest_first[2:4]
    assert [x.id for x in repo.list(offset=4)] == newest_first[4:]
    assert repo.list(limit=0) == []
    assert [x.id for x in repo.list(master_id="socrates")] == [i for i in newest_first if int(repo.get(i).title[1]) % 2]
    assert repo.list(master_id="nobody") == []
    with pytest.raises(ValueError):
        repo.list(limit=-1)
    with pytest.raises(ValueError):
        repo.list(offset=-1)


def test_search_is_case_insensitive_substring(repo):
    virtue = repo.create("socrates", title="On Virtue and Knowledge")
    ecole = repo.create("seneca", title="L'École des Stoïciens")
    percent = repo.create("seneca", title="100% effort_plan")
    repo.create("seneca")  # untitled: never matches a search

    assert [x.id for x in repo.list(search="virtue")] == [virtue.id]
    assert [x.id for x in repo.list(search="KNOW")] == [virtue.id]
    assert [x.id for x in repo.list(search="  and  ")] == [virtue.id]  # trimmed
    assert [x.id for x in repo.list(search="école")] == [ecole.id]  # non-ASCII case folding
    assert [x.id for x in repo.list(search="ÉCOLE")] == [ecole.id]
    # LIKE wildcards are taken literally.
    assert [x.id for x in repo.list(search="%")] == [percent.id]
    assert [x.id for x in repo.list(search="f_o")] == []  # "_" would match "ffo"
    assert [x.id for x in repo.list(search="t_pl")] == [percent.id]
    assert repo.list(search="nothing like it") == []
    assert len(repo.list(search="")) == len(repo.list(search=None)) == 4
    assert [x.id for x in repo.list(search="virtue", master_id="seneca")] == []


def test_rename(repo):
    conv = repo.create("socrates", title="Old")
    renamed = repo.rename(conv.id, "  New   name ")
    assert renamed.title == "New name"
    assert renamed.updated_at > conv.updated_at
    assert renamed.created_at == conv.created_at
    assert repo.get(conv.id) == renamed
    with pytest.raises(ValueError):
        repo.rename(conv.id, "   ")
    with pytest.raises(NotFoundError):
        repo.rename("missing", "x")


def test_delete_cascades_to_messages(repo, store):
    keep = repo.create("socrates")
    repo.add_message(keep.id, "user", "stay")
    conv = repo.create("socrates")
    repo.add_message(conv.id, "user", "one")
    a = repo.start_assistant(conv.id)
    repo.finish_message(a.id, "two", "complete")

    assert repo.delete(conv.id) is True
    assert repo.get(conv.id) is None
    with store.engine.connect() as c:
        rows = c.execute(sa.text("SELECT conversation_id FROM messages")).scalars().all()
    assert rows == [keep.id]  # the database itself removed the messages (ON DELETE CASCADE)
    assert repo.delete(conv.id) is False
    with pytest.raises(NotFoundError):
        repo.messages(conv.id)
    assert [m.content for m in repo.messages(keep.id)] == ["stay"]


def test_title_from_first_user_message(repo):
    conv = repo.create("socrates")
    repo.add_message(conv.id, "system", "You are Socrates.")
    assert repo.get(conv.id).title is None  # only user messages name a conversation
    repo.add_message(conv.id, "user", "\n   What   is\tvirtue?  \nAnd can it be taught?")
    assert repo.get(conv.id).title == "What is virtue?"
    repo.add_message(conv.id, "user", "Another question")
    assert repo.get(conv.id).title == "What is virtue?"  # the first one stays

    titled = repo.create("socrates", title="Mine")
    repo.add_message(titled.id, "user", "Something else")
    assert repo.get(titled.id).title == "Mine"

    blank = repo.create("socrates", title="   ")
    assert blank.title is None
    repo.add_message(blank.id, "user", "   \n  ")
    assert repo.get(blank.id).title is None  # nothing visible to use yet
    repo.add_message(blank.id, "user", "x" * 200)
    long_title = repo.get(blank.id).title
    assert len(long_title) == TITLE_MAX_CHARS and long_title.endswith("…")


def test_title_from_message_rules():
    assert title_from_message("Hello\nworld") == "Hello"
    assert title_from_message("  a \t b  ") == "a b"
    assert title_from_message("\n\n  \nsecond line first") == "second line first"
    assert title_from_message("   ") is None
    assert title_from_message("") is None
    exact = "y" * TITLE_MAX_CHARS
    assert title_from_message(exact) == exact
    words = "Tell me everything you know about the Stoic idea of the dichotomy of control please"
    title = title_from_message(words)
    assert len(title) <= TITLE_MAX_CHARS and title.endswith("…")
    assert words.startswith(title[:-1])
    assert not title[:-1].endswith(" ")  # cut at a word boundary
    assert len(title_from_message("z" * 61)) == TITLE_MAX_CHARS


def test_not_found_errors(repo):
    conv = repo.create("socrates")
    other = repo.create("seneca")
    msg = repo.add_message(other.id, "user", "hi")
    missing = "f" * 32
    calls = [
        lambda: repo.add_message(missing, "user", "hi"),
        lambda: repo.start_assistant(missing),
        lambda: repo.update_content(10_000_000, "x"),
        lambda: repo.finish_message(10_000_000, "x", "complete"),
        lambda: repo.rename(missing, "t"),
        lambda: repo.messages(missing),
        lambda: repo.delete_messages_after(missing, msg.id),
        lambda: repo.delete_messages_after(conv.id, msg.id),  # message of another conversation
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as info:
            call()
        assert isinstance(info.value, KeyError)
        assert "no " in str(info.value)
    assert repo.messages(other.id) == [msg]
    assert repo.messages(conv.id) == []
    assert repo.get(conv.id).updated_at == conv.updated_at  # failed writes left nothing behind


def test_invalid_role_and_status(repo):
    conv = repo.create("socrates")
    with pytest.raises(ValueError):
        repo.add_message(conv.id, "robot", "hi")
    with pytest.raises(ValueError):
        repo.add_message(conv.id, "user", "hi", status="thinking")
    m = repo.start_assistant(conv.id)
    with pytest.raises(ValueError):
        repo.finish_message(m.id, "x", "streaming")
    assert [x.id for x in repo.messages(conv.id)] == [m.id]


def test_timestamps_strictly_increase_with_a_coarse_clock(store):
    frozen = dt.datetime(2025, 1, 1, 12, tzinfo=UTC)
    repo = ConversationRepo(store.engine, clock=lambda: frozen)
    a = repo.create("socrates", title="a")
    b = repo.create("socrates", title="b")
    repo.add_message(a.id, "user", "bump")
    assert a.created_at == frozen
    assert b.created_at == frozen + dt.timedelta(microseconds=1)
    assert [x.title for x in repo.list()] == ["a", "b"]
    assert repo.get(a.id).updated_at == frozen + dt.timedelta(microseconds=2)


def test_non_utc_clock_is_stored_as_utc(store):
    paris = dt.timezone(dt.timedelta(hours=2))
    repo = ConversationRepo(store.engine, clock=lambda: dt.datetime(2025, 6, 1, 14, 0, tzinfo=paris))
    conv = repo.create("socrates")
    loaded = repo.get(conv.id)
    assert loaded.created_at == dt.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert loaded.created_at.tzinfo == UTC
