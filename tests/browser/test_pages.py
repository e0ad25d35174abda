"""The pages as HTML (no browser needed): status codes, languages, 404s, safe embedding."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import URL

from masterhall import FakeBackend, load_settings
from masterhall.hall import build_hall
from masterhall.store import Store
from masterhall.web import i18n
from masterhall.web.app import create_app


@pytest.fixture
def client(tmp_path):
    store = Store(URL.create("sqlite", database=str(tmp_path / "hall.db")).render_as_string())
    hall = build_hall(load_settings(backend="fake"), store=store)
    hall.registry.register(FakeBackend("fake"))
    with TestClient(create_app(hall, load_model=False)) as c:
        c.hall = hall
        yield c
    store.close()


def _page_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="mh-page">(.*?)</script>', html, re.S)
    assert match, "the chat page embeds its data"
    return json.loads(match.group(1))


def test_hall_has_42_cards_in_7_categories(client):
    html = client.get("/", headers={"accept-language": "en-US,en;q=0.9"}).text
    assert html.count('class="master-card"') == 42
    assert len(re.findall(r'<section class="category" id="cat-', html)) == 7
    assert "Socrates" in html and "Technology" in html
    assert 'href="/masters/master-finder/chat"' in html


def test_language_from_accept_language_then_cookie(client):
    zh = client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
    assert '<span class="card-name">苏格拉底</span>' in zh and '<html lang="zh-CN"' in zh
    client.cookies.set("lang", "en")
    en = client.get("/", headers={"accept-language": "zh-CN"}).text
    assert '<span class="card-name">Socrates</span>' in en and '<span class="card-name">苏格拉底</span>' not in en


def test_lang_switch_sets_cookie_and_only_redirects_locally(client):
    r = client.get("/lang/zh?next=/masters/socrates", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/masters/socrates"
    assert "lang=zh" in r.headers["set-cookie"]
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = client.get("/lang/en", params={"next": evil}, follow_redirects=False)
        assert r.headers["location"] == "/"


def test_master_page_and_friendly_404(client):
    r = client.get("/masters/socrates", headers={"accept-language": "en"})
    assert r.status_code == 200
    assert "What is virtue, and can it be taught?" in r.text
    assert "/masters/socrates/chat?q=What%20is%20virtue%2C%20and%20can%20it%20be%20taught%3F" in r.text
    missing = client.get("/masters/socretes", headers={"accept-language": "en"})
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert "socretes" in missing.text and 'href="/masters/socrates"' in missing.text
    assert client.get("/masters/nobody-at-all/chat").status_code == 404
    assert client.get("/chat/0123456789abcdef").status_code == 404


def test_chat_page_embeds_conversation_safely(client):
    repo = client.hall.store.conversations
    conv = repo.create("socrates", title="</script><script>alert(1)</script>")
    repo.add_message(conv.id, "user", "<img src=x onerror=alert(1)>")
    msg = repo.start_assistant(conv.id, model="fake")
    repo.finish_message(msg.id, "**bold** <script>alert(2)</script>", "stopped", error="stopped by the user")
    html = client.get(f"/chat/{conv.id}").text
    assert "<script>alert" not in html and "<img src=x" not in html
    data = _page_data(html)
    assert data["conversation"]["id"] == conv.id
    user, answer = data["messages"]
    assert user["content"] == "<img src=x onerror=alert(1)>" and user["html"] is None
    assert answer["status"] == "stopped"
    assert "<strong>bold</strong>" in answer["html"] and "<script" not in answer["html"]


def test_new_chat_page_carries_the_first_message(client):
    data = _page_data(client.get("/masters/socrates/chat", params={"q": "What is virtue?"}).text)
    assert data["initial"] == "What is virtue?" and data["conversation"] is None
    assert data["master"]["id"] == "socrates" and len(data["masters"]) == 43


def test_loading_banner_is_rendered(client):
    client.hall.loader.state, client.hall.loader.message = "loading", "loading…"
    assert 'data-state="loading"' in client.get("/").text
    client.hall.loader.state, client.hall.loader.message = "error", "model file <missing>"
    html = client.get("/", headers={"accept-language": "en"}).text
    assert "The model could not be loaded: model file &lt;missing&gt;" in html


def test_static_files_are_served(client):
    for name in ("js/lib/page.js", "js/lib/stream.js", "js/hall.js", "js/chat/main.js", "js/chat/messages.js",
                 "js/chat/sidebar.js", "css/base.css", "css/chat.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_i18n_languages_have_the_same_keys():
    assert set(i18n.strings("zh")) == set(i18n.strings("en"))
    assert i18n.choose_lang(None, "fr-FR,zh-TW;q=0.8,en;q=0.5") == "zh"
    assert i18n.choose_lang(None, "de-DE") == "en"
    assert i18n.choose_lang("zh", "en-US") == "zh"
    assert i18n.choose_lang("xx", "en;q=0.1,zh;q=0.9") == "zh"
    assert i18n.translate("en", "search_count", n=3, total=42) == "3 of 42 masters"
