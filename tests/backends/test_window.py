"""The context window of a remote backend (issue 13, item 3): configured, or read from the
server (vLLM, llama.cpp server, Ollama), never silently 8,192; the builder warns when a master
asks for more than its backend has."""

from __future__ import annotations

import threading

import httpx
import pytest

from masterhall import load_settings
from masterhall.backends.openai_compat import DEFAULT_CONTEXT_WINDOW, OpenAICompatBackend
from masterhall.backends.registry import BackendRegistry
from masterhall.builder.trial import context_warning
from masterhall.chat.engine import ChatEngine


def _server(routes: dict[str, dict]) -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        body = routes.get(f"{request.method} {request.url.path}")
        return httpx.Response(200, json=body) if body is not None else httpx.Response(404, text="404 page not found")

    return httpx.MockTransport(handler), seen


def _backend(routes: dict[str, dict], **kwargs) -> OpenAICompatBackend:
    transport, _ = _server(routes)
    return OpenAICompatBackend("remote", "http://model.test/v1", "qwen", transport=transport, **kwargs)


VLLM = {"GET /v1/models": {"data": [{"id": "other", "max_model_len": 4096}, {"id": "qwen", "max_model_len": 32768}]}}
LLAMACPP = {"GET /v1/models": {"data": [{"id": "qwen"}]}, "GET /props": {"default_generation_settings": {"n_ctx": 16384}}}
OLLAMA = {"GET /v1/models": {"data": [{"id": "qwen"}]},
          "POST /api/show": {"model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768}}}


@pytest.mark.parametrize(("routes", "window"), [(VLLM, 32768), (LLAMACPP, 16384), (OLLAMA, 32768)],
                         ids=["vllm", "llama.cpp", "ollama"])
def test_the_window_is_read_from_the_server(routes, window):
    backend = _backend(routes)
    assert backend.context_window == window and backend.context_source == "server"


def test_ollama_num_ctx_is_what_it_runs_with():
    routes = {"POST /api/show": {"parameters": "temperature 0.7\nnum_ctx 8192", **OLLAMA["POST /api/show"]}}
    assert _backend(routes).context_window == 8192


def test_a_configured_window_is_kept_unless_the_server_has_less():
    assert _backend({}, context_window=32768).context_window == 32768
    assert _backend(LLAMACPP, context_window=32768).context_window == 16384
    assert _backend(LLAMACPP, context_window=4096).context_window == 4096


def test_the_server_is_asked_once():
    transport, seen = _server(LLAMACPP)
    backend = OpenAICompatBackend("remote", "http://model.test/v1", "qwen", transport=transport)
    windows = []
    threads = [threading.Thread(target=lambda: windows.append(backend.context_window)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert windows == [16384] * 4 and seen == ["GET /v1/models", "GET /props"]


def test_an_unreachable_server_gets_the_default_and_is_asked_again():
    calls = []

    def down(request):
        calls.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    backend = OpenAICompatBackend("remote", "http://model.test/v1", "qwen", transport=httpx.MockTransport(down))
    assert backend.context_window == DEFAULT_CONTEXT_WINDOW
    assert backend.context_window == DEFAULT_CONTEXT_WINDOW
    assert calls == ["/v1/models", "/v1/models"]  # one try each time: no point asking the other ways


def test_masterhall_context_window_applies_to_the_openai_backend(monkeypatch):
    monkeypatch.setenv("MASTERHALL_CONTEXT_WINDOW", "32768")
    monkeypatch.setenv("MASTERHALL_OPENAI_BASE_URL", "http://model.test/v1")
    backend = BackendRegistry(load_settings()).get("openai")
    backend.transport, _ = _server({})  # the server reports nothing
    assert backend.context_window == 32768


def test_without_a_setting_the_openai_backend_asks_its_server(monkeypatch):
    monkeypatch.setenv("MASTERHALL_OPENAI_BASE_URL", "http://model.test/v1")
    monkeypatch.setenv("MASTERHALL_OPENAI_MODEL", "qwen")
    backend = BackendRegistry(load_settings()).get("openai")
    backend.transport, _ = _server(VLLM)
    assert backend.context_window == 32768


def test_the_builder_warns_when_a_master_asks_for_more_than_its_backend_has(catalog, fake):
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(fake)
    engine = ChatEngine(catalog, registry)
    base = catalog.get("socrates")
    greedy = base.model_copy(update={"params": base.params.model_copy(update={"context_window": 32768})})
    assert context_warning(engine, greedy) == {"asked": 32768, "available": fake.context_window, "backend": "fake"}
    assert context_warning(engine, base) is None
    turn = engine.stream(greedy, [], "hello", defer=True)
    from masterhall.builder.trial import debug_info

    assert debug_info(engine, turn, greedy, None, None)["context_warning"]["asked"] == 32768
    turn.close()
