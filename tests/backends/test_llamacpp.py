"""The llama.cpp backend's speed mechanisms, checked without a model and without timing
assertions: merged deltas, an error before any text, closing the stream, and the next-turn
pre-read (see bench/README.md, "What makes the numbers good")."""

from __future__ import annotations

import threading

import pytest

from masterhall.backends import llamacpp
from masterhall.backends.base import BackendError, ChatMessage, Usage
from masterhall.backends.llamacpp import LlamaCppBackend
from masterhall.catalog.models import SamplingParams


def _text(token: str) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": token}, "finish_reason": None}]}


END = [{"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]},
       {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 4, "prompt_tokens_details": {"cached_tokens": 5}}}]


class StubEngine:
    """Stands in for ``xllamacpp.Server``: streams the given chunks, records the callback's answers."""

    listening_address = "http://127.0.0.1:9"  # nothing listens: a pre-read fails quietly

    def __init__(self, chunks):
        self.chunks = chunks
        self.answers: list[bool] = []
        self.requests: list[dict] = []

    def handle_chat_completions(self, request, callback):
        self.requests.append(request)
        for chunk in self.chunks:
            self.answers.append(callback(chunk))
            if self.answers[-1]:
                return


def _backend(chunks, **kwargs) -> tuple[LlamaCppBackend, StubEngine]:
    backend = LlamaCppBackend("stub", "/nonexistent.gguf", threads=1, **kwargs)
    engine = StubEngine(chunks)
    backend._server = engine
    return backend, engine


def _run(backend) -> tuple[list[str], Usage]:
    items = list(backend.stream_chat([ChatMessage("user", "hi")], SamplingParams(max_tokens=4)))
    return items[:-1], items[-1]


def test_tokens_after_the_first_delta_are_merged_and_the_end_is_not_held():
    backend, _ = _backend([_text("A"), _text("B"), _text("C"), _text("D"), *END], stream_interval_s=60.0, prewarm=False)
    deltas, usage = _run(backend)
    assert deltas == ["A", "BCD"]
    assert usage.completion_tokens == 4 and usage.cached_tokens == 5 and usage.finish_reason == "length"
    assert usage.ttft_s is not None


def test_interval_zero_sends_every_token():
    backend, _ = _backend([_text("A"), _text("B"), _text("C"), _text("D"), *END], stream_interval_s=0.0, prewarm=False)
    assert _run(backend)[0] == ["A", "B", "C", "D"]


def test_an_error_before_any_text_is_raised():
    backend, _ = _backend([{"error": {"message": "prompt too long", "type": "exceed_context_size_error"}}], prewarm=False)
    with pytest.raises(BackendError) as info:
        backend.stream_chat([ChatMessage("user", "hi")], SamplingParams())
    assert info.value.kind == "context_length"


def test_closing_the_stream_stops_the_engine():
    class GatedEngine(StubEngine):
        gate = threading.Event()
        finished = threading.Event()

        def handle_chat_completions(self, request, callback):
            self.answers.append(callback(self.chunks[0]))
            self.gate.wait(5)
            for chunk in self.chunks[1:]:
                self.answers.append(callback(chunk))
                if self.answers[-1]:
                    break
            self.finished.set()

    backend = LlamaCppBackend("stub", "/nonexistent.gguf", threads=1, stream_interval_s=0.0, prewarm=False)
    engine = backend._server = GatedEngine([_text("A"), _text("B"), _text("C"), *END])
    stream = backend.stream_chat([ChatMessage("user", "hi")], SamplingParams())
    assert next(stream) == "A"
    stream.close()
    engine.gate.set()
    assert engine.finished.wait(5)
    assert engine.answers == [False, True]  # the engine's next callback is told to stop


def test_the_next_turn_is_pre_read_when_the_engine_stays_idle(monkeypatch):
    monkeypatch.setattr(llamacpp, "PREWARM_DELAY_S", 0.01)
    backend, _ = _backend([_text("Hello"), _text(" there"), *END], stream_interval_s=0.0)
    seen: list[list[dict]] = []
    done = threading.Event()

    def record(messages, key):
        seen.append(messages)
        with backend._busy:
            backend._prewarming.pop(key, None)
        done.set()

    monkeypatch.setattr(backend, "_prewarm_next_turn", record)
    _run(backend)
    assert done.wait(5)
    assert seen[0][-1] == {"role": "assistant", "content": "Hello there"}
    assert seen[0][0] == {"role": "user", "content": "hi"}


def test_no_pre_read_once_another_request_has_started(monkeypatch):
    backend, _ = _backend([], prewarm=True)
    called = []
    monkeypatch.setattr(backend, "_prewarm_next_turn", lambda messages, key: called.append(messages))
    backend._started = 3
    backend._prewarm_if_idle([{"role": "user", "content": "x"}], started=2)
    assert called == [] and not backend._prewarming


class _Rendered:
    def __init__(self, prompt):
        self.prompt = prompt

    def json(self):
        return {"prompt": self.prompt}


def test_preread_reads_the_prompt_up_to_the_end_of_the_last_message_in_the_background(monkeypatch):
    import httpx

    backend, engine = _backend([], prewarm=True)
    backend.system_role = True
    done = threading.Event()
    sent: list[dict] = []

    def apply_template(url, json, timeout):  # a ChatML-like template, rendered here
        sent.append(json)
        body = "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in json["messages"])
        return _Rendered(body + "<assistant>")

    def handle_completions(request, callback):
        engine.requests.append(request)
        done.set()

    monkeypatch.setattr(httpx, "post", apply_template)
    engine.handle_completions = handle_completions
    backend.preread([ChatMessage("system", "Be Seneca."), ChatMessage("user", "Should I quit?")])
    assert done.wait(5)
    assert sent[0]["messages"][-1]["content"].startswith("Should I quit?")
    assert engine.requests == [{"prompt": "<system>Be Seneca.</system><user>Should I quit?", "n_predict": 0,
                                "cache_prompt": True}]
    with backend._busy:
        assert backend._busy.wait_for(lambda: not backend._prereading, timeout=5)


def test_no_preread_without_a_free_slot_or_a_loaded_engine():
    backend, engine = _backend([], prewarm=True, parallel=2)
    backend.system_role = True
    backend._running = 2  # both slots answer
    backend.preread([ChatMessage("user", "hi")])
    assert not backend._prereading and engine.requests == []
    idle = LlamaCppBackend("stub", "/nonexistent.gguf", threads=1)
    idle.preread([ChatMessage("user", "hi")])  # not loaded: nothing, no load
    assert not idle.loaded and not idle._prereading


def test_no_second_preread_of_a_prompt_still_being_read():
    backend, engine = _backend([], prewarm=True)
    backend.system_role = True
    backend._prereading[99] = llamacpp._opening([{"role": "system", "content": "Be Seneca."}, {"role": "user", "content": "Should I quit?"}])
    backend.preread([ChatMessage("system", "Be Seneca."), ChatMessage("user", "Should I quit? [Socrates] said: Ask")])
    assert list(backend._prereading) == [99] and engine.requests == []  # asked again later, with more text


def test_only_a_request_that_continues_a_preread_waits_for_it():
    backend, engine = _backend([_text("A"), *END], prewarm=True)
    backend.system_role = True
    ahead = [{"role": "system", "content": "Be Seneca."}, {"role": "user", "content": "Should I quit? [Socrates] said: Ask"}]
    backend._prereading[7] = llamacpp._opening(ahead)
    params = SamplingParams(max_tokens=4)

    def ask(text: str, done: threading.Event) -> None:
        list(backend.stream_chat([ChatMessage("system", "Be Seneca."), ChatMessage("user", text)], params))
        done.set()

    other, continuing = threading.Event(), threading.Event()
    threading.Thread(target=ask, args=("How do I sleep better?", other), daemon=True).start()
    assert other.wait(5), "another conversation with the same master waited for the pre-read"
    threading.Thread(target=ask, args=("Should I quit? [Socrates] said: Ask yourself. (Now answer as yourself.)",
                                       continuing), daemon=True).start()
    assert not continuing.wait(0.5)  # it continues the prompt being read: it waits for it
    with backend._busy:
        backend._prereading.pop(7)
        backend._busy.notify_all()
    assert continuing.wait(5)
