"""Exact names and terms, reasons in the user's language, and the language option."""

import re

import pytest

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("苏东坡", "su-dongpo"), ("GTD", "gtd-coach"), ("CBT", "aaron-beck"), ("gtd", "gtd-coach"), ("ＣＢＴ", "aaron-beck")],
)
def test_exact_name_or_term_comes_first(finder, query, expected):
    assert finder.match(query, k=3)[0].master_id == expected


def test_a_name_inside_a_sentence(finder):
    assert finder.match("What would Socrates say about lying to a friend?", k=1)[0].master_id == "socrates"
    assert finder.match("我想和李白一起写一首关于秋天的诗", k=1)[0].master_id == "li-bai"


def test_reason_is_in_the_query_language_and_names_strengths(finder):
    zh = finder.match("最近总是睡不着，躺下脑子就停不下来", k=3)
    assert zh[0].master_id == "sleep-coach" and zh[0].lang == "zh"
    assert all(HAN.search(m.reason) for m in zh)
    assert zh[0].reason.startswith("契合你的需要：")
    en = finder.match("I can't fall asleep at night", k=3)
    assert en[0].master_id == "sleep-coach" and en[0].lang == "en"
    assert all(not HAN.search(m.reason) for m in en)
    tags = {t.lower() for t in finder.match("I can't fall asleep at night", k=1)[0].reason.split(": ", 1)[1].split(", ")}
    assert tags & {"insomnia", "can't sleep", "trouble falling asleep", "sleep badly"}, tags


def test_named_master_reason_says_so(finder):
    top = finder.match("苏东坡", k=1)[0]
    assert top.reason.startswith("你点名了苏东坡")
    assert "苏东坡" not in top.reason.split("；", 1)[1]  # strengths, not the name again


def test_lang_option_overrides_detection(finder):
    top = finder.match("insomnia", k=1, lang="zh")[0]
    assert top.master_id == "sleep-coach" and top.lang == "zh" and HAN.search(top.reason)
    assert top.name == "睡眠与压力教练"


def test_match_to_dict(finder):
    data = finder.match("GTD", k=1)[0].to_dict()
    assert set(data) == {"master_id", "name", "score", "reason", "lang", "fit", "strength"}
    assert data["strength"] == "strong" and data["fit"] == 1.0  # named by a tag
