"""Messages: commit order, streaming progress, stop, finish, regenerate, recovery."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from masterhall.store import INTERRUPTED_REASON, NotFoundError, Store


def _rows(engine: sa.Engine, conversation_id: str) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT role, content, status FROM messages WHERE conversation_id = :c ORDER BY id"),
                {"c": conversation_id},
            )
        ]


def test_user_message_is_committed_before_generation(repo, other_engine):
    conv = repo.create("socrates")
    user = repo.add_message(conv.id, "user", "What is virtue?")
    assert user.role == "user" and user.status == "complete" and user.content == "What is virtue?"

    # Another engine (another connection, as another process would) sees it already,
    # and there is no assistant message yet.
    assert _rows(other_engine, conv.id) == [("user", "What is virtue?", "complete")]
    with other_engine.connect() as conn:
        title = conn.execute(sa.text("SELECT title FROM conversations WHERE id = :c"), {"c": conv.id}).scalar()
    assert title == "What is virtue?"

    assistant = repo.start_assistant(conv.id, model="fake/fake")
    assert _rows(other_engine, conv.id)[-1] == ("assistant", "", "streaming")
    assert repo.update_content(assistant.id, "Virtue is") is True
    assert _rows(other_engine, conv.id)[-1] == ("assistant", "Virtue is", "streaming")  # progress is committed
    assert repo.get(conv.id).model == "fake/fake"


def test_streaming_then_stopped_keeps_partial_content(repo):
    conv = repo.create("socrates")
    user = repo.add_message(conv.id, "user", "Tell me a long story")
    msg = repo.start_assistant(conv.id)
    assert msg.role == "assistant" and msg.status == "streaming" and msg.content == ""
    assert msg.id > user.id and msg.conversation_id == conv.id

    before = repo.get(conv.id).updated_at
    assert repo.update_content(msg.id, "Once") is True
    assert repo.update_content(msg.id, "Once upon a") is True
    after_progress = repo.get(conv.id).updated_at
    assert after_progress > before  # progress writes touch the conversation too
    (_, streaming) = repo.messages(conv.id)
    assert streaming.status == "streaming" and streaming.content == "Once upon a"
    assert streaming.updated_at > msg.updated_at

    stopped = repo.finish_message(msg.id, "Once upon a", "stopped", prompt_tokens=12, completion_tokens=3, ttft_s=0.25, tokens_per_s=41.5)
    assert stopped.status == "stopped" and stopped.content == "Once upon a" and stopped.error is None
    assert (stopped.prompt_tokens, stopped.completion_tokens, stopped.ttft_s, stopped.tokens_per_s) == (12, 3, 0.25, 41.5)
    assert repo.messages(conv.id)[-1] == stopped
    assert repo.get(conv.id).updated_at == stopped.updated_at > after_progress

    # A late progress write after the stop changes nothing.
    assert repo.update_content(msg.id, "Once upon a time, late") is False
    assert repo.messages(conv.id)[-1].content == "Once upon a"


def test_finish_complete_and_error(repo):
    conv = repo.create("socrates")
    ok = repo.start_assistant(conv.id)
    done = repo.finish_message(ok.id, "All good.", "complete", completion_tokens=3)
    assert done.status == "complete" and done.completion_tokens == 3 and done.prompt_tokens is None
    bad = repo.start_assistant(conv.id)
    failed = repo.finish_message(bad.id, "Half", "error", error="backend died")
    assert failed.status == "error" and failed.error == "backend died" and failed.content == "Half"
    assert [m.status for m in repo.messages(conv.id)] == ["complete", "error"]


def test_messages_in_order(repo):
    conv = repo.create("socrates")
    expected = []
    for i in range(3):
        expected.append(repo.add_message(conv.id, "user", f"q{i}"))
        a = repo.start_assistant(conv.id)
        expected.append(repo.finish_message(a.id, f"a{i}", "complete"))
    assert repo.messages(conv.id) == expected
    assert [m.content for m in repo.messages(conv.id)] == ["q0", "a0", "q1", "a1", "q2", "a2"]


def test_delete_messages_after(repo):
    conv = repo.create("socrates")
    other = repo.create("seneca")
    untouched = repo.add_message(other.id, "user", "elsewhere")
    q1 = repo.add_message(conv.id, "user", "q1")
    a1 = repo.add_message(conv.id, "assistant", "a1")
    q2 = repo.add_message(conv.id, "user", "q2")
    repo.add_message(conv.id, "assistant", "a2")

    # Regenerate the last answer: drop it (inclusive).
    before = repo.get(conv.id).updated_at
    assert repo.delete_messages_after(conv.id, q2.id, inclusive=False) == 1
    assert [m.content for m in repo.messages(conv.id)] == ["q1", "a1", "q2"]
    assert repo.get(conv.id).updated_at > before

    # Edit-and-resend the first question: drop it and everything after.
    assert repo.delete_messages_after(conv.id, q1.id) == 3
    assert repo.messages(conv.id) == []
    assert repo.messages(other.id) == [untouched]

    # Ids are never reused, so a stale id cannot hit a newer message.
    new = repo.add_message(conv.id, "user", "again")
    assert new.id > a1.id and new.id > q2.id


def test_update_content_of_a_deleted_message_raises(repo):
    from masterhall.store import NotFoundError

    conv = repo.create("socrates")
    q = repo.add_message(conv.id, "user", "q")
    a = repo.start_assistant(conv.id)
    repo.delete_messages_after(conv.id, q.id)  # e.g. the user edited and resent meanwhile
    with pytest.raises(NotFoundError):
        repo.update_content(a.id, "late")
    with pytest.raises(NotFoundError):
        repo.finish_message(a.id, "late", "complete")


def test_recover_interrupted_after_restart(db_url):
    with Store(db_url) as first:
        repo = first.conversations
        c1 = repo.create("socrates")
        repo.add_message(c1.id, "user", "q")
        s1 = repo.start_assistant(c1.id)
        repo.update_content(s1.id, "partial answer")
        c2 = repo.create("seneca")
        s2 = repo.start_assistant(c2.id)  # no text yet
        c3 = repo.create("marcus")
        done = repo.start_assistant(c3.id)
        done = repo.finish_message(done.id, "finished", "complete")
        stopped = repo.start_assistant(c3.id)
        stopped = repo.finish_message(stopped.id, "stop", "stopped")
        c3_updated = repo.get(c3.id).updated_at
        c1_updated = repo.get(c1.id).updated_at
    # ... the server dies here; a new one starts on the same database.
    with Store(db_url) as second:
        repo = second.conversations
        assert repo.recover_interrupted() == 2
        m1 = repo.messages(c1.id)[-1]
        assert (m1.id, m1.status, m1.error, m1.content) == (s1.id, "error", INTERRUPTED_REASON, "partial answer")
        (m2,) = repo.messages(c2.id)
        assert (m2.id, m2.status, m2.error, m2.content) == (s2.id, "error", INTERRUPTED_REASON, "")
        assert repo.messages(c3.id) == [done, stopped]  # finished messages are untouched
        assert repo.get(c3.id).updated_at == c3_updated
        assert repo.get(c1.id).updated_at > c1_updated
        assert repo.recover_interrupted() == 0

        s4 = repo.start_assistant(c3.id)
        assert repo.recover_interrupted("custom reason") == 1
        assert repo.messages(c3.id)[-1].error == "custom reason"
        assert repo.update_content(s4.id, "too late") is False


def test_finish_reason_safety_and_notes_round_trip(repo):
    conv = repo.create("sleep-coach")
    repo.add_message(conv.id, "user", "hello")
    assistant = repo.start_assistant(conv.id, model="fake/fake")
    assert assistant.finish_reason is None and assistant.safety is None and assistant.notes is None
    safety = {"level": "crisis", "kind": "suicide", "source": "rule", "rule": "想死"}
    notes = ["2 earlier message(s) left out to fit the context window"]
    done = repo.finish_message(assistant.id, "cut", "complete", finish_reason="length", safety=safety, notes=notes)
    assert (done.finish_reason, done.safety, done.notes) == ("length", safety, notes)
    stored = repo.messages(conv.id)[-1]
    assert (stored.finish_reason, stored.safety, stored.notes) == ("length", safety, notes)
    assert stored.to_dict()["safety"] == safety


def test_finish_without_reading_back_stores_the_same(repo):
    """``returning=False`` (a turn's end) stores what the returning form stores, moves the
    conversation's ``updated_at`` and refuses an unknown message, without reading the row back."""
    conv, _, a = repo.start_turn(None, "hello", master_id="sleep-coach", model="fake:fake")
    b = repo.start_assistant(conv.id, model="fake:fake")
    safety, notes, recs = {"level": "none"}, ["a note"], {"masters": ["socrates"]}
    kept = repo.finish_message(a.id, "first", "stopped", error="stopped by the user", prompt_tokens=7,
                               completion_tokens=2, ttft_s=0.5, tokens_per_s=12.5, finish_reason="cancelled",
                               safety=safety, notes=notes, recommendations=recs)
    before = repo.get(conv.id).updated_at
    assert repo.finish_message(b.id, "second", "stopped", error="stopped by the user", prompt_tokens=7,
                               completion_tokens=2, ttft_s=0.5, tokens_per_s=12.5, finish_reason="cancelled",
                               safety=safety, notes=notes, recommendations=recs, returning=False) is None
    stored = {m.id: m for m in repo.messages(conv.id)}
    fields = ("status", "error", "prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s", "finish_reason",
              "safety", "notes", "recommendations")
    assert [getattr(stored[b.id], f) for f in fields] == [getattr(kept, f) for f in fields]
    assert stored[b.id].content == "second" and stored[a.id].content == "first"
    assert repo.get(conv.id).updated_at >= before
    assert repo.get(conv.id).updated_at == stored[b.id].updated_at
    with pytest.raises(NotFoundError):
        repo.finish_message(10**9, "x", "complete", returning=False)
    with pytest.raises(ValueError):
        repo.finish_message(b.id, "x", "streaming", returning=False)
