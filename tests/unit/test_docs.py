"""The README must not drift from the code (idea from datasette's documentation tests)."""

import re
from pathlib import Path

from typer.main import get_command

from masterhall.cli import app
from masterhall.config import Settings

README = (Path(__file__).parents[2] / "README.md").read_text()
OUTSIDE_SETTINGS = {"MASTERHALL_CONFIG", "MASTERHALL_CACHE_DIR", "MASTERHALL_OPENAI_API_KEY", "MASTERHALL_DATA_DIR"}


def test_every_setting_is_documented():
    for name in Settings.model_fields:
        if name in ("params", "backends"):
            continue
        assert f"MASTERHALL_{name.upper()}" in README, name


def test_every_api_route_is_documented():
    from masterhall.web.app import create_app
    from masterhall.web.services import Hall

    app = create_app(Hall.__new__(Hall), load_model=False)
    paths = list(app.openapi()["paths"])
    assert "/api/messages" in paths and "/v1/chat/completions" in paths
    for path in paths:
        documented = path.replace("{conversation_id}", "{id}").replace("{master_id}", "{id}")
        assert documented in README, path


def test_every_documented_variable_exists():
    documented = set(re.findall(r"MASTERHALL_[A-Z_]+[A-Z]", README))
    for var in documented - OUTSIDE_SETTINGS:
        field = var.removeprefix("MASTERHALL_").lower().split("__")[0]
        assert field in Settings.model_fields, var


def test_every_cli_command_is_documented():
    for name in get_command(app).commands:
        assert f"masterhall {name}" in README, name


def test_quick_start_has_the_two_commands():
    blocks = re.findall(r"```bash\n(.+?)\n```", README, re.S)
    assert "masterhall serve" in blocks[0] and "pip install -e ." in blocks[0]
    assert "pytest" in blocks[1]
    assert blocks[1] in (Path(__file__).parents[2] / ".ci" / "run").read_text()
