"""Loop and echo checks on model text, and history hygiene."""

from __future__ import annotations

import pytest

from masterhall.backends import ChatMessage
from masterhall.chat.checks import EchoWatch, find_echo, find_loop, is_degenerate, repeats_user
from masterhall.chat.prompt import clean_history

LOOPS = [
    "我们谈谈婚姻里的取舍：尊重和牺牲、尊重和牺牲、尊重和牺牲、尊重和牺牲、",
    "这首诗写的是四人四人四人四人四人四人四人四人四人四人四人四人",
    "You are doing well. I understand. I understand. I understand. ",
    "Here is the plan:\nDrink water every morning.\nWalk for ten minutes.\nDrink water every morning.\nDrink water every morning.\n",
    "hahahahahahahahahahahahahahahahaha",
]
NOT_LOOPS = [
    "First, wake at the same time every day. Second, keep the bed for sleep. What time do you get up?",
    "| a | b |\n|---|---|\n| 1 | 2 |\n|---|---|\n|---|---|\n",
    "----------------------------------------",
    "一步一步来，慢慢地、慢慢地，你会好起来的。",
    "```python\nprint('x')\nprint('x')\nprint('x')\n```\nThat prints x three times.",
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
]


@pytest.mark.parametrize("text", LOOPS)
def test_loops_are_found_and_cut_after_the_first_copy(text):
    loop = find_loop(text)
    assert loop is not None and loop.copies >= 3
    assert 0 < loop.keep < len(text)
    assert find_loop(text[: loop.keep]) is None  # what is kept no longer loops


@pytest.mark.parametrize("text", NOT_LOOPS)
def test_ordinary_text_is_not_a_loop(text):
    assert find_loop(text) is None


def test_echo_needs_25_characters_or_12_han():
    source = "That is exhausting, and very common under stress. 先从一个小改变开始：今晚定一个放下手机的时间。"
    assert find_echo("Well. That is exhausting, and very common. Try this.", [source]).run == "That is exhausting, and very common"
    assert find_echo("That is exhausting, and v", [source]) is not None  # exactly 25
    assert find_echo("That is exhausting, and ", [source]) is None  # 24
    assert find_echo("我们先从一个小改变开始：今晚定一个", [source]).run == "先从一个小改变开始：今晚定一个"
    assert find_echo("先从一个小改变开始：今晚", [source]) is None  # 11 Han characters
    assert find_echo("nothing shared here at all, friend", [source]) is None


def test_echo_watch_holds_back_a_copy_and_releases_near_misses():
    watch = EchoWatch(["That is exhausting, and very common under stress."])
    shown = "".join(watch.feed(ch) for ch in "Well, That is exhausting, and very common under stress. ok")
    assert watch.echo is not None and shown == "Well, "  # nothing of the copied run was shown
    watch = EchoWatch(["That is exhausting, and very common"])
    shown = "".join(watch.feed(ch) for ch in "Well, That is exhaust ok then") + watch.flush()
    assert watch.echo is None and shown == "Well, That is exhaust ok then"


def test_repeating_the_user_back_is_degenerate():
    assert repeats_user("我每天凌晨三点醒，然后就睡不着了", "我每天凌晨三点醒，然后就睡不着了怎么办")
    assert repeats_user("You said: I can't sleep at night and I wake up at 3am.", "I can't sleep at night and I wake up at 3am")
    assert not repeats_user("Try getting up at the same time every day.", "I can't sleep at night")
    assert is_degenerate("", "hi") and is_degenerate(LOOPS[0], "婚姻")
    assert not is_degenerate("Keep the bed for sleep only. When do you get up?", "I can't sleep")


def test_clean_history_drops_degenerate_answers_and_keeps_roles_alternating():
    history = [
        ChatMessage("user", "I can't sleep"),
        ChatMessage("assistant", "I understand. I understand. I understand. I understand. "),
        ChatMessage("user", "It started last month"),
        ChatMessage("assistant", "What changed last month? Did your work hours change?"),
    ]
    cleaned, dropped = clean_history(history)
    assert dropped == 1
    assert [m.role for m in cleaned] == ["user", "assistant"]
    assert cleaned[0].content == "I can't sleep\n\nIt started last month"  # both of the person's words kept
