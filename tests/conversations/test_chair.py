"""The chair's rules, without storage: mentions, summary requests, who speaks in what order, and
what each speaker is shown."""

from __future__ import annotations

import pytest

from masterhall.conversations.chair import Chair, mentions, round_addendum, speaker_history, wants_summary

NAMES = {
    "socrates": ["socrates", "Socrates", "苏格拉底"],
    "marcus-aurelius": ["marcus-aurelius", "Marcus Aurelius", "马可·奥勒留"],
    "marcus": ["marcus", "Marcus", "马库斯"],
    "laozi": ["laozi", "Laozi", "老子"],
    "seneca": ["seneca", "Seneca", "塞涅卡"],
}


def test_mentions_by_id_and_by_name_in_either_language_in_order():
    assert mentions("@老子 and @Socrates, then @socrates again", NAMES) == ["laozi", "socrates"]
    assert mentions("@marcus aurelius what now?", NAMES) == ["marcus-aurelius"]  # the longest name wins
    assert mentions("@Marcus what now?", NAMES) == ["marcus"]
    assert mentions("ask＠塞涅卡", NAMES) == ["seneca"]


def test_plain_names_and_longer_words_are_not_mentions():
    assert mentions("What would Socrates say?", NAMES) == []
    assert mentions("@socratesx and mail@laozian", NAMES) == []


@pytest.mark.parametrize("text", ["总结一下", "请总结", "Can you sum up?", "summarize please", "Sum it up", "wrap up"])
def test_summary_requests(text):
    assert wants_summary(text)


@pytest.mark.parametrize("text", ["What is a sum?", "summer plans", "总体来说"])
def test_not_summary_requests(text):
    assert not wants_summary(text)


def scores(table):
    return lambda message, members: {m: table.get(m, 0.0) for m in members}


def test_mentioned_first_then_by_relevance_at_most_n():
    chair = Chair(scores({"laozi": 0.9, "seneca": 0.5, "socrates": 0.1}), max_speakers=3)
    plan = chair.plan("hello @Socrates", ["socrates", "laozi", "seneca", "marcus"], NAMES)
    assert plan.speakers == ["socrates", "laozi", "seneca"] and plan.mentioned == ["socrates"] and plan.joined == []
    assert Chair(None, max_speakers=2).plan("hello", ["laozi", "seneca", "socrates"], NAMES).speakers == ["laozi", "seneca"]


def test_a_mentioned_master_joins_the_table():
    plan = Chair().plan("@Seneca?", ["socrates", "laozi"], NAMES)
    assert plan.speakers[0] == "seneca" and plan.joined == ["seneca"] and plan.members == ["socrates", "laozi", "seneca"]


def test_the_last_speaker_does_not_open_the_next_round_unless_addressed():
    chair = Chair(scores({"laozi": 0.9, "seneca": 0.5}), max_speakers=1)
    assert chair.plan("hi", ["laozi", "seneca"], NAMES, last_speaker="laozi").speakers == ["seneca"]
    assert chair.plan("@laozi hi", ["laozi", "seneca"], NAMES, last_speaker="laozi").speakers == ["laozi"]
    assert Chair(scores({"laozi": 0.9})).plan("hi", ["laozi", "seneca"], NAMES, last_speaker="laozi").speakers == \
        ["seneca", "laozi"]


def test_a_summary_has_one_speaker_and_a_failing_finder_keeps_the_order_of_joining():
    def broken(message, members):
        raise RuntimeError("index not ready")

    plan = Chair(broken).plan("sum up", ["laozi", "seneca"], NAMES, last_speaker="laozi")
    assert plan.summary and plan.speakers == ["seneca"]


def test_a_speaker_hears_others_labelled_and_its_own_words_as_its_own():
    stored = [("user", None, "Is it right?"), ("assistant", "laozi", "Flow like water."),
              ("assistant", "socrates", "What is right?"), ("user", None, "And now?")]
    seen = speaker_history(stored, "socrates", lambda m: NAMES[m][1], "en")
    assert [m.role for m in seen] == ["user", "assistant", "user"]
    assert seen[0].content == "Is it right?\n\n[Laozi] said:\nFlow like water."
    assert seen[1].content == "What is right?"
    zh = speaker_history(stored, "laozi", lambda m: NAMES[m][2], "zh")
    assert "【苏格拉底】说：" in zh[2].content


def test_the_addendum_asks_later_speakers_to_respond_briefly():
    assert round_addendum([], "en") == ""
    text = round_addendum([("Laozi", "Flow like water.")], "en")
    assert "[Laozi] said:\nFlow like water." in text and "respond to them briefly" in text
    assert "简短回应" in round_addendum([("老子", "上善若水")], "zh")
    assert "closing synthesis" in round_addendum([], "en", summary=True)


def test_an_unfinished_reply_gives_a_prefix_of_the_final_addendum():
    for lang, name in (("en", "Laozi"), ("zh", "老子")):
        earlier = [("Socrates" if lang == "en" else "苏格拉底", "Know thyself.")]
        final = round_addendum(earlier + [(name, "Flow like water, yield.")], lang)
        for cut in range(1, len("Flow like water, yield.") + 1):
            partial = round_addendum(earlier + [(name, "Flow like water, yield."[:cut])], lang, partial=True)
            assert final.startswith(partial) and final != partial
        # the chair's request comes before the replies; only a short closing line follows them
        assert final.index("Know thyself.") > final.index("简短回应" if lang == "zh" else "respond to them briefly")
        assert len(final) - final.index("Flow like water, yield.") - len("Flow like water, yield.") < 30


def test_an_at_inside_an_email_address_is_not_a_mention_but_one_after_chinese_text_is():
    assert mentions("write to me@socrates.example", NAMES) == []
    assert mentions("a.b@laozi", NAMES) == []
    assert mentions("请问@苏格拉底，什么是勇气？", NAMES) == ["socrates"]
    assert mentions("(@laozi) what now?", NAMES) == ["laozi"]
