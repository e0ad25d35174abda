"""Named backends from the settings: resolve a name (or a GGUF path) to a backend object."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import BackendConfig, Settings
from .base import Backend, BackendError
from .embedded import MODEL_NAME, Progress, embedded_model_path
from .fake import FakeBackend
from .llamacpp import LlamaCppBackend
from .openai_compat import OpenAICompatBackend


@dataclass(frozen=True)
class BackendInfo:
    """What ``masterhall models`` lists: name, type, model and where it comes from."""

    name: str
    type: str
    model: str
    source: str
    default: bool


class BackendRegistry:
    """The backends a hall knows, created on first use and then reused.

    Built in: ``embedded`` (llama.cpp on the packaged GGUF, or ``settings.model_path``) and
    ``fake``; ``openai`` when ``settings.openai_base_url`` is set; plus every ``[backends.NAME]``
    of the config file (which may redefine the built-in names). ``progress`` is called while the
    embedded GGUF is assembled on first use.
    """

    def __init__(self, settings: Settings, progress: Progress | None = None):
        self.settings = settings
        self.progress = progress
        self._configs = self._collect(settings)
        self._instances: dict[str, Backend] = {}
        self._lock = threading.RLock()  # one backend object per name, even when asked from many threads

    @staticmethod
    def _collect(settings: Settings) -> dict[str, BackendConfig]:
        configs = {
            "embedded": BackendConfig(type="llamacpp", model_path=settings.model_path),
            "fake": BackendConfig(type="fake"),
        }
        if settings.openai_base_url:
            configs["openai"] = BackendConfig(
                type="openai",
                base_url=settings.openai_base_url,
                model=settings.openai_model or "default",
                api_key_env=settings.openai_api_key_env,
            )
        configs.update(settings.backends)
        return configs

    def names(self) -> list[str]:
        """Every configured backend name."""
        return list(self._configs)

    @property
    def default_name(self) -> str:
        """The default backend's name (``settings.backend``)."""
        return self.settings.backend

    def register(self, backend: Backend) -> None:
        """Add or replace a ready backend object under ``backend.name`` (used by tests and embedders)."""
        self._instances[backend.name] = backend
        self._configs.setdefault(backend.name, BackendConfig(type="fake"))

    def get(self, spec: str | None = None) -> Backend:
        """The backend named ``spec`` (default backend when ``None``); a ``.gguf`` path gives an ad-hoc llama.cpp backend.

        Raises :class:`BackendError` (``unavailable``) for an unknown name or a missing GGUF.
        """
        name = spec or self.default_name
        if name in self._instances:
            return self._instances[name]
        with self._lock:
            if name in self._instances:
                return self._instances[name]
            return self._create_named(name)

    def _create_named(self, name: str) -> Backend:
        if name in self._configs:
            backend = self._create(name, self._configs[name])
        elif name.lower().endswith(".gguf"):
            path = Path(name).expanduser()
            if not path.is_file():
                raise BackendError(f"GGUF model file not found: {path}", "unavailable")
            backend = self._llamacpp(name, BackendConfig(type="llamacpp", model_path=str(path)))
        else:
            raise BackendError(
                f"Unknown backend '{name}'. Known: {', '.join(self.names())} (or a path to a .gguf file).",
                "unavailable",
            )
        self._instances[name] = backend
        return backend

    def _create(self, name: str, cfg: BackendConfig) -> Backend:
        if cfg.type == "fake":
            return FakeBackend(name, delay_s=cfg.delay_s, context_window=cfg.context_window or 4096)
        if cfg.type == "openai":
            if not cfg.base_url:
                raise BackendError(f"backend '{name}': base_url is required for type openai", "unavailable")
            return OpenAICompatBackend(
                name, cfg.base_url, cfg.model or "default", api_key_env=cfg.api_key_env,
                context_window=cfg.context_window or 8192,
            )
        return self._llamacpp(name, cfg)

    def _llamacpp(self, name: str, cfg: BackendConfig) -> LlamaCppBackend:
        if cfg.model_path:
            path, label = Path(cfg.model_path).expanduser(), None
        else:
            path, label = embedded_model_path(self.progress), MODEL_NAME
        return LlamaCppBackend(
            name,
            path,
            context_window=cfg.context_window or self.settings.context_window,
            parallel=cfg.parallel or self.settings.parallel,
            threads=cfg.threads or self.settings.threads,
            model_label=label,
        )

    def describe(self) -> list[BackendInfo]:
        """Info on every configured backend, without loading any model."""
        rows = []
        for name, cfg in self._configs.items():
            if cfg.type == "llamacpp":
                model = Path(cfg.model_path).name if cfg.model_path else f"{MODEL_NAME}.gguf"
                source = cfg.model_path or "embedded (PyPI package)"
            elif cfg.type == "openai":
                model, source = cfg.model or "default", cfg.base_url or ""
            else:
                model, source = "fake", "deterministic replies"
            rows.append(BackendInfo(name, cfg.type, model, source, name == self.default_name))
        return rows


