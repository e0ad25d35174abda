"""Tests on the real embedded models (Qwen2.5-Coder GGUFs assembled from the PyPI chunk packages).

Tests that need *a* real model use the smaller ``embedded-small`` (0.5B) to keep CI fast; the
default ``embedded`` (1.5B) is assembled, verified and asked one question.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from masterhall import BackendRegistry, ChatEngine, ChatMessage, SamplingParams, load_catalog, load_settings
from masterhall.backends import LlamaCppBackend, OpenAICompatBackend
from masterhall.backends.embedded import EMBEDDED_MODELS, QWEN_0_5B, QWEN_1_5B, embedded_model_path
from masterhall.chat.language import detect_language

pytestmark = pytest.mark.model
GREEDY = SamplingParams(temperature=0.0, seed=42, max_tokens=80)


@pytest.fixture(scope="module")
def real_engine():
    settings = load_settings(backend="embedded-small", parallel=2)
    return ChatEngine(load_catalog(), BackendRegistry(settings))


@pytest.mark.parametrize("model", EMBEDDED_MODELS, ids=lambda m: m.backend)
def test_embedded_model_is_assembled_and_verified(model):
    path = embedded_model_path(model=model)
    assert path.stat().st_size == model.size_bytes
    assert path.with_suffix(".verified").read_text().strip().endswith(model.sha256)
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_default_embedded_model_answers_the_sleep_question():
    """The 1.5B default answers in Chinese, on topic (sleep), without running to a loop."""
    engine = ChatEngine(load_catalog(), BackendRegistry(load_settings(backend="embedded", parallel=1)))
    assert engine.registry.get().model == QWEN_1_5B.name
    params = SamplingParams(temperature=0.0, seed=1, max_tokens=120)
    reply = engine.stream("sleep-coach", [], "我每天凌晨三点醒，然后就睡不着了", params=params).collect()
    assert detect_language(reply.text) == "zh", reply.text
    assert re.search("睡|醒|床|眠", reply.text), reply.text
    assert reply.usage.finish_reason in ("stop", "length")


@pytest.mark.parametrize(
    "master, message, lang",
    [("socrates", "什么是美德？", "zh"), ("aaron-beck", "I failed my exam and I feel worthless", "en")],
)
def test_masters_answer_in_the_users_language(real_engine, master, message, lang):
    turn = real_engine.stream(master, [], message, params=GREEDY)
    deltas = list(turn)
    reply = turn.reply
    assert len(deltas) > 5, "the answer should stream in many deltas"
    assert reply.usage.finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 100 and reply.usage.completion_tokens > 5
    assert reply.usage.ttft_s is not None and reply.usage.tokens_per_s
    assert detect_language(reply.text) == lang, reply.text


def test_second_turn_reuses_the_kv_cache(real_engine):
    """Turn 2's prompt starts with turn 1's whole prompt (same system prompt and example exchange: the example is chosen
    by the first message), so the backend reads only the new tokens. The copy check is off here: a
    regeneration without an example would change turn 1's prompt and say nothing about the cache."""
    engine = ChatEngine(real_engine.catalog, real_engine.registry, checks=False)
    first = engine.stream("seneca", [], "I waste my evenings on my phone.", params=GREEDY).collect()
    history = [ChatMessage("user", "I waste my evenings on my phone."), ChatMessage("assistant", first.text)]
    second = engine.stream("seneca", history, "What should I do instead?", params=GREEDY).collect()
    assert second.usage.cached_tokens and second.usage.cached_tokens >= first.usage.prompt_tokens - 5


def test_stop_frees_the_slot_and_keeps_partial(real_engine):
    turn = real_engine.stream("li-bai", [], "Write a long poem about the moon", params=SamplingParams(max_tokens=400))
    got = [next(turn) for _ in range(5)]
    turn.close()
    assert turn.reply.usage.finish_reason == "cancelled" and turn.reply.text == "".join(got)
    after = real_engine.stream("li-bai", [], "One line about wine.", params=GREEDY).collect()
    assert after.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_openai_backend_against_a_real_llama_cpp_server():
    """Start llama.cpp's OpenAI-compatible HTTP server on 127.0.0.1 and chat through it."""
    import xllamacpp as xlc

    port = _free_port()
    params = xlc.CommonParams()
    params.model.path = str(embedded_model_path(model=QWEN_0_5B))
    params.n_ctx = 4096
    params.n_parallel = 1
    params.port = port
    params.verbosity = -1
    server = xlc.Server(params)
    try:
        assert server.listening_address.endswith(f":{port}")
        registry = BackendRegistry(load_settings(openai_base_url=f"http://127.0.0.1:{port}/v1", openai_model="qwen", backend="openai"))
        backend = registry.get()
        assert isinstance(backend, OpenAICompatBackend)
        turn = ChatEngine(load_catalog(), registry).stream("python-mentor", [], "How do I reverse a list in Python?", params=GREEDY)
        deltas = list(turn)
        assert len(deltas) > 5
        assert turn.reply.usage.completion_tokens > 5 and turn.reply.usage.prompt_tokens > 50
        assert re.search(r"reverse|\[::-1\]", turn.reply.text)
    finally:
        del server


def test_cli_one_shot_on_the_embedded_model():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERHALL_") or k == "MASTERHALL_CACHE_DIR"}
    result = subprocess.run(
        [sys.executable, "-m", "masterhall.cli", "chat", "socrates", "什么是美德？", "--max-tokens", "60", "--temperature", "0",
         "--backend", "embedded-small"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert detect_language(result.stdout) == "zh", result.stdout
    assert "tok/s" in result.stderr and "embedded" in result.stderr


def test_gguf_path_backend(real_engine):
    backend = real_engine.registry.get(str(embedded_model_path(model=QWEN_0_5B)))
    assert isinstance(backend, LlamaCppBackend)
    assert backend.count_tokens("hello world") == 2


def test_stop_while_a_long_prompt_is_read_ends_at_once(real_engine):
    """Issue 13.1 on the real engine: a Stop while a long prompt is read (no token yet) ends the
    request well before the prompt would have been read, and the next request is served."""
    import threading
    import time

    from masterhall.backends.base import CancelToken, cancel_scope

    backend = real_engine.registry.get()
    long_text = " ".join(f"Note {i}: the meeting moved to room {i % 7} at {i % 12} o'clock." for i in range(190))
    messages = [ChatMessage("system", "You are a helpful assistant."), ChatMessage("user", long_text + "\nSummarise the notes.")]
    full = backend.count_tokens(long_text)
    token = CancelToken()
    threading.Timer(0.5, token.cancel).start()
    started = time.monotonic()
    with cancel_scope(token):
        items = list(backend.stream_chat(messages, SamplingParams(max_tokens=20)))
    elapsed = time.monotonic() - started
    assert items[-1].finish_reason == "cancelled" and not [i for i in items[:-1] if i]
    # reading it all takes ≥ 15 s on 2 cores (~200 prompt tokens/s); a Stop ends it within a batch of 512
    assert full > 3000 and elapsed < 6.0, (full, elapsed)
    after = real_engine.stream("li-bai", [], "One line about wine.", params=GREEDY).collect()
    assert after.text
