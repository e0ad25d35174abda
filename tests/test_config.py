import pytest

from masterhall import BackendError, BackendRegistry, load_settings
from masterhall.backends import FakeBackend, LlamaCppBackend, OpenAICompatBackend

CONFIG = """
backend = "local"
context_window = 2048

[params]
temperature = 0.2

[backends.local]
type = "openai"
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5:0.5b"
api_key_env = "OLLAMA_KEY"
context_window = 32768

[backends.small]
type = "llamacpp"
model_path = "/nowhere/model.gguf"
parallel = 2
"""


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("MASTERHALL_CONFIG", str(path))
    return path


def test_defaults():
    settings = load_settings()
    assert settings.backend == "embedded" and settings.context_window == 4096
    registry = BackendRegistry(settings)
    assert registry.names() == ["embedded", "embedded-small", "fake"]


def test_config_file_names_backends(config_file):
    settings = load_settings()
    assert settings.backend == "local" and settings.params.temperature == 0.2
    registry = BackendRegistry(settings)
    local = registry.get()
    assert isinstance(local, OpenAICompatBackend)
    assert (local.base_url, local.model, local.api_key_env, local.context_window) == (
        "http://127.0.0.1:11434/v1", "qwen2.5:0.5b", "OLLAMA_KEY", 32768)
    assert {r.name for r in registry.describe()} == {"embedded", "embedded-small", "fake", "local", "small"}
    assert [r.name for r in registry.describe() if r.default] == ["local"]


def test_env_overrides_file_and_cli_overrides_env(config_file, monkeypatch):
    monkeypatch.setenv("MASTERHALL_BACKEND", "fake")
    monkeypatch.setenv("MASTERHALL_CONTEXT_WINDOW", "8192")
    settings = load_settings()
    assert settings.backend == "fake" and settings.context_window == 8192
    assert isinstance(BackendRegistry(settings).get(), FakeBackend)
    assert load_settings(backend="embedded").backend == "embedded"


def test_openai_backend_from_env(monkeypatch):
    monkeypatch.setenv("MASTERHALL_OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    monkeypatch.setenv("MASTERHALL_OPENAI_MODEL", "llama3")
    backend = BackendRegistry(load_settings()).get("openai")
    assert isinstance(backend, OpenAICompatBackend) and backend.model == "llama3"


def test_unknown_backend_and_missing_gguf(config_file, tmp_path):
    registry = BackendRegistry(load_settings())
    with pytest.raises(BackendError, match="Unknown backend 'nope'.*Known: embedded, embedded-small, fake, local, small"):
        registry.get("nope")
    with pytest.raises(BackendError, match="not found"):
        registry.get(str(tmp_path / "missing.gguf"))
    small = registry.get("small")
    assert isinstance(small, LlamaCppBackend) and small.parallel == 2 and small.context_window == 2048
    with pytest.raises(BackendError, match="not found"):
        small.load()


def test_unreachable_openai_server_is_a_clear_error(catalog):
    from masterhall import ChatEngine

    registry = BackendRegistry(load_settings(openai_base_url="http://127.0.0.1:9/v1", backend="openai"))
    with pytest.raises(BackendError, match="cannot reach") as info:
        ChatEngine(catalog, registry).stream("socrates", [], "hi")
    assert info.value.kind == "unavailable"
