import datetime as dt

import pytest

from masterhall.backends import ChatMessage, estimate_tokens
from masterhall.chat.language import detect_language
from masterhall.chat.prompt import MESSAGE_OVERHEAD_TOKENS, ContextTooLongError, PromptOptions, build_prompt

TODAY = dt.date(2026, 11, 29)


def count_words(text: str) -> int:
    return len(text.split())


def history(n_pairs: int, words: int = 50) -> list[ChatMessage]:
    msgs = []
    for i in range(n_pairs):
        msgs.append(ChatMessage("user", f"question{i} " + " ".join(f"q{i}w{j}" for j in range(words - 1))))
        msgs.append(ChatMessage("assistant", f"answer{i} " + " ".join(f"a{i}w{j}" for j in range(words - 1))))
    return msgs


#: The classic layout: every example of the person's language, as user/assistant turns.
ALL_AS_TURNS = PromptOptions(examples=None, placement="turns")


def build(master, hist, new="What is virtue?", window=4096, max_tokens=256, **kw):
    kw.setdefault("options", ALL_AS_TURNS)
    return build_prompt(master, hist, new, lang=detect_language(new), count_tokens=count_words,
                        context_window=window, max_tokens=max_tokens, today=TODAY, **kw)


def test_order_system_examples_history_new(catalog):
    socrates = catalog.get("socrates")
    built = build(socrates, history(2))
    roles = [m.role for m in built.messages]
    assert roles[0] == "system"
    assert built.messages[0].content.startswith(socrates.instructions.strip()[:40])
    assert "Today is 2026-11-29" in built.messages[0].content
    assert "Reply only in English" in built.messages[0].content
    assert built.messages[-1] == ChatMessage("user", "What is virtue?")
    assert built.messages[-5].content.startswith("question0")  # history kept in order before the new message
    assert roles[1:3] == ["user", "assistant"]  # an example exchange
    assert built.dropped_turns == 0 and not built.notes
    assert built.prompt_tokens == sum(count_words(m.content) + MESSAGE_OVERHEAD_TOKENS for m in built.messages)


def test_examples_follow_the_users_language(catalog):
    socrates = catalog.get("socrates")
    zh = build(socrates, [], new="什么是美德？")
    assert "Reply only in Chinese" in zh.messages[0].content
    example_users = [m.content for m in zh.messages[1:-1] if m.role == "user"]
    assert example_users and all(detect_language(t) == "zh" for t in example_users)
    en = build(socrates, [])
    assert all(detect_language(m.content) == "en" for m in en.messages[1:-1])


def test_oldest_turns_dropped_first_and_reported(catalog):
    socrates = catalog.get("socrates")
    full = build(socrates, history(3), window=100_000)
    hist = history(20)
    window = full.prompt_tokens + 256 + 3 * 2 * (50 + MESSAGE_OVERHEAD_TOKENS)  # room for ~6 more messages
    built = build(socrates, hist, window=window)
    assert built.prompt_tokens <= built.budget
    assert built.dropped_turns > 0
    kept = [m for m in built.messages if m.content.startswith(("question", "answer"))]
    assert kept == hist[built.dropped_turns:]  # the newest ones, in order
    assert kept[0].role == "user"
    assert built.messages[0].role == "system" and built.messages[-1].content == "What is virtue?"
    assert any("left out" in note for note in built.notes)


def test_examples_dropped_after_all_history(catalog):
    socrates = catalog.get("socrates")
    bare = build(socrates, [], window=100_000)
    system_and_new = bare.tokens[0] + bare.tokens[-1]
    built = build(socrates, history(5), window=system_and_new + 256 + 5)
    assert built.dropped_turns == 10
    assert built.dropped_examples >= 1
    assert [m.role for m in built.messages] == ["system", "user"]


def test_too_long_message_is_a_clear_error(catalog):
    with pytest.raises(ContextTooLongError) as info:
        build(catalog.get("socrates"), [], new="word " * 5000, window=2048)
    assert info.value.needed > info.value.available
    assert "context window" in str(info.value)


def test_client_system_comes_after_the_masters_in_one_system_message(catalog):
    built = build(catalog.get("socrates"), [], client_system="Answer in one sentence.")
    assert [m.role for m in built.messages].count("system") == 1
    assert built.messages[0].content.endswith("\n\nAnswer in one sentence.")
    assert built.messages[0].content.startswith(catalog.get("socrates").instructions.strip()[:40])


def test_language_detection():
    assert detect_language("什么是美德？") == "zh"
    assert detect_language("I failed my exam and I feel worthless") == "en"
    assert detect_language("我想学 Python 的 asyncio") == "zh"
    assert detect_language("12345 🙂") == "en"


def test_estimate_tokens_errs_high_for_english():
    assert estimate_tokens("") == 0
    assert estimate_tokens("hello world, this is a test") >= 6
    assert estimate_tokens("什么是美德") >= 5
