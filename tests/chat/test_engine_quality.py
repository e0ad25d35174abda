"""The engine's quality features: sampling defaults per model, example choice, the reply recipe,
echo regeneration and loop ending (fake backend)."""

from __future__ import annotations

import numpy as np
import pytest

from masterhall import BackendRegistry, ChatEngine, FakeBackend, SamplingParams, load_settings
from masterhall.backends.sampling import model_defaults, model_max_temperature, request_fields
from masterhall.catalog.models import Example
from masterhall.chat.examples import EncoderExampleSelector, LexicalExampleSelector, examples_in
from masterhall.chat.prompt import PromptOptions


def _engine(catalog, fake, **kw) -> ChatEngine:
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(fake)
    return ChatEngine(catalog, registry, **kw)


# -- sampling -----------------------------------------------------------------------------------
def test_model_defaults_come_from_the_publishers_settings():
    qwen = model_defaults("qwen2.5-coder-1.5b-instruct-q4_k_m")
    assert (qwen.temperature, qwen.top_p, qwen.top_k, qwen.repeat_penalty) == (0.7, 0.8, 20, 1.1)
    assert model_defaults("Qwen2.5-7B-Instruct").repeat_penalty == 1.05
    assert model_defaults("llama-3.1-8b-instruct").temperature == 0.6
    assert model_defaults("some-unknown-model") == SamplingParams()


def test_backend_defaults_merge_under_hall_master_and_explicit(catalog):
    fake = FakeBackend("fake")
    fake.default_params = SamplingParams(temperature=0.7, top_p=0.8, top_k=20, repeat_penalty=1.1)
    eng = _engine(catalog, fake)
    sleep = catalog.get("sleep-coach")  # its file sets temperature 0.6
    _, merged = eng.resolve(sleep)
    assert (merged.temperature, merged.top_p, merged.top_k, merged.repeat_penalty, merged.max_tokens) == (0.6, 0.8, 20, 1.1, 512)
    _, merged = eng.resolve(sleep, params=SamplingParams(top_k=40))
    assert merged.top_k == 40 and merged.temperature == 0.6
    eng.stream(sleep, [], "hello", params=SamplingParams(top_k=5)).collect()
    assert fake.calls[-1][1].top_k == 5 and fake.calls[-1][1].repeat_penalty == 1.1


def test_small_models_cap_the_masters_temperature_not_the_callers(catalog):
    assert model_max_temperature("qwen2.5-coder-1.5b-instruct-q4_k_m") == 0.3
    assert model_max_temperature("Qwen2.5-0.5B-Instruct") == 0.3
    assert model_max_temperature("Qwen2.5-7B-Instruct") is None and model_max_temperature("llama-3.1-8b") is None
    fake = FakeBackend("fake")
    fake.max_temperature = 0.3
    eng = _engine(catalog, fake)
    poet = catalog.get("li-bai")
    assert poet.params.temperature > 0.3
    _, merged = eng.resolve(poet)
    assert merged.temperature == 0.3  # the master's own temperature, capped
    _, merged = eng.resolve(poet, params=SamplingParams(temperature=0.9))
    assert merged.temperature == 0.9  # a caller's explicit temperature is kept
    low = catalog.get("gtd-coach").model_copy(update={"params": SamplingParams(temperature=0.2)})
    assert eng.resolve(low)[1].temperature == 0.2  # under the cap: unchanged
    fake.max_temperature = None
    assert eng.resolve(poet)[1].temperature == poet.params.temperature


def test_a_backend_config_sets_or_lifts_the_cap():
    from masterhall.config import BackendConfig

    url, model = "http://127.0.0.1:9/v1", "qwen2.5-1.5b-instruct"
    settings = load_settings(backends={"big": BackendConfig(type="openai", base_url=url, model=model),
                                       "lifted": BackendConfig(type="openai", base_url=url, model=model, max_temperature=2.0)})
    registry = BackendRegistry(settings)
    assert registry.get("big").max_temperature == 0.3 and registry.get("lifted").max_temperature == 2.0


def test_request_fields_leave_out_unset_and_context_window():
    fields = request_fields(SamplingParams(temperature=0.5, top_k=20, context_window=8192, repeat_penalty=1.1))
    assert fields == {"temperature": 0.5, "top_k": 20, "repeat_penalty": 1.1}


# -- examples and the recipe ----------------------------------------------------------------------
def _with_examples(master, pairs):
    return master.model_copy(update={"examples": [Example(user=u, assistant=a) for u, a in pairs]})


def test_lexical_selector_picks_the_nearest_examples_in_the_language(catalog):
    master = _with_examples(catalog.get("sleep-coach"), [
        ("I drink coffee at 5pm and can't fall asleep", "Move the last coffee before 1pm. When is yours?"),
        ("My baby wakes me up three times a night", "Sleep when the baby sleeps. Who can take one feed?"),
        ("我晚上总刷手机到两点", "今晚十二点把手机放到卧室外。几点放下比较现实？"),
    ])
    picked = LexicalExampleSelector().select(master, "en", "too much coffee keeps me awake at night", 1)
    assert [ex.user for ex in picked] == ["I drink coffee at 5pm and can't fall asleep"]
    zh = LexicalExampleSelector().select(master, "zh", "睡前刷手机停不下来", 2)
    assert [ex.user for ex in zh] == ["我晚上总刷手机到两点"]  # only the Chinese one


class _ToyEncoder:
    """Vectors from a few keywords, so nearness is predictable."""

    name, dim = "toy", 3
    _axes = ("coffee", "baby", "work")

    def _vec(self, text):
        v = np.array([text.lower().count(k) for k in self._axes], dtype=np.float32) + 1e-3
        return v / np.linalg.norm(v)

    def encode_documents(self, texts):
        return np.stack([self._vec(t) for t in texts])

    def encode_query(self, text):
        return self._vec(text)


def test_encoder_selector_uses_embeddings_and_falls_back(catalog):
    master = _with_examples(catalog.get("sleep-coach"), [
        ("coffee coffee question", "a"), ("baby question", "b"), ("work stress question", "c")])
    selector = EncoderExampleSelector(_ToyEncoder())
    assert [ex.assistant for ex in selector.select(master, "en", "my baby again", 1)] == ["b"]

    class Broken(_ToyEncoder):
        def encode_query(self, text):
            raise RuntimeError("no model")

    assert len(EncoderExampleSelector(Broken()).select(master, "en", "baby", 2)) == 2


def test_compact_style_ends_the_system_prompt_with_the_recipe(catalog, fake):
    from masterhall.catalog.models import Recipe

    recipe = Recipe(zh=["先问一个问题。", "不讲大道理。", "以一个问题结束。"],
                    en=["Ask one short question first.", "Do not lecture.", "End with exactly one question."])
    socrates = catalog.get("socrates").model_copy(update={"recipe": recipe})
    fake.prompt_style = "compact"
    eng = _engine(catalog, fake, prompt=PromptOptions(examples=1, placement="system"))
    eng.stream(socrates, [], "What is courage?").collect()
    system = fake.calls[-1][0][0].content
    assert system.rstrip().endswith(socrates.recipe.en[-1])
    assert "(another person, another question" in system  # one example, quoted as an illustration
    fake.prompt_style = "full"
    eng.stream(socrates, [], "What is courage?").collect()
    assert socrates.recipe.en[-1] not in fake.calls[-1][0][0].content


def test_three_examples_are_shown_by_default_as_turns_in_the_masters_order(catalog, fake):
    eng = _engine(catalog, fake)
    master = catalog.get("sleep-coach")
    own = examples_in(master, "zh")
    assert len(own) == 3
    eng.stream(master, [], "我每天凌晨三点醒，然后就睡不着了").collect()
    sent = fake.calls[-1][0]
    assert [m.role for m in sent] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert [m.content for m in sent[1:-1]] == [t for ex in own for t in (ex.user, ex.assistant)]
    assert not any(ex.assistant in sent[0].content for ex in master.examples)  # not quoted as well


def test_every_conversation_with_a_master_opens_with_the_same_prompt(catalog, fake):
    """Whatever the first message, a new conversation's prompt opens as every earlier one did
    (system prompt and examples), so the model's KV cache serves its first turn."""
    eng = _engine(catalog, fake)
    master = catalog.get("sleep-coach")
    for message in ("I wake at 3am and can't get back to sleep", "my baby wakes me up three times a night",
                    "is a nap after lunch bad for me?"):
        eng.stream(master, [], message).collect()
    openings = [call[0][:-1] for call in fake.calls[-3:]]
    assert openings[0] == openings[1] == openings[2] and len(openings[0]) == 7


def test_the_nearest_examples_are_chosen_when_fewer_are_shown(catalog, fake):
    master = _with_examples(catalog.get("sleep-coach"), [
        ("I drink coffee at 5pm and can't fall asleep", "Move the last coffee before 1pm. When is yours?"),
        ("My baby wakes me up three times a night", "Sleep when the baby sleeps. Who can take one feed?"),
        ("I lie awake worrying about work", "Write the worry down and one next step. What is on the list?"),
    ])
    eng = _engine(catalog, fake, prompt=PromptOptions(examples=2))
    eng.stream(master, [], "coffee at 5pm and then my baby wakes me up").collect()
    shown = [m.content for m in fake.calls[-1][0][1:-1] if m.role == "user"]
    # the two nearest, in the master's order (the nearest, the baby, second)
    assert shown == ["I drink coffee at 5pm and can't fall asleep", "My baby wakes me up three times a night"]


def test_no_example_in_the_other_language(catalog):
    """With no example left in the person's language, none is shown (not one in the other language)."""
    master = _with_examples(catalog.get("sleep-coach"), [("我晚上总刷手机到两点", "今晚十二点把手机放到卧室外。")])
    assert examples_in(master, "en") == []
    assert LexicalExampleSelector().select(master, "en", "I scroll my phone until 2am", 1) == []


def test_examples_follow_the_first_message_so_the_prompt_prefix_stays_cached(catalog, fake):
    """Turn 2's prompt begins with turn 1's system prompt unchanged (the KV cache covers it)."""
    from masterhall.backends.base import ChatMessage

    master = _with_examples(catalog.get("sleep-coach"), [
        ("I drink coffee at 5pm and can't fall asleep", "Move the last coffee before 1pm. When is yours?"),
        ("My baby wakes me up three times a night", "Sleep when the baby sleeps. Who can take one feed?"),
    ])
    eng = _engine(catalog, fake, prompt=PromptOptions(examples=1))
    fake.queue("Stop caffeine after noon for a week. What time is your last cup?")
    first = eng.stream(master, [], "too much coffee keeps me awake").collect()
    history = [ChatMessage("user", "too much coffee keeps me awake"), ChatMessage("assistant", first.text)]
    eng.stream(master, history, "and my baby wakes me up three times a night").collect()
    one, two = fake.calls[-2][0], fake.calls[-1][0]
    assert [m.content for m in two[:3]] == [m.content for m in one[:3]]  # system prompt + example turns
    assert one[2].content.startswith("Move the last coffee")
    assert [m.content for m in two[3:5]] == [m.content for m in history]


# -- echo and loops -----------------------------------------------------------------------------
def test_an_answer_copying_an_example_is_regenerated_without_any_example(catalog, fake):
    master = catalog.get("sleep-coach")
    eng = _engine(catalog, fake, prompt=PromptOptions(examples=2, placement="turns"))
    example = LexicalExampleSelector().select(master, "en", "I wake at 3am and worry", 1)[0]
    fake.queue(example.assistant, "Let's start with one thing tonight: keep a notepad by the bed. When do you get up?")
    turn = eng.stream(master, [], "I wake at 3am and worry")
    shown = "".join(turn)
    assert shown == "Let's start with one thing tonight: keep a notepad by the bed. When do you get up?"
    first, second = fake.calls[-2][0], fake.calls[-1][0]
    assert any(m.content == example.assistant for m in first)
    assert all(m.content != example.assistant for m in second)  # regenerated without that example
    # ... and without the next-closest one either: a model that copied one copies the other too
    assert not any(m.content == ex.assistant for ex in master.examples for m in second)
    assert len(second) < len(first)
    assert any("regenerated once" in note for note in turn.reply.notes)


def test_an_answer_copying_the_instructions_is_regenerated_without_examples(catalog, fake):
    master = catalog.get("sleep-coach")
    eng = _engine(catalog, fake, prompt=PromptOptions(examples=1, placement="turns"))
    fake.queue(master.instructions[:80], "Keep a notepad by the bed tonight. When do you get up?")
    reply = eng.stream(master, [], "I wake at 3am and worry").collect()
    assert reply.text == "Keep a notepad by the bed tonight. When do you get up?"
    first, second = fake.calls[-2][0], fake.calls[-1][0]
    assert any(m.content == ex.assistant for ex in master.examples for m in first)
    assert not any(m.content == ex.assistant for ex in master.examples for m in second)


def test_a_copy_after_some_text_continues_from_what_was_shown(catalog, fake):
    master = catalog.get("sleep-coach")
    eng = _engine(catalog, fake, prompt=PromptOptions(examples=1, placement="system"))
    example = LexicalExampleSelector().select(master, "en", "I wake at 3am and worry", 1)[0]
    fake.queue("Good question. " + example.assistant, "keep a notepad by the bed.")
    reply = eng.stream(master, [], "I wake at 3am and worry").collect()
    assert reply.text.startswith("Good question. ") and reply.text.endswith("keep a notepad by the bed.")
    assert example.assistant not in reply.text
    continued = fake.calls[-1][0]
    assert continued[-1].role == "assistant" and continued[-1].content.startswith("Good question.")  # prefill


def test_a_second_copy_is_kept_and_noted(catalog, fake):
    master = catalog.get("sleep-coach")
    eng = _engine(catalog, fake, prompt=PromptOptions(examples=1, placement="system"))
    copied = master.instructions[:60]
    fake.queue(copied, copied)
    reply = eng.stream(master, [], "I wake at 3am and worry").collect()
    assert reply.text == copied and len(fake.calls) == 2
    assert any("copies" in note for note in reply.notes)


def test_a_loop_ends_the_answer_early(catalog, fake):
    eng = _engine(catalog, fake)
    fake.queue("尊重和牺牲、" * 200)
    reply = eng.stream("confucius", [], "婚姻里最重要的是什么？").collect()
    assert reply.usage.finish_reason == "loop"
    assert len(reply.text) < 200  # stopped long before the 1,200 characters of the loop
    assert any("repeating" in note for note in reply.notes)


def test_checks_can_be_turned_off(catalog, fake):
    eng = _engine(catalog, fake, checks=False)
    fake.queue("尊重和牺牲、" * 30)
    reply = eng.stream("confucius", [], "婚姻里最重要的是什么？").collect()
    assert reply.usage.finish_reason == "stop" and reply.text == "尊重和牺牲、" * 30


@pytest.mark.parametrize("style", ["compact", "full"])
def test_registry_gives_embedded_models_the_compact_style(style):
    from masterhall.config import BackendConfig

    settings = load_settings(backend="fake", backends={"x": BackendConfig(type="fake", prompt_style=style,
                                                                           params=SamplingParams(top_k=7))})
    backend = BackendRegistry(settings).get("x")
    assert backend.prompt_style == style and backend.default_params.top_k == 7


def test_the_guide_naming_the_same_masters_as_its_example_is_not_a_copy(catalog):
    from masterhall.chat.checks import find_echo
    from masterhall.chat.prompt import BuiltPrompt
    from masterhall.chat.stream_checks import echo_sources

    guide = catalog.get("master-finder")
    example = guide.examples[0]
    built = BuiltPrompt(messages=[], tokens=[], context_window=4096, reply_reserve=512, examples=[example])
    texts, _ = echo_sources(guide, built)
    naming = next(line for line in example.assistant.splitlines() if "(" in line and ")" in line)
    assert find_echo(naming, texts) is None  # "Name (id) — reason" is the guide's format, not a copy
    assert find_echo(example.assistant.splitlines()[0], texts) is not None  # its framing sentence still is
    advisor = catalog.get("sleep-coach")
    texts, _ = echo_sources(advisor, BuiltPrompt([], [], 4096, 512, examples=[advisor.examples[0]]))
    assert find_echo(advisor.examples[0].assistant, texts) is not None
