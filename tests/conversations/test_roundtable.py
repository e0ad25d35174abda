"""Round tables on the fake backend: who speaks in what order, what each speaker is shown, what is
stored, Stop, regenerating one reply, and the safety guard per speaker."""

from __future__ import annotations

import threading

import pytest

from masterhall.conversations import roundtable
from masterhall.conversations.service import InvalidMessageError
from masterhall.errors import NotFoundError

TABLE = ["socrates", "marcus-aurelius", "aaron-beck"]


def run(gen):
    assert gen.done.wait(30)
    return gen


def collect(hall, content, **options):
    events = []
    gen = hall.roundtable.send(content, listener=lambda e: e is not None and events.append(e), **options)
    run(gen)
    return gen, events


def speakers(events):
    return [e.data["master_id"] for e in events if e.type == "speaker"]


def test_a_round_stores_each_reply_with_its_master_in_the_order_spoken(hall, fake):
    fake.queue("first reply", "second reply", "third reply")
    gen, events = collect(hall, "Should I quit my job?", master_ids=TABLE)
    order = speakers(events)
    assert sorted(order) == sorted(TABLE) and len(order) == 3
    kinds = [e.type for e in events]
    assert kinds[0] == "start" and kinds[-1] == "round" and events[-1].data == {"status": "complete", "speakers": order}
    # each reply's deltas come between its speaker event and its done event
    for i, e in enumerate(events):
        if e.type == "speaker":
            assert events[i + 1].type in ("delta", "context")
    done = [e.data for e in events if e.type == "done"]
    assert [d["master_id"] for d in done] == order and [d["text"] for d in done] == ["first reply", "second reply",
                                                                                     "third reply"]
    transcript = hall.chat.get(gen.conversation.id)
    assert transcript.conversation.members == TABLE
    msgs = transcript.messages
    assert [m.role for m in msgs] == ["user", "assistant", "assistant", "assistant"]
    assert [m.master_id for m in msgs[1:]] == order and [m.content for m in msgs[1:]] == [d["text"] for d in done]
    assert all(m.status == "complete" for m in msgs)


def test_later_speakers_hear_the_earlier_ones_labelled_not_as_their_own_words(hall, fake):
    fake.queue("Ask what you mean by quit.", "Accept what you cannot change.", "Check the thought behind it.")
    collect(hall, "Should I quit my job?", master_ids=TABLE)
    names = {m: hall.catalog.get(m).name.en for m in TABLE}
    first, second, third = (messages for messages, _ in fake.calls)
    assert "said:" not in first[-1].content
    assert first[-1].content == "Should I quit my job?"
    spoken = [c[0][0].content for c in fake.calls]  # each speaker's own system prompt
    assert len(set(spoken)) == 3
    replies = {"Ask what you mean by quit.", "Accept what you cannot change.", "Check the thought behind it."}
    for messages in (second, third):
        speaker = next(hall.catalog.get(m) for m in TABLE if messages[0].content.startswith(hall.catalog.get(m).instructions.strip()))
        own_examples = {ex.assistant for ex in speaker.examples}
        for m in messages:  # nobody else's words as its own: an assistant turn is only the speaker's own example
            assert m.role != "assistant" or (m.content in own_examples and m.content not in replies)
    assert "] said:" in second[-1].content and "respond to them briefly" in second[-1].content
    heard_by_third = third[-1].content
    assert heard_by_third.count("] said:") == 2
    assert "Ask what you mean by quit." in heard_by_third and "Accept what you cannot change." in heard_by_third
    assert any(f"[{name}] said:" in heard_by_third for name in names.values())


def test_mentioned_master_speaks_first_joins_and_nobody_opens_twice_in_a_row(hall, fake):
    gen, events = collect(hall, "What is courage?", master_ids=["socrates", "marcus-aurelius"])
    first_round = speakers(events)
    cid = gen.conversation.id
    _, events = collect(hall, "@Viktor Frankl what do you think?", conversation_id=cid)
    assert speakers(events)[0] == "viktor-frankl"
    assert events[0].data["joined"] == ["viktor-frankl"]
    assert hall.chat.get(cid).conversation.members == ["socrates", "marcus-aurelius", "viktor-frankl"]
    last = speakers(events)[-1]
    _, events = collect(hall, "and then?", conversation_id=cid)
    assert speakers(events)[0] != last
    assert len(first_round) == 2


def test_at_most_n_speakers_and_a_summary_has_one(hall, fake):
    hall.roundtable.chair.max_speakers = 2
    gen, events = collect(hall, "How should I rest?", master_ids=TABLE + ["sleep-coach"])
    assert len(speakers(events)) == 2
    fake.queue("Socrates asked, Marcus accepted.")
    _, events = collect(hall, "总结一下", conversation_id=gen.conversation.id)
    assert len(speakers(events)) == 1 and [e for e in events if e.type == "speaker"][0].data["summary"] is True
    assert "总结" in fake.calls[-1][0][-1].content and "谁说了什么" in fake.calls[-1][0][-1].content


def test_at_mention_turns_a_one_master_conversation_into_a_table(hall, fake):
    gen = run(hall.chat.send("What is virtue?", master_id="socrates"))
    cid = gen.conversation.id
    _, events = collect(hall, "@苏格拉底 and @Confucius, do you agree?", conversation_id=cid)
    assert speakers(events)[:2] == ["socrates", "confucius"]
    msgs = hall.chat.get(cid).messages
    # Socrates' earlier answer (stored without a master id) stays his own
    assert msgs[1].master_id is None and [m.master_id for m in msgs[3:]] == ["socrates", "confucius"]


def test_plain_conversation_without_mentions_stays_one_master(hall, fake):
    gen = run(hall.chat.send("What is virtue?", master_id="socrates"))
    _, events = collect(hall, "Socrates, tell me more", conversation_id=gen.conversation.id)
    assert not speakers(events) and events[-1].type == "done"
    assert hall.chat.get(gen.conversation.id).conversation.members is None


def test_stop_ends_the_whole_round(hall, fake):
    fake.queue("one two three four five six", "never", "never")
    first, release = threading.Event(), threading.Event()
    events = []

    def listener(event):
        if event is None:
            return
        events.append(event)
        if event.type == "delta" and not first.is_set():
            first.set()
            assert release.wait(10)

    gen = hall.roundtable.send("hello", master_ids=TABLE, listener=listener)
    assert first.wait(10)
    assert hall.chat.stop(gen.conversation.id) is gen
    release.set()
    run(gen)
    assert len(speakers(events)) == 1 and events[-1].type == "round" and events[-1].data["status"] == "stopped"
    msgs = hall.chat.get(gen.conversation.id).messages
    assert [m.status for m in msgs] == ["complete", "stopped"] and msgs[1].content == gen.text and gen.text.startswith("one")
    assert "six" not in gen.text
    assert len(fake.calls) == 1


def test_regenerate_one_reply_in_place(hall, fake):
    fake.queue("A1", "B1", "C1", "B2")
    gen, events = collect(hall, "hello", master_ids=TABLE)
    msgs = hall.chat.get(gen.conversation.id).messages
    middle = msgs[2]
    events = []
    run(hall.roundtable.regenerate_reply(gen.conversation.id, middle.id,
                                         listener=lambda e: e is not None and events.append(e)))
    assert speakers(events) == [middle.master_id]
    after = hall.chat.get(gen.conversation.id).messages
    assert [m.id for m in after] == [m.id for m in msgs]
    assert [m.content for m in after] == ["hello", "A1", "B2", "C1"] and after[2].master_id == middle.master_id
    assert "A1" in fake.calls[-1][0][-1].content and "C1" not in fake.calls[-1][0][-1].content
    with pytest.raises(NotFoundError):
        hall.roundtable.regenerate_reply(gen.conversation.id, msgs[0].id)


def test_regenerate_the_whole_round(hall, fake):
    fake.queue("A1", "B1", "C1", "A2", "B2", "C2")
    gen, _ = collect(hall, "hello", master_ids=TABLE)
    run(hall.roundtable.regenerate(gen.conversation.id))
    assert [m.content for m in hall.chat.get(gen.conversation.id).messages] == ["hello", "A2", "B2", "C2"]


def test_the_guard_rates_every_speaker_and_a_crisis_ends_the_round(hall, fake):
    gen, events = collect(hall, "我真的撑不下去了，想自杀", master_ids=TABLE)
    assert len(speakers(events)) == 1 and fake.calls == []
    assert events[-1].data["status"] == "guard"
    msgs = hall.chat.get(gen.conversation.id).messages
    assert msgs[1].finish_reason == "guard" and "12356" in msgs[1].content and msgs[1].safety["action"] == "help"


def test_members_are_checked_and_can_change(hall, fake):
    with pytest.raises(InvalidMessageError):
        hall.roundtable.send("hi", master_ids=["socrates"])
    with pytest.raises(InvalidMessageError):
        hall.roundtable.send("hi", master_ids=["socrates", "master-finder"])
    with pytest.raises(InvalidMessageError):
        hall.roundtable.send("hi", master_ids=["socrates", "nobody-here"])
    gen, _ = collect(hall, "hi", master_ids=["socrates", "laozi"])
    cid = gen.conversation.id
    assert hall.roundtable.set_members(cid, ["socrates", "laozi", "seneca"]).members == ["socrates", "laozi", "seneca"]
    _, events = collect(hall, "again", conversation_id=cid)
    assert "seneca" in speakers(events)
    single = hall.roundtable.set_members(cid, ["laozi"])
    assert single.members is None and single.master_id == "laozi"


def test_a_table_starts_with_two_to_four_masters_and_grows_to_eight(hall, fake):
    with pytest.raises(InvalidMessageError, match="2 to 4"):
        hall.roundtable.send("hi", master_ids=["socrates", "laozi", "seneca", "confucius", "aaron-beck"])
    assert hall.chat.list() == []
    gen, _ = collect(hall, "hi", master_ids=["socrates", "laozi", "seneca", "confucius"])
    cid = gen.conversation.id
    eight = ["socrates", "laozi", "seneca", "confucius", "aaron-beck", "viktor-frankl", "marcus-aurelius", "sleep-coach"]
    assert hall.roundtable.set_members(cid, eight).members == eight
    with pytest.raises(InvalidMessageError):
        hall.roundtable.set_members(cid, eight + ["alan-turing"])


def test_the_conversations_master_leaving_hands_it_on_and_its_answers_keep_their_speaker(hall, fake):
    fake.queue("plain answer", "from Marcus", "from Laozi")
    gen, _ = collect(hall, "hi", master_id="marcus-aurelius")  # a plain chat: its answer has no master_id
    cid = gen.conversation.id
    collect(hall, "@Laozi what do you think?", conversation_id=cid)  # Laozi joins
    changed = hall.roundtable.set_members(cid, ["laozi", "socrates"])
    assert changed.master_id == "laozi" and changed.members == ["laozi", "socrates"]
    answers = [m for m in hall.chat.get(cid).messages if m.role == "assistant"]
    assert answers[0].content == "plain answer" and answers[0].master_id == "marcus-aurelius"


def test_a_first_message_that_mentions_a_master_starts_a_table(hall, fake):
    fake.queue("from Socrates", "from Marcus")
    gen, events = collect(hall, "@苏格拉底 what is a good life?", master_id="marcus-aurelius")
    assert gen.conversation.members == ["marcus-aurelius", "socrates"]
    assert speakers(events) == ["socrates", "marcus-aurelius"]
    plain, _ = collect(hall, "mail me@socrates.example", master_id="marcus-aurelius")
    assert plain.conversation.members is None
    guide, _ = collect(hall, "@Socrates hi", master_id="master-finder")  # the guide does not sit at tables
    assert guide.conversation.members is None


def test_an_unstored_round_labels_nothing_and_stores_nothing(hall, fake):
    fake.queue("one", "two")
    events = []
    run(hall.roundtable.complete(["socrates", "laozi"], [], "hi", listener=lambda e: e is not None and events.append(e)))
    assert [e.data["text"] for e in events if e.type == "done"] == ["one", "two"]
    assert hall.chat.list() == []


def test_two_rounds_let_each_master_answer_the_others(hall, fake):
    gen, events = collect(hall, "hi", master_ids=["socrates", "laozi"], rounds=2)
    order = speakers(events)
    assert len(order) == 4 and order[1] != order[2]
    assert len([m for m in hall.chat.get(gen.conversation.id).messages if m.role == "user"]) == 1


def test_regenerate_one_answer_of_a_plain_conversation(hall, fake):
    fake.queue("one", "two")
    gen = run(hall.chat.send("hi", master_id="socrates"))
    answer = hall.chat.get(gen.conversation.id).messages[1]
    run(hall.roundtable.regenerate_reply(gen.conversation.id, answer.id))
    again = hall.chat.get(gen.conversation.id)
    assert [m.content for m in again.messages] == ["hi", "two"] and again.conversation.members is None


def _by_speaker(prereads, sent):
    """The pre-reads asked for each call after the first, matched by system prompt."""
    return [[(ahead, streaming) for ahead, streaming in prereads if ahead[0] == later[0]] for later in sent[1:]]


def test_the_next_speaker_is_read_ahead_while_the_current_one_streams_with_the_exact_prefix(hall, fake, monkeypatch):
    monkeypatch.setattr(roundtable, "READ_AHEAD_STEP", 1)  # at every delta
    replies = ["Ask what you mean by quit.", "Accept what you cannot change.", "Check the thought behind it."]
    fake.queue(*replies)
    gen, events = collect(hall, "Should I quit my job?", master_ids=TABLE)
    sent = [messages for messages, _ in fake.calls]
    assert len(sent) == 3 and len({m[0].content for m in sent}) == 3
    groups = _by_speaker(fake.prereads, sent)
    assert sum(map(len, groups)) == len(fake.prereads)  # nothing read ahead for the first speaker
    for reads, later, reply in zip(groups, sent[1:], replies):
        assert 2 <= len(reads) <= len(reply.split())  # once per delta of the speaker before
        assert all(streaming == 1 for _, streaming in reads[:-1])  # while the speaker before was answering
        first, last = reads[0][0], reads[-1][0]
        assert first[-1].content == "Should I quit my job?"  # at the first delta: up to the person's message
        for ahead, _ in reads:
            assert ahead[:-1] == later[:-1] and ahead[-1].role == later[-1].role == "user"
            assert later[-1].content.startswith(ahead[-1].content)  # a prefix of what is sent later
        assert last[-1].content.endswith(f"] said:\n{reply}")  # the whole reply read ahead…
        assert later[-1].content == last[-1].content + "\n\n(Now answer as yourself.)"  # …only the last line left
    assert [e.data["master_id"] for e in events if e.type == "done"] == speakers(events)


def test_reading_ahead_keeps_the_prefix_with_history_and_stops_with_the_round(hall, fake):
    gen, _ = collect(hall, "What is courage?", master_ids=["socrates", "marcus-aurelius"])
    fake.prereads.clear()
    fake.calls.clear()
    collect(hall, "And what is fear?", conversation_id=gen.conversation.id)
    (reads,) = _by_speaker(fake.prereads, [m for m, _ in fake.calls])
    later = fake.calls[1][0]
    assert reads and len(reads) == len(fake.prereads)
    for ahead, _ in reads:
        assert len(ahead) > 3 and ahead[:-1] == later[:-1]  # earlier replies, labelled, are part of the prefix
        assert later[-1].content.startswith(ahead[-1].content) and later[-1].content != ahead[-1].content
    fake.prereads.clear()
    fake.queue("I stop here.")
    stopped = []

    def stop_at_first_delta(event):
        if event is not None and event.type == "delta" and not stopped:
            stopped.append(event)
            gen2.stop()

    gen2 = hall.roundtable.send("Once more?", conversation_id=gen.conversation.id, listener=stop_at_first_delta)
    run(gen2)
    assert fake.prereads == []  # a stopped round reads nobody ahead


def test_a_long_reply_is_read_ahead_in_steps_not_at_every_delta(hall, fake):
    reply = " ".join(f"word{i}" for i in range(60))  # 60 deltas, 419 characters
    fake.queue(reply, "Short.")
    collect(hall, "Should I quit my job?", master_ids=["socrates", "marcus-aurelius"])
    later = fake.calls[1][0]
    (reads,) = _by_speaker(fake.prereads, [m for m, _ in fake.calls])
    assert 1 + len(reply) // roundtable.READ_AHEAD_STEP - 1 <= len(reads) <= 1 + len(reply) // roundtable.READ_AHEAD_STEP
    assert all(later[-1].content.startswith(ahead[-1].content) for ahead, _ in reads)
    left = len(later[-1].content) - len(reads[-1][0][-1].content)
    assert left < roundtable.READ_AHEAD_STEP + len("\n\n(Now answer as yourself.)")  # only the tail is read later


def test_without_preread_nothing_is_read_ahead(hall, fake):
    hall.roundtable.preread = False
    collect(hall, "Should I quit my job?", master_ids=TABLE)
    assert len(fake.calls) == 3 and fake.prereads == []


def test_mentions_seat_masters_within_the_same_limits_and_store_nothing_past_them(hall, fake):
    """A first message may @-mention at most MAX_START - 1 others; an existing table grows to MAX_MEMBERS."""
    ids = [m.id for m in hall.catalog.advisors() if m.id != "socrates"][:roundtable.MAX_MEMBERS + 1]
    too_many = " ".join(f"@{i}" for i in ids[:roundtable.MAX_START]) + " hello"
    with pytest.raises(InvalidMessageError, match="starts with 2 to 4"):
        hall.roundtable.send(too_many, master_id="socrates")
    assert hall.chat.list() == []
    fake.queue("a", "b")
    gen, _ = collect(hall, "hi", master_ids=["socrates", ids[0]])
    crowd = " ".join(f"@{i}" for i in ids[1:roundtable.MAX_MEMBERS]) + " everyone?"
    with pytest.raises(InvalidMessageError, match="seats 1 to 8"):
        hall.roundtable.send(crowd, conversation_id=gen.conversation.id)
    stored = hall.chat.get(gen.conversation.id)
    assert stored.conversation.members == ["socrates", ids[0]] and sum(m.role == "user" for m in stored.messages) == 1
