import pytest

from masterhall import BackendError, BackendRegistry, ChatEngine, ChatMessage, FakeBackend, SamplingParams, load_settings
from masterhall.catalog import UnknownMasterError


def test_streams_deltas_and_returns_reply_with_usage(engine, fake):
    answer = "Before we go on, friend: when you say virtue, whose virtue do you have in mind?"
    fake.queue(answer)
    turn = engine.stream("socrates", [], "What is virtue?")
    deltas = list(turn)
    assert len(deltas) > 3
    reply = turn.reply
    assert reply.text == "".join(deltas) == answer
    assert reply.usage.finish_reason == "stop"
    assert reply.usage.completion_tokens == len(answer.split())  # the fake's tokens are words (the
    # copy watch may hold a word back and release it in two deltas, so deltas are not tokens)
    assert reply.usage.prompt_tokens > 0 and reply.usage.ttft_s is not None
    sent, params = fake.calls[-1]
    assert sent[0].role == "system" and sent[-1].content == "What is virtue?"
    assert reply.prompt.messages == sent


def test_history_is_sent(engine, fake):
    hist = [ChatMessage("user", "first question"), ChatMessage("assistant", "first answer")]
    engine.stream("socrates", hist, "second question").collect()
    sent = fake.calls[-1][0]
    assert sent[-3:] == [hist[0], hist[1], ChatMessage("user", "second question")]


def test_crisis_message_gets_help_without_the_model(engine, fake):
    for master in ("python-mentor", "li-bai", "socrates"):
        reply = engine.stream(master, [], "I think about ending my life almost every day now").collect()
        assert reply.usage.finish_reason == "guard"
        assert "988" in reply.text and reply.safety["level"] == "crisis" and reply.safety["action"] == "help"
        zh = engine.stream(master, [], "我真的撑不下去了，想自杀").collect()
        assert "12356" in zh.text
    assert fake.calls == []


def test_stop_keeps_partial_text(engine, fake):
    full = "one two three four five six seven eight"
    fake.queue(full)
    turn = engine.stream("socrates", [], "count")
    got = [next(turn), next(turn), next(turn)]
    turn.close()
    # Deltas may be re-chunked by the echo hold-back; what was shown is exactly what is kept.
    assert turn.reply.text == "".join(got) and full.startswith(turn.reply.text) and len(turn.reply.text) < len(full)
    assert turn.reply.usage.finish_reason == "cancelled"


def test_error_mid_stream_keeps_partial_and_says_why(engine, fake):
    fake.queue("alpha beta gamma delta", fail_after=2)
    reply = engine.stream("socrates", [], "go").collect()
    assert reply.text == "alpha beta"
    assert reply.usage.finish_reason == "error" and reply.usage.error == "fake backend failure"


def test_error_before_start_raises(engine, fake):
    fake.queue(BackendError("server down", "unavailable"))
    with pytest.raises(BackendError, match="server down"):
        engine.stream("socrates", [], "hello")


def test_unknown_master(engine):
    with pytest.raises(UnknownMasterError):
        engine.stream("socretes", [], "hi")


def test_params_precedence_hall_then_master_then_explicit(catalog):
    settings = load_settings(backend="fake", params=SamplingParams(temperature=0.3, top_p=0.8, max_tokens=100))
    registry = BackendRegistry(settings)
    eng = ChatEngine(catalog, registry)
    socrates = catalog.get("socrates")  # its file sets temperature 0.7
    _, merged = eng.resolve(socrates)
    assert (merged.temperature, merged.top_p, merged.max_tokens) == (socrates.params.temperature, 0.8, 100)
    _, merged = eng.resolve(socrates, params=SamplingParams(temperature=0.1, max_tokens=7))
    assert (merged.temperature, merged.top_p, merged.max_tokens) == (0.1, 0.8, 7)
    eng.stream(socrates, [], "hi", params=SamplingParams(max_tokens=2)).collect()
    assert registry.get("fake").calls[-1][1].max_tokens == 2


def test_backend_precedence_explicit_then_master_then_default(catalog):
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(FakeBackend("other"))
    eng = ChatEngine(catalog, registry)
    socrates = catalog.get("socrates")
    assert eng.resolve(socrates)[0].name == "fake"
    custom = socrates.model_copy(update={"model": "other"})
    assert eng.resolve(custom)[0].name == "other"
    assert eng.resolve(custom, backend="fake")[0].name == "fake"


def test_master_finder_recommends_from_the_catalog(engine, fake):
    engine.stream("master-finder", [], "I can't sleep at night").collect()
    system = fake.calls[-1][0][0].content
    assert "sleep-coach" in system and "aaron-beck" in system and "(socrates)" in system


def test_max_tokens_limits_reply(engine, fake):
    fake.queue("a b c d e f g h")
    reply = engine.stream("socrates", [], "go", params=SamplingParams(max_tokens=3)).collect()
    assert reply.text == "a b c" and reply.usage.finish_reason == "length"
