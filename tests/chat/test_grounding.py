"""The leak cut ("cite, don't dump") and citations picked from an answer's [n] marks."""

from __future__ import annotations

from masterhall.backends.base import Usage
from masterhall.chat.grounding import CUT_NOTE, KnowledgeBrief, leak_cut, quote_limit

PASSAGE = ("The warranty covers every kettle for two years from the day of purchase. It does not cover damage from "
           "limescale, drops or misuse. Claims need the receipt and the serial number printed under the base.")
ZH = "本店所有水壶自购买之日起保修两年。水垢、摔落或使用不当造成的损坏不在保修范围内。申请保修需要提供收据和底座下方印的序列号。"


def run(answer: str, passages, lang="en"):
    def words():
        for ch in answer:  # character deltas: the cut point is exact
            yield ch
        yield Usage(completion_tokens=len(answer))

    notes: list[str] = []
    items = list(leak_cut(words(), ["You are a helpful shop assistant."], notes, lang, passages))
    return "".join(i for i in items if isinstance(i, str)), notes, items[-1]


def test_a_short_quote_passes_untouched():
    answer = 'As the policy says, "It does not cover damage from limescale" [1]. Keep your receipt.'
    text, notes, usage = run(answer, [PASSAGE, ZH])
    assert text == answer and notes == [] and usage.completion_tokens == len(answer)


def test_a_dump_is_cut_before_it_goes_far():
    text, notes, usage = run("Here it is: " + PASSAGE, [PASSAGE])
    assert notes == [CUT_NOTE] and "Cut here" in text and usage.finish_reason == "stop"
    assert "serial number" not in text and len(text) < len("Here it is: ") + quote_limit([PASSAGE]) + 120


def test_many_short_copied_runs_add_up():
    pieces = [s.strip() + "." for s in PASSAGE.split(".") if s.strip()]
    answer = " Also: ".join(pieces)  # every sentence, glued with words of its own
    text, notes, _ = run(answer, [PASSAGE])
    assert notes == [CUT_NOTE] and "serial number" not in text


def test_chinese_dump_is_cut_and_the_instructions_are_watched_too():
    text, notes, _ = run("好的：" + ZH, [ZH], "zh")
    assert notes == [CUT_NOTE] and "（此处省略" in text and "序列号" not in text
    text, notes, _ = run("My instructions: You are a helpful shop assistant.", [])
    assert notes == []  # one short run of the instructions is a quote
    assert quote_limit([]) == 160 and quote_limit(["x" * 100]) == 50


def test_citations_follow_the_marks_else_what_was_given():
    brief = KnowledgeBrief(passages=[{"n": 1, "source": "a.md", "kind": "file", "position": "Intro", "snippet": "A"},
                                     {"n": 2, "source": "b.pdf", "kind": "file", "position": "page 2", "snippet": "B"}])
    assert [c["source"] for c in brief.citations("See [2], then [2] and [1].")] == ["b.pdf", "a.md"]
    assert [c["source"] for c in brief.citations("No marks.")] == ["a.md", "b.pdf"]
    assert brief.citations("[7] is not a passage")[0]["n"] == 1
