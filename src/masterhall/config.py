"""Settings: defaults < TOML config file < ``MASTERHALL_*`` environment variables < CLI options.

The config file is ``$MASTERHALL_CONFIG`` or ``<user config dir>/masterhall/config.toml``
(:func:`masterhall.paths.config_file`); it may be absent. See the README's *Configuration* section for every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from . import paths
from .catalog.models import SamplingParams


class BackendConfig(BaseModel):
    """One named backend in ``[backends.NAME]``.

    ``type``: ``llamacpp`` (``model_path`` to a GGUF; omitted = the embedded model),
    ``openai`` (``base_url``, ``model``, ``api_key_env``) or ``fake``. ``context_window`` in tokens
    per conversation; ``parallel`` slots and ``threads`` apply to ``llamacpp``; for ``llamacpp``
    without ``model_path``, ``model`` names which embedded model to serve. ``params`` override the
    model's recommended sampling defaults; ``max_temperature`` caps the temperature a master or the
    hall asks of this model (a caller's own is kept; unset: 0.3 for the small embedded Qwen2.5
    models, no cap otherwise; 2 lifts it); ``prompt_style`` is ``compact`` (the master's reply
    recipe ends the system prompt: for small models; the embedded models' default) or ``full``
    (the instructions alone: for large models; the default elsewhere). ``system_role``: whether
    the model's chat template takes a system message (false for Gemma, early Mistral: the system
    text then opens the first user message); unset, ``llamacpp`` reads it from the GGUF's template
    and ``openai`` assumes it does. ``base_urls`` (``openai`` only): several servers of the same
    model behind this one name, a pool (:mod:`masterhall.backends.pool`): each runs ``parallel``
    requests at once (default 4) and is health-checked every ``health_interval_s`` seconds.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["llamacpp", "openai", "fake"]
    model_path: str | None = None
    base_url: str | None = None
    base_urls: list[str] | None = None
    health_interval_s: float = Field(default=5.0, gt=0)
    model: str | None = None
    api_key_env: str = "MASTERHALL_OPENAI_API_KEY"
    context_window: int | None = Field(default=None, ge=256)
    parallel: int | None = Field(default=None, ge=1, le=64)
    threads: int | None = Field(default=None, ge=1, le=256)
    delay_s: float = 0.0
    params: SamplingParams | None = None
    max_temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    prompt_style: Literal["compact", "full"] | None = None
    system_role: bool | None = None


def config_path() -> Path:
    """Where the TOML config file is looked for (it need not exist): :func:`masterhall.paths.config_file`."""
    return paths.config_file()


class Settings(BaseSettings):
    """The hall's settings. Environment variables are ``MASTERHALL_<FIELD>`` (upper case).

    ``backend``: name of the default backend (``embedded``, ``fake``, ``openai`` or one of
    ``backends``). ``model_path``: a GGUF that replaces the embedded model for ``embedded``.
    ``openai_base_url`` / ``openai_model`` / ``openai_api_key_env`` define a backend named
    ``openai``. ``context_window`` (tokens per conversation), ``parallel`` (slots) and ``threads``
    are the llama.cpp defaults. ``params`` are the hall's default sampling parameters, merged over
    each backend's model defaults (by default only ``max_tokens`` = 512).
    ``database_url``: SQLAlchemy URL of the conversation store (default: a SQLite file in the user
    data dir). ``host`` / ``port``: where ``masterhall serve`` listens. ``max_request_bytes``:
    the largest request body the web hall reads (default 4 MiB); ``max_upload_bytes``: the same
    for uploads (``multipart/form-data``: imports, attached files; default 33 MiB, the 32 MiB
    import limit plus room for the form). ``allowed_hosts``: extra ``Host`` names the web hall
    answers (besides loopback names, IP addresses and ``host``), e.g. behind a reverse proxy:
    ``name`` (any port), ``name:port``, or ``*`` (any — turns the DNS-rebinding guard off); see
    the README's *Security* section. ``crisis_region``: whose
    crisis lines the safety guard's help answers name (``CN``, ``US``, ``UK``, ``IE``; any other
    code: findahelpline.com and 112; unset: ``CN`` for Chinese messages, ``US`` otherwise).
    ``safety_semantic``: the guard's semantic layer (sentence encoder and classifier) on top of its
    rules (default on). ``redis_url``: Redis shared by several hall processes (stop signals, live
    streams, catalog changes, sign-in limits; see the README's *Several processes*); unset, the hall
    is one process and needs no Redis. ``redis_prefix``: the prefix of every Redis key and channel
    (several halls, or test runs, on one Redis).     ``roundtable_speakers``: the most masters who speak in one round of a round
    table (default 3; see :mod:`masterhall.conversations.chair`). ``roundtable_preread``: while a
    speaker answers, the backend reads the next speaker's prompt ahead in another slot (default on;
    see :mod:`masterhall.conversations.roundtable`).
    """

    model_config = SettingsConfigDict(env_prefix="MASTERHALL_", env_nested_delimiter="__", extra="ignore")

    backend: str = "embedded"
    model_path: str | None = None
    context_window: int = Field(default=4096, ge=256)
    parallel: int = Field(default=4, ge=1, le=64)
    threads: int | None = Field(default=None, ge=1, le=256)
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api_key_env: str = "MASTERHALL_OPENAI_API_KEY"
    params: SamplingParams = Field(default_factory=lambda: SamplingParams(max_tokens=512))
    backends: dict[str, BackendConfig] = Field(default_factory=dict)
    database_url: str | None = None
    crisis_region: str | None = None
    safety_semantic: bool = True
    roundtable_speakers: int = Field(default=3, ge=1, le=8)
    roundtable_preread: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8042, ge=1, le=65535)
    max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=33 * 1024 * 1024, ge=1024)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    redis_url: str | None = None
    redis_prefix: str = "masterhall"

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        """``MASTERHALL_ALLOWED_HOSTS=a.example,b.example`` (comma-separated) or a TOML list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order of precedence: explicit arguments, then environment, then the TOML file."""
        path = config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def load_settings(**overrides) -> Settings:
    """Build :class:`Settings` from the file and environment, with ``overrides`` on top.

    Raises ``pydantic.ValidationError`` (naming the key) for a bad value, and
    ``tomllib.TOMLDecodeError`` for a malformed file.
    """
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
