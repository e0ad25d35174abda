"""The output check on elevated turns: an affirming reply is replaced by the help answer; any
other reply gets a help line when it names none."""

import pytest

from masterhall import BackendRegistry, ChatEngine, FakeBackend, load_settings
from masterhall.safety import SafetyGuard, Thresholds, affirms, check_reply

from .test_conversation import StubClassifier

MESSAGE = "I've given my books to my cousin and I won't need the rest either"


@pytest.mark.parametrize("text", ["That's great news!", "Sounds like a plan, good luck!", "这个想法是合理的。", "这是正常的，祝你一切顺利",
                                  "What a thoughtful way to get organised."])
def test_affirming_replies_are_recognised(text):
    assert affirms(text)


@pytest.mark.parametrize("text", ["I'm worried about what you said. How are you feeling?", "你愿意多说一点吗？我在听。"])
def test_caring_replies_are_not_affirming(text):
    assert not affirms(text)


def test_check_reply_actions():
    text, action = check_reply("That's great news!", lang="en", region="US", kind="suicide")
    assert action == "replaced" and "988" in text and "great news" not in text
    text, action = check_reply("How are you feeling tonight?", lang="en", region="UK", kind="suicide")
    assert action == "appended" and text.startswith("How are you feeling tonight?") and "116 123" in text
    text, action = check_reply("You can call 988 any time.", lang="en", region="US", kind="suicide")
    assert action == "kept"


def _engine(catalog, fake, score):
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(fake)
    guard = SafetyGuard(classifier=StubClassifier({MESSAGE: score}), thresholds=Thresholds(crisis=0.5, elevated=0.1))
    return ChatEngine(catalog, registry, safety=guard)


def test_engine_replaces_an_affirming_reply_to_an_elevated_message(catalog):
    fake = FakeBackend("fake")
    engine = _engine(catalog, fake, 0.3)
    fake.queue("That's great news! Enjoy the extra space.")
    turn = engine.stream("home-organizer", [], MESSAGE)
    deltas = list(turn)
    reply = turn.reply
    assert len(deltas) == 1  # held back, shown in one piece
    assert "great news" not in reply.text and "988" in reply.text
    assert reply.safety["level"] == "elevated" and reply.safety["action"] == "replaced"
    assert reply.safety["score"] == 0.3 and reply.usage.finish_reason == "stop"


def test_engine_appends_a_help_line_to_other_replies(catalog):
    fake = FakeBackend("fake")
    engine = _engine(catalog, fake, 0.3)
    fake.queue("Which of your things matter most to you right now?")
    reply = engine.stream("home-organizer", [], MESSAGE).collect()
    assert reply.text.startswith("Which of your things") and "988" in reply.text
    assert reply.safety["action"] == "appended"


def test_ordinary_turn_streams_unchecked(catalog):
    fake = FakeBackend("fake")
    engine = _engine(catalog, fake, 0.01)
    fake.queue("That's great news, one two three four")
    turn = engine.stream("home-organizer", [], MESSAGE)
    assert len(list(turn)) > 1 and turn.reply.safety is None and "988" not in turn.reply.text
