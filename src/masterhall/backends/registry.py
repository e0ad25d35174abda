"""Named backends from the settings: resolve a name (or a GGUF path) to a backend object."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import BackendConfig, Settings
from .base import Backend, BackendError, UnknownBackendError
from .embedded import DEFAULT_MODEL, EMBEDDED_MODELS, EmbeddedModel, Progress, embedded_model_path
from .fake import FakeBackend
from .llamacpp import LlamaCppBackend
from .openai_compat import OpenAICompatBackend
from .pool import PoolBackend


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

    Built in: ``embedded`` (llama.cpp on the packaged Qwen2.5-Coder-1.5B, or
    ``settings.model_path``), ``embedded-small`` (the packaged Qwen2.5-Coder-0.5B) and ``fake``;
    ``openai`` when ``settings.openai_base_url`` is set; plus every ``[backends.NAME]`` of the
    config file (which may redefine the built-in names; a ``llamacpp`` backend without
    ``model_path`` serves the embedded model whose name is its ``model``, the default one when
    unset). ``progress`` is called while an embedded GGUF is assembled on first use.

    ``allow_paths``: whether a name that is not configured but ends in ``.gguf`` loads that file
    (the command line: ``masterhall chat --backend model.gguf``). The web app turns it off
    (strict mode): there a request may only name a configured backend — the configured names,
    the default backend (which may be a path given to ``masterhall serve --backend``) and
    registered objects — so no request can make the server open a file it names.
    """

    def __init__(self, settings: Settings, progress: Progress | None = None, *, allow_paths: bool = True):
        self.settings = settings
        self.progress = progress
        self.allow_paths = allow_paths
        self._configs = self._collect(settings)
        self._instances: dict[str, Backend] = {}
        self._lock = threading.RLock()  # one backend object per name, even when asked from many threads

    @staticmethod
    def _collect(settings: Settings) -> dict[str, BackendConfig]:
        configs = {
            "embedded": BackendConfig(type="llamacpp", model_path=settings.model_path),
            **{m.backend: BackendConfig(type="llamacpp", model=m.name) for m in EMBEDDED_MODELS if m is not DEFAULT_MODEL},
            "fake": BackendConfig(type="fake"),
        }
        if settings.openai_base_url:
            urls = [u.strip() for u in settings.openai_base_url.split(",") if u.strip()]  # several: a pool
            configs["openai"] = BackendConfig(
                type="openai",
                base_url=urls[0] if len(urls) == 1 else None,
                base_urls=urls if len(urls) > 1 else None,
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

    def configured(self, spec: str | None) -> bool:
        """True when ``spec`` is the operator's choice: ``None`` (the default), the default
        backend's name, a configured name or a registered backend — never a path a caller made up."""
        return not spec or spec == self.default_name or spec in self._configs or spec in self._instances

    def _paths(self, allow_paths: bool | None) -> bool:
        return self.allow_paths if allow_paths is None else allow_paths

    def check(self, spec: str | None, *, allow_paths: bool | None = None) -> None:
        """Raise :class:`UnknownBackendError` (listing the configured names) unless :meth:`get`
        may serve ``spec``: a configured name (see :meth:`configured`) or, when paths are allowed
        (``allow_paths``, default :attr:`allow_paths`), a ``.gguf`` path. Loads nothing."""
        if not self.knows(spec, allow_paths=allow_paths):
            raise UnknownBackendError(spec or "", self.names(), paths=self._paths(allow_paths))

    def knows(self, spec: str | None, *, allow_paths: bool | None = None) -> bool:
        """True when :meth:`get` would find ``spec``: a configured name or, when paths are allowed
        (``allow_paths``, default :attr:`allow_paths`), a ``.gguf`` path (``None``: the default)."""
        return self.configured(spec) or (self._paths(allow_paths) and spec.lower().endswith(".gguf"))

    def get(self, spec: str | None = None, *, allow_paths: bool | None = None) -> Backend:
        """The backend named ``spec`` (default backend when ``None``); a ``.gguf`` path gives an
        ad-hoc llama.cpp backend when paths are allowed (``allow_paths``, default :attr:`allow_paths`).

        Raises :class:`UnknownBackendError` for an unknown name (or a path in strict mode) and
        :class:`BackendError` (``unavailable``) for a missing GGUF.
        """
        self.check(spec, allow_paths=allow_paths)
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
            raise UnknownBackendError(name, self.names())
        self._instances[name] = backend
        return backend

    def _create(self, name: str, cfg: BackendConfig) -> Backend:
        if cfg.type == "fake":
            backend: Backend = FakeBackend(name, delay_s=cfg.delay_s, context_window=cfg.context_window or 4096)
        elif cfg.type == "openai" and cfg.base_urls:
            backend = PoolBackend(name, cfg.base_urls, cfg.model or "default", api_key_env=cfg.api_key_env,
                                  context_window=cfg.context_window or self._hall_window(), slots=cfg.parallel or 4,
                                  health_interval_s=cfg.health_interval_s)
        elif cfg.type == "openai":
            if not cfg.base_url:
                raise BackendError(f"backend '{name}': base_url is required for type openai", "unavailable")
            backend = OpenAICompatBackend(
                name, cfg.base_url, cfg.model or "default", api_key_env=cfg.api_key_env,
                context_window=cfg.context_window or self._hall_window(),
            )
        else:
            backend = self._llamacpp(name, cfg)
        if cfg.params is not None:
            backend.default_params = backend.default_params.merged(cfg.params)
        if cfg.max_temperature is not None:
            backend.max_temperature = cfg.max_temperature
        if cfg.prompt_style is not None:
            backend.prompt_style = cfg.prompt_style
        if cfg.system_role is not None:
            backend.system_role = cfg.system_role
        return backend

    def _hall_window(self) -> int | None:
        """``settings.context_window`` when it was set (file, environment, argument), else ``None``:
        a remote backend then asks its server rather than assume the llama.cpp default."""
        return self.settings.context_window if "context_window" in self.settings.model_fields_set else None

    def _embedded(self, cfg: BackendConfig) -> EmbeddedModel:
        """The embedded model a ``llamacpp`` config without ``model_path`` serves."""
        if not cfg.model:
            return DEFAULT_MODEL
        for m in EMBEDDED_MODELS:
            if cfg.model in (m.name, m.backend):
                return m
        raise BackendError(
            f"Unknown embedded model '{cfg.model}'. Known: {', '.join(m.name for m in EMBEDDED_MODELS)} "
            "(or set model_path to a GGUF file).", "unavailable")

    def _llamacpp(self, name: str, cfg: BackendConfig) -> LlamaCppBackend:
        if cfg.model_path:
            path, label, style = Path(cfg.model_path).expanduser(), None, "full"
        else:
            model = self._embedded(cfg)
            path, label, style = embedded_model_path(self.progress, model), model.name, "compact"
        backend = LlamaCppBackend(
            name,
            path,
            context_window=cfg.context_window or self.settings.context_window,
            parallel=cfg.parallel or self.settings.parallel,
            threads=cfg.threads or self.settings.threads,
            model_label=label,
        )
        backend.prompt_style = style
        return backend

    def label(self, spec: str | None = None, *, allow_paths: bool | None = None) -> str:
        """``"<name>:<model>"`` of the backend :meth:`get` gives for ``spec``, without creating or
        loading it (a stored answer records it). Raises what :meth:`get` raises for an unknown
        name (or a path in strict mode) or a missing GGUF file."""
        self.check(spec, allow_paths=allow_paths)
        name = spec or self.default_name
        instance = self._instances.get(name)
        if instance is not None:
            return f"{name}:{instance.model}"
        cfg = self._configs.get(name)
        if cfg is None:
            if not name.lower().endswith(".gguf"):
                raise UnknownBackendError(name, self.names())
            path = Path(name).expanduser()
            if not path.is_file():
                raise BackendError(f"GGUF model file not found: {path}", "unavailable")
            return f"{name}:{path.stem}"
        if cfg.type == "llamacpp":
            model = Path(cfg.model_path).expanduser().stem if cfg.model_path else self._embedded(cfg).name
        elif cfg.type == "openai":
            model = cfg.model or "default"
        else:
            model = "fake"
        return f"{name}:{model}"

    def created(self) -> list[Backend]:
        """The backend objects made so far (nothing is created or loaded here): what metrics and
        readiness report on."""
        with self._lock:
            return list(self._instances.values())

    def describe(self) -> list[BackendInfo]:
        """Info on every configured backend, without loading any model."""
        rows = []
        for name, cfg in self._configs.items():
            if cfg.type == "llamacpp" and cfg.model_path:
                model, source = Path(cfg.model_path).name, cfg.model_path
            elif cfg.type == "llamacpp":
                try:
                    embedded = self._embedded(cfg)
                except BackendError as exc:
                    model, source = cfg.model or "", str(exc)
                else:
                    model, source = embedded.file_name, f"embedded (PyPI package) · {embedded.summary}"
            elif cfg.type == "openai":
                model, source = cfg.model or "default", ", ".join(cfg.base_urls or []) or cfg.base_url or ""
            else:
                model, source = "fake", "deterministic replies"
            rows.append(BackendInfo(name, cfg.type, model, source, name == self.default_name))
        return rows


