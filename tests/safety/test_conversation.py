"""Conversation level: a signal spread over several messages counts, and a conversation with a
crisis answer stays careful (a note in the system prompt) for the rest of it."""

from masterhall import BackendRegistry, ChatEngine, ChatMessage, FakeBackend, load_settings
from masterhall.safety import SafetyGuard, Thresholds


class StubClassifier:
    """Scores from a table (unknown text: 0.0): the conversation logic without an encoder."""

    fitted = True

    def __init__(self, scores):
        self.scores = scores
        self.encoder = self

    def score(self, text):
        return self.scores.get(text, 0.0), [0.0]

    def kind_of(self, vector):
        return "suicide"


A = "I keep wondering whether any of this is worth it"
B = "Nobody really needs me around here these days"
C = "I have been sorting out my things this afternoon"


def _guard(scores):
    return SafetyGuard(classifier=StubClassifier(scores), thresholds=Thresholds(crisis=0.5, elevated=0.1, conversation=0.6, decay=0.6))


def _history(*user_texts):
    out = []
    for text in user_texts:
        out += [ChatMessage("user", text), ChatMessage("assistant", "I hear you.")]
    return out


def test_signal_spread_over_turns_reaches_crisis():
    scores = {A: 0.4, B: 0.4, C: 0.45}
    guard = _guard(scores)
    alone = guard.assess([], C)
    assert alone.level == "elevated"  # 0.45 < 0.5 on its own
    together = guard.assess(_history(A, B), C)
    # 1 - (1 - .45)(1 - .6·.4)(1 - .36·.4) = 0.642 >= 0.6
    assert together.level == "crisis" and together.source == "conversation"
    assert abs(together.conversation_score - 0.642) < 0.01


def test_old_or_harmless_turns_do_not_add_up():
    guard = _guard({A: 0.4, C: 0.45})
    # the concerning message is four user turns back: outside the window
    assert guard.assess(_history(A, "x", "y", "z"), C).level == "elevated"
    # a harmless current message is never raised by earlier ones
    assert guard.assess(_history(A, A), "thanks, that was a useful chat about books").level == "none"


def test_careful_mode_after_a_crisis_answer(catalog):
    fake = FakeBackend("fake")
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(fake)
    engine = ChatEngine(catalog, registry)  # rules-only guard
    first = engine.stream("socrates", [], "我真的撑不下去了，想自杀").collect()
    assert first.usage.finish_reason == "guard" and fake.calls == []
    history = [ChatMessage("user", "我真的撑不下去了，想自杀"), ChatMessage("assistant", first.text)]
    fake.queue("好的，我们聊聊哲学。")
    second = engine.stream("socrates", history, "我们聊点别的吧，什么是美德？").collect()
    system = fake.calls[-1][0][0].content
    assert "Care in this conversation" in system and "12356" in system
    assert second.safety["careful"] is True and second.safety["action"] == "careful"
    # a new conversation starts without the note
    fake.queue("ok")
    engine.stream("socrates", [], "什么是美德？").collect()
    assert "Care in this conversation" not in fake.calls[-1][0][0].content
