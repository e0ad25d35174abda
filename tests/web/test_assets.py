"""The browser's files: ES modules that import only what exists, a style sheet per page, and the
two locale files with the same keys and placeholders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from masterhall import FakeBackend, load_settings
from masterhall.hall import build_hall
from masterhall.store import Store
from masterhall.web import i18n
from masterhall.web.app import create_app
from masterhall.web.templating import module_graph

WEB = Path(i18n.__file__).parent
STATIC = WEB / "static"
IMPORT = re.compile(r'^import (?:\{([^}]*)\}|\* as (\w+)) from "([^"]+)";', re.M)
EXPORT = re.compile(r"^export (?:async )?(?:function\*?|const|let|class) ([\w$]+)", re.M)


def modules() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in (STATIC / "js").rglob("*.js")}


def test_every_import_names_an_existing_module_and_export():
    found = modules()
    exports = {path.resolve(): set(EXPORT.findall(source)) for path, source in found.items()}
    assert len(found) >= 10
    for path, source in found.items():
        # modules share code by import; only the hall's documented Finder hook lives on window
        assert "window.MasterHall" not in source or path.name == "hall.js", path.name
        for names, _star, target in IMPORT.findall(source):
            module = (path.parent / target).resolve()
            assert module in exports, f"{path.name} imports missing {target}"
            for name in filter(None, (n.strip() for n in names.split(","))):
                assert name in exports[module], f"{path.name} imports {name} that {target} does not export"


def test_the_stream_reader_is_shared_by_chat_and_builder():
    users = {path.relative_to(STATIC).as_posix() for path, source in modules().items() if "lib/stream.js" in source}
    assert {"js/chat/turns.js", "js/builder/test-run.js", "js/builder/preview.js"} <= users
    assert not any("getReader()" in source for path, source in modules().items() if path.name != "stream.js")


def test_the_module_graph_follows_imports():
    graph = module_graph("js/chat/main.js")
    assert graph[0] == "js/chat/main.js" and {"js/lib/stream.js", "js/lib/api.js", "js/chat/sidebar.js"} <= set(graph)


def test_locales_have_the_same_keys_and_placeholders():
    en = json.loads((WEB / "locales" / "en.json").read_text(encoding="utf-8"))
    zh = json.loads((WEB / "locales" / "zh.json").read_text(encoding="utf-8"))
    assert set(en) == set(zh) and len(en) > 100
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", en[key])) == set(re.findall(r"\{(\w+)\}", zh[key])), key


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('assets') / 'hall.db'}")
    hall = build_hall(load_settings(backend="fake"), store=store)
    hall.registry.register(FakeBackend("fake"))
    with TestClient(create_app(hall, load_model=False)) as client:
        yield client
    store.close()


@pytest.mark.parametrize("path, sheets", [
    ("/", ["base", "hall"]),
    ("/masters/socrates", ["base", "master"]),
    ("/masters/socrates/chat", ["base", "messages", "chat"]),
    ("/builder", ["base", "builder"]),
    ("/builder/new", ["base", "messages", "builder"]),
    ("/masters/nobody", ["base"]),
])
def test_each_page_loads_the_style_sheets_it_uses(pages, path, sheets):
    html = pages.get(path).text
    assert re.findall(r'href="/static/css/(\w+)\.css\?v=', html) == sheets
    for url in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        response = pages.get(url)
        assert response.status_code == 200 and "immutable" in response.headers["cache-control"], url
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1))["imports"]
    assert all(versioned.startswith(plain + "?v=") for plain, versioned in imports.items())
