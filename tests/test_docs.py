"""The README must not drift from the code (idea from datasette's documentation tests)."""

import re
from pathlib import Path

from typer.main import get_command

from masterhall.cli import app
from masterhall.config import Settings

README = (Path(__file__).parents[1] / "README.md").read_text()
OUTSIDE_SETTINGS = {"MASTERHALL_CONFIG", "MASTERHALL_CACHE_DIR", "MASTERHALL_OPENAI_API_KEY", "MASTERHALL_DATA_DIR"}


def test_every_setting_is_documented():
    for name in Settings.model_fields:
        if name in ("params", "backends"):
            continue
        assert f"MASTERHALL_{name.upper()}" in README, name


def test_every_api_route_is_documented():
    from masterhall.hall import Hall
    from masterhall.web.app import create_app

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
    assert blocks[1] in (Path(__file__).parents[1] / ".ci" / "run").read_text()


# -- the project layout section matches the tree ---------------------------------------------------
ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "src" / "masterhall"
_FILE = re.compile(r"(?<![\w/.-])[\w-]+(?:/[\w-]+)*\.(?:py|json|js|css|yaml|html)\b")
_DIR = re.compile(r"(?<![\w/.-])\w[\w-]*(?:/[\w-]+)*/(?=[\s,)]|$)")


def layout(readme: str = README) -> dict[Path, list[Path]]:
    """The README's project layout: each entry's path and the paths its description names."""
    block = re.search(r"## Project layout\n.*?```\n(.*?)```", readme, re.S).group(1)
    entries: dict[Path, list[Path]] = {}
    entry = PACKAGE
    for line in block.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):  # src/masterhall/, tests/, bench/
            head, _, rest = line.partition(" ")
            entry = PACKAGE if head == "src/masterhall/" else ROOT / head.rstrip("/")
            entries.setdefault(entry, [])
        elif re.match(r"  \S", line):  # an entry of src/masterhall/
            head, _, rest = line.strip().partition(" ")
            entry = PACKAGE / head.rstrip("/")
            entries.setdefault(entry, [])
        else:  # the description goes on
            rest = line
        folder = entry if entry.suffix == "" else entry.parent
        for token in _FILE.findall(rest) + _DIR.findall(rest):
            if "<" not in token:
                entries[entry].append(folder / token.rstrip("/"))
    return entries


def missing(readme: str = README) -> list[str]:
    """Paths the README's project layout names that do not exist."""
    return [str(p.relative_to(ROOT)) for entry, named in layout(readme).items() for p in [entry, *named] if not p.exists()]


def test_every_module_of_the_project_layout_exists():
    found = layout()
    assert PACKAGE / "hall.py" in found and PACKAGE / "web" in found and len(found) > 15
    assert missing() == []


def test_every_package_and_top_level_module_is_in_the_project_layout():
    found = layout()
    named = set(found) | {p for paths in found.values() for p in paths}
    named |= {parent for p in named for parent in p.parents}
    packages = {p.parent for p in PACKAGE.rglob("__init__.py") if "migrations" not in p.parts and p.parent != PACKAGE}
    modules = set(PACKAGE.glob("*.py"))
    assert sorted(str(p.relative_to(ROOT)) for p in (packages | modules) - named) == []


def test_the_layout_check_notices_a_missing_module():
    assert missing(README.replace("  paths.py ", "  nowhere.py ")) == ["src/masterhall/nowhere.py"]
    assert missing(README.replace("sse.py (the one SSE", "server_events.py (the one SSE")) == ["src/masterhall/web/server_events.py"]
