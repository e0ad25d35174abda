"""compose.yaml and the Dockerfile stay in step with the code (no Docker engine runs here, so the
file itself cannot be started in CI: these checks catch the drift that would break it — a renamed
setting, a CLI option that no longer exists, a service the halls name but the file lacks)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import typer
import yaml

from masterhall.backends.registry import BackendRegistry
from masterhall.cli import app
from masterhall.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
HALLS = [name for name in COMPOSE["services"] if name.startswith("hall-")]


def _parse(argv: list[str]):
    """Parse ``masterhall ARGV`` with the real CLI without running it; returns the command's context
    (raises the CLI's usage error for an unknown option)."""
    assert argv[0] == "masterhall", argv
    group = typer.main.get_command(app)
    ctx = group.make_context("masterhall", argv[1:2], resilient_parsing=True)
    command, name, words = group, "masterhall", argv[1:]
    while hasattr(command, "list_commands"):  # a group (typer vendors its own click)
        sub = command.get_command(ctx, words[0])
        assert sub is not None, f"no command {words[0]!r} in `{shlex.join(argv)}`"
        command, name, words = sub, words[0], words[1:]
    return command.make_context(name, list(words))


def test_compose_has_two_halls_on_postgres_redis_and_a_model_server():
    services = COMPOSE["services"]
    assert len(HALLS) >= 2 and {"postgres", "redis", "llama"} <= set(services)
    for name in HALLS:
        assert {"postgres", "redis", "llama"} <= set(services[name]["depends_on"])
        ports = {str(p).split(":")[0] for p in services[name]["ports"]}
        assert len(ports) == 1
    assert len({str(services[h]["ports"][0]) for h in HALLS}) == len(HALLS), "each hall on a port of its own"


@pytest.mark.parametrize("hall", HALLS)
def test_each_hall_command_parses_with_the_real_cli(hall):
    ctx = _parse(COMPOSE["services"][hall]["command"])
    assert ctx.info_name == "serve" and ctx.params["host"] == "0.0.0.0"
    port = str(ctx.params["port"])
    healthcheck = " ".join(COMPOSE["services"][hall]["healthcheck"]["test"])
    assert f":{port}/readyz" in healthcheck and any(str(p).endswith(f":{port}") for p in COMPOSE["services"][hall]["ports"])


def test_the_first_admin_command_in_the_comments_parses():
    line = next(t for t in (ROOT / "compose.yaml").read_text(encoding="utf-8").splitlines() if "users add" in t)
    argv = shlex.split(line.split("hall-a", 1)[1])
    ctx = _parse(argv)
    assert ctx.info_name == "add" and ctx.params["admin"] is True


@pytest.mark.parametrize("hall", HALLS)
def test_each_hall_environment_configures_postgres_redis_and_the_server(hall, monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("MASTERHALL_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MASTERHALL_CONFIG", str(ROOT / "does-not-exist.toml"))
    for key, value in COMPOSE["services"][hall]["environment"].items():
        monkeypatch.setenv(key, str(value))
    settings = load_settings()
    assert settings.database_url.startswith("postgresql+psycopg://") and "@postgres/" in settings.database_url
    assert settings.redis_url == "redis://redis:6379/0"
    registry = BackendRegistry(settings)
    assert registry.default_name == "openai" and "openai" in registry.names()
    assert "localhost" in settings.allowed_hosts
    llama_port = next(a for a in COMPOSE["services"]["llama"]["command"] if a.isdigit() and len(a) == 4)
    assert settings.openai_base_url == f"http://llama:{llama_port}/v1"


def test_dockerfile_installs_the_package_with_the_cli_it_runs():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install" in dockerfile and "COPY . ." in dockerfile
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'masterhall = "masterhall.cli' in pyproject
    assert '"masterhall", "serve"' in dockerfile
