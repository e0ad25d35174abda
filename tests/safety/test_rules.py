"""The deterministic rules: clear statements fire with the right kind; figures of speech and talk
about a topic do not."""

import pytest

from masterhall.safety import match_rules
from masterhall.safety.rules import CUE_NAMES, cue_features

from .conftest import ROOT, read_set


@pytest.mark.parametrize("case", read_set(ROOT / "tests" / "data" / "crisis-public.jsonl"), ids=lambda c: c["id"])
def test_public_set_all_right_on_rules_alone(case):
    assert (match_rules(case["text"]) is not None) is case["crisis"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I want to die", "suicide"),
        ("I've decided to end things tonight", "suicide"),
        ("How many pills does it take to die?", "suicide"),
        ("我不想活了", "suicide"),
        ("我准备今晚吃掉所有的安眠药去死", "suicide"),
        ("sometimes I cut my arms when it gets too much", "self_harm"),
        ("我昨天又伤害自己了", "self_harm"),
        ("my husband hits me when he drinks", "abuse"),
        ("老公喝醉了就打我", "abuse"),
        ("I was raped last night", "sexual_violence"),
        ("我被性侵了", "sexual_violence"),
        ("I just took a whole bottle of paracetamol", "medical"),
        ("胸口剧痛，满身冷汗，已经十分钟了", "medical"),
        ("I'm going to stab him when he gets home", "harm_others"),
        ("我要杀了我的邻居", "harm_others"),
    ],
)
def test_clear_statements_fire_with_their_kind(text, kind):
    hit = match_rules(text)
    assert hit is not None and hit.kind == kind
    assert hit.rule.split(".")[1] == kind and hit.matched


@pytest.mark.parametrize("text", ["I WANT TO KILL MYSELF", "I want to kıll myself", "I want to kill myſelf",
                                  "I'm thinking about KIllıng myſelf"])
def test_english_rules_ignore_case_and_fold_look_alike_letters(text):
    # The English patterns run without re.IGNORECASE on lower-cased text; the letters that flag
    # equates with ASCII although str.lower keeps them (dotless i, long s) are folded instead.
    hit = match_rules(text)
    assert hit is not None and hit.kind == "suicide"
    assert match_rules(text.replace("KILL", "fill").replace("kıll", "fill").replace("kill", "fill")
                       .replace("KIllıng", "filling")) is None


@pytest.mark.parametrize(
    "text",
    [
        "this deadline is killing me",
        "I'm going to kill it at my presentation",
        "I'm dying to see the new movie",
        "how do I kill a child process in linux",
        "笑死我了",
        "累死我了，今天加班到十点",
        "改了一晚上需求，忙得我想死",
        "开了三个小时的会，无聊得我想死",
        "这个价格真要了我的命",
        "我想死你了，什么时候回来",
        "What did Camus think about suicide?",
        "作为老师，怎么发现学生可能遭受家暴",
        "安娜·卡列尼娜为什么卧轨",
        "I cut myself while cooking, how do I treat it?",
        "切菜时不小心割伤自己了",
        "领导看到这个 bug 会杀了我的",
    ],
)
def test_look_alikes_do_not_fire(text):
    assert match_rules(text) is None


def test_cue_features_mark_finality_arrangements_and_harmless_readings():
    cues = dict(zip(CUE_NAMES, cue_features("我把存款密码都写给我姐了，以后就不麻烦任何人了")))
    assert cues["arrangement"] and cues["finality"] and cues["burden"] and not cues["harmless"]
    cues = dict(zip(CUE_NAMES, cue_features("I'm moving to Berlin, so I gave my plants away")))
    assert cues["harmless"] and not cues["finality"]
    assert dict(zip(CUE_NAMES, cue_features("忙得我想死")))["idiom"] == 1.0
