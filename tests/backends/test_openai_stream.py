"""The one reader of OpenAI-style streamed chunks, on canned chunks, and both backends that use
it fed the same canned streams (llama.cpp through a stand-in engine, the OpenAI-compatible one
through an httpx mock transport): they must agree on text, usage, timings and errors."""

from __future__ import annotations

import json

import httpx
import pytest

from masterhall.backends.base import BackendError, ChatMessage
from masterhall.backends.llamacpp import LlamaCppBackend
from masterhall.backends.openai_compat import OpenAICompatBackend
from masterhall.backends.openai_stream import DONE, UsageMeter, error_kind, error_message, parse_chunk, parse_sse_line
from masterhall.catalog.models import SamplingParams


def text(token: str) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": token}, "finish_reason": None}]}


ROLE = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}]}
FINISH = {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
USAGE = {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 5}},
         "timings": {"predicted_per_second": 42.5, "prompt_per_second": 900.0}}
NULL_USAGE = {"choices": [], "usage": {"prompt_tokens": None, "completion_tokens": None}}
CONTEXT_ERROR = {"error": {"message": "the request exceeds the available context size", "type": "exceed_context_size_error"}}
SERVER_ERROR = {"error": {"message": "slot crashed", "type": "server_error"}}


# -- the parser ----------------------------------------------------------------------------------

def test_a_chunk_gives_its_text_finish_usage_and_timings():
    assert parse_chunk(text("Hi")).text == "Hi" and parse_chunk(text("Hi")).plain
    assert parse_chunk(ROLE).text == "" and parse_chunk(ROLE).finish is None
    assert parse_chunk(FINISH).finish == "length" and not parse_chunk(FINISH).plain
    stop = {"choices": [{"delta": {}, "finish_reason": "eos"}]}
    assert parse_chunk(stop).finish == "stop"
    last = parse_chunk(USAGE)
    assert last.usage["completion_tokens"] == 3 and last.timings["predicted_per_second"] == 42.5 and not last.plain
    assert parse_chunk("not a dict").text == "" and parse_chunk(None).error is None


def test_errors_are_classified_by_type_or_code_then_text():
    assert parse_chunk(CONTEXT_ERROR).error.kind == "context_length"
    assert parse_chunk(SERVER_ERROR).error.kind == "bad_request"
    assert parse_chunk(SERVER_ERROR).error.message == "slot crashed"
    assert error_kind({"code": "context_length_exceeded", "message": "too long"}) == "context_length"
    assert error_kind({"message": "maximum context length is 4096 tokens"}) == "context_length"
    assert error_kind({"type": "invalid_request_error", "message": "context is fine, the model is not"}) == "bad_request"
    assert error_kind('{"error": {"code": "context_length_exceeded"}}') == "context_length"
    assert error_kind("plain text about the context window") == "context_length"
    assert error_message('{"error": {"message": "no such model"}}') == "no such model"
    assert error_message(b"Bad Gateway") == "Bad Gateway"
    assert len(error_message("x" * 2000)) == 500


def test_sse_lines():
    assert parse_sse_line('data: {"choices": [{"delta": {"content": "A"}}]}').text == "A"
    assert parse_sse_line("data: [DONE]") is DONE
    assert parse_sse_line(": keep-alive") is None and parse_sse_line("event: x") is None
    assert parse_sse_line("data: {broken") is None


def test_the_meter_counts_usage_null_counts_as_zero_and_falls_back_to_deltas():
    meter = UsageMeter(start=0.0)
    for chunk in (ROLE, text("a"), text("b"), NULL_USAGE):
        meter.add(parse_chunk(chunk))
    usage = meter.done()
    assert usage.prompt_tokens == 0 and usage.completion_tokens == 2  # null → 0, then one per text chunk
    assert usage.ttft_s is not None and usage.finish_reason == "stop"
    meter = UsageMeter(start=0.0)
    for chunk in (text("a"), FINISH, USAGE):
        meter.add(parse_chunk(chunk))
    usage = meter.done()
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (7, 3, 5)
    assert usage.tokens_per_s == 42.5 and usage.extra["prompt_per_second"] == 900.0 and usage.finish_reason == "length"
    failed = UsageMeter(start=0.0)
    failed.add(parse_chunk(text("a")))
    failed.add(parse_chunk(SERVER_ERROR))
    assert failed.done().finish_reason == "error" and failed.usage.error == "slot crashed"


# -- both backends on the same canned streams ----------------------------------------------------

class StubEngine:
    """Stands in for ``xllamacpp.Server``: calls back with the given chunks."""

    listening_address = "http://127.0.0.1:9"

    def __init__(self, chunks):
        self.chunks = chunks

    def handle_chat_completions(self, request, callback):
        for chunk in self.chunks:
            if callback(chunk):
                return


def llamacpp(chunks) -> LlamaCppBackend:
    backend = LlamaCppBackend("stub", "/nonexistent.gguf", threads=1, stream_interval_s=0.0, prewarm=False)
    backend._server = StubEngine(chunks)
    return backend


def openai(chunks, status: int = 200) -> OpenAICompatBackend:
    def handler(request: httpx.Request) -> httpx.Response:
        if status >= 400:
            return httpx.Response(status, json=chunks)
        body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    return OpenAICompatBackend("remote", "http://model.test/v1", "m", transport=httpx.MockTransport(handler))


BACKENDS = [pytest.param(llamacpp, id="llamacpp"), pytest.param(openai, id="openai")]


def run(backend):
    items = list(backend.stream_chat([ChatMessage("user", "hi")], SamplingParams(max_tokens=8)))
    return items[:-1], items[-1]


@pytest.mark.parametrize("make", BACKENDS)
def test_text_usage_and_timings(make):
    deltas, usage = run(make([ROLE, text("Hel"), text("lo"), FINISH, USAGE]))
    assert "".join(deltas) == "Hello"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (7, 3, 5)
    assert usage.tokens_per_s == 42.5 and usage.finish_reason == "length" and usage.ttft_s is not None


@pytest.mark.parametrize("make", BACKENDS)
def test_null_token_counts(make):
    deltas, usage = run(make([text("a"), text("b"), NULL_USAGE]))
    assert usage.prompt_tokens == 0 and usage.completion_tokens == 2


@pytest.mark.parametrize("make", BACKENDS)
def test_an_error_before_any_text_is_raised_with_its_kind(make):
    for chunks, kind in (([CONTEXT_ERROR], "context_length"), ([ROLE, SERVER_ERROR], "bad_request")):
        with pytest.raises(BackendError) as info:
            make(chunks).stream_chat([ChatMessage("user", "hi")], SamplingParams())
        assert info.value.kind == kind


@pytest.mark.parametrize("make", BACKENDS)
def test_an_error_after_some_text_ends_the_stream_keeping_the_text(make):
    deltas, usage = run(make([text("partial"), SERVER_ERROR, text("never")]))
    assert "".join(deltas) == "partial"
    assert usage.finish_reason == "error" and usage.error == "slot crashed"


def test_an_http_error_status_is_raised_with_its_kind():
    with pytest.raises(BackendError) as info:
        openai({"error": {"message": "prompt too long", "code": "context_length_exceeded"}}, status=400).stream_chat(
            [ChatMessage("user", "hi")], SamplingParams())
    assert info.value.kind == "context_length" and "prompt too long" in str(info.value)
    with pytest.raises(BackendError) as info:
        openai({"error": {"message": "overloaded"}}, status=503).stream_chat([ChatMessage("user", "hi")], SamplingParams())
    assert info.value.kind == "unavailable"
