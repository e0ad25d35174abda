"""The hall in a real browser: cards, search, language switch, model-status banner, mobile."""

from __future__ import annotations

import re

from .conftest import require_playwright

expect = require_playwright().expect

CARDS = "section.category .master-card"


def test_hall_shows_42_masters_in_7_categories_and_filters(page, live):
    page.goto(live.url + "/")
    expect(page.locator(CARDS)).to_have_count(42)
    expect(page.locator("section.category")).to_have_count(7)
    expect(page.locator("#cat-philosophy .card-name", has_text="Socrates")).to_be_visible()

    page.locator("#search-input").fill("socrates")
    expect(page.locator(f"{CARDS}:visible")).to_have_count(1)
    expect(page.locator("section.category:visible")).to_have_count(1)
    expect(page.locator("#search-status")).to_have_text("1 of 42 masters")

    page.locator("#search-input").fill("写作")  # Chinese tags are searchable from the English UI
    visible = page.locator(f"{CARDS}:visible")
    expect(visible.first).to_be_visible()
    assert 0 < visible.count() < 42

    page.locator("#search-input").fill("zzzz-no-such-master")
    expect(page.locator(f"{CARDS}:visible")).to_have_count(0)
    expect(page.locator("#search-none")).to_contain_text("zzzz-no-such-master")

    page.locator("#search-clear").click()
    expect(page.locator(f"{CARDS}:visible")).to_have_count(42)

    page.locator("#cat-philosophy .master-card", has_text="Socrates").click()
    expect(page).to_have_url(live.url + "/masters/socrates")


def test_language_switch_is_remembered_in_a_cookie(page, live, context):
    page.goto(live.url + "/masters/socrates")
    expect(page.locator("h1")).to_have_text("Socrates")
    page.locator("#lang-switch").click()
    expect(page.locator("h1")).to_have_text("苏格拉底")
    expect(page).to_have_url(live.url + "/masters/socrates")
    assert {"name": "lang", "value": "zh"}.items() <= next(c for c in context.cookies() if c["name"] == "lang").items()

    page.goto(live.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#cat-philosophy .card-name").filter(has_text="苏格拉底")).to_be_visible()
    page.reload()
    expect(page.locator("#cat-philosophy .card-name").filter(has_text="苏格拉底")).to_be_visible()
    expect(page.locator("section.category h2").first).to_contain_text("技术")

    page.locator("#lang-switch").click()
    expect(page.locator("#cat-philosophy .card-name").filter(has_text="Socrates")).to_be_visible()
    assert next(c for c in context.cookies() if c["name"] == "lang")["value"] == "en"


def test_default_language_follows_the_browser(browser, live):
    ctx = browser.new_context(locale="zh-CN")
    try:
        pg = ctx.new_page()
        pg.goto(live.url + "/")
        expect(pg.locator("#cat-philosophy .card-name").filter(has_text="苏格拉底")).to_be_visible()
        expect(pg.locator("#search-input")).to_have_attribute("placeholder", re.compile("搜索"))
    finally:
        ctx.close()


def test_loading_banner_disappears_when_the_model_is_ready(page, live):
    loader = live.hall.loader
    try:
        loader.state, loader.message = "loading", "The model is loading…"
        page.goto(live.url + "/")
        banner = page.locator("#status-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("The model is loading")
        loader.state, loader.message = "ready", "fake"
        expect(banner).to_be_hidden(timeout=6000)

        loader.state, loader.message = "error", "GGUF file is corrupt"
        page.reload()
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("The model could not be loaded: GGUF file is corrupt")
    finally:
        loader.state, loader.message = "ready", "fake"


def test_mobile_layout_has_no_horizontal_scroll(browser, live):
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-US", has_touch=True, is_mobile=True)
    try:
        pg = ctx.new_page()
        for path in ("/", "/masters/socrates", "/masters/socrates/chat"):
            pg.goto(live.url + path)
            overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        # the conversations sidebar is a drawer on narrow screens
        sidebar = pg.locator("#sidebar")
        assert not sidebar.evaluate("el => el.getBoundingClientRect().right > 0")
        pg.locator("#sidebar-toggle").click()
        expect(pg.locator("#new-chat")).to_be_in_viewport()
        pg.locator("#sidebar-close").click()
        expect(pg.locator("#sidebar-backdrop")).to_be_hidden()
    finally:
        ctx.close()


def test_finder_recommends_masters_and_opens_a_chat_with_the_need(page, live):
    page.goto(live.url + "/")
    expect(page.locator("#hall-search")).to_have_attribute("data-match-url", "/api/match")
    need = "I lie awake at 3am and my thoughts keep racing"
    page.locator("#search-input").fill(need)
    picks = page.locator("#finder-grid .finder-pick")
    expect(picks.first).to_be_visible(timeout=30_000)
    ids = [picks.nth(i).get_attribute("data-id") for i in range(picks.count())]
    assert "sleep-coach" in ids
    expect(picks.first.locator(".finder-reason")).not_to_be_empty()
    pick = page.locator('#finder-grid .finder-pick[data-id="sleep-coach"]')
    pick.locator(".finder-talk").click()
    page.wait_for_url("**/chat/**")
    expect(page.locator(".msg[data-role=user] .msg-content").first).to_have_text(need)
    page.goto(live.url + "/")
    page.evaluate("() => { window.MasterHall.hall.match = async (q) => ['viktor-frankl', 'socrates']; }")
    page.locator("#search-input").fill("the meaning of my life")
    expect(page.locator("#finder-grid .master-card")).to_have_count(2)
    expect(page.locator("#finder-grid .master-card").first).to_have_attribute("data-id", "viktor-frankl")
    page.locator("#search-clear").click()
    expect(page.locator("#finder-results")).to_be_hidden()


def test_count_line_counts_the_finder_picks_it_shows(page, live, context):
    context.add_cookies([{"name": "lang", "value": "zh", "url": live.url}])
    page.goto(live.url + "/")
    page.evaluate("() => { window.MasterHall.hall.match = async (q) => q.includes('睡') ? "
                  "Object.assign(['sleep-coach', 'socrates', 'laozi'], {indexing: true}) : []; }")
    page.locator("#search-input").fill("半夜三点醒来睡不着")
    expect(page.locator("#finder-grid .finder-pick")).to_have_count(3)
    # was: "共 42 位，找到 0 位" above three picks
    expect(page.locator("#search-status")).to_have_text("大师向导推荐 3 位 · 共 42 位，0 位与关键词相符")
    expect(page.locator("#finder-indexing")).to_be_visible()
    expect(page.locator("#search-none")).to_be_hidden()
    page.locator("#search-input").fill("苏格拉底")  # no picks: the plain count
    expect(page.locator("#finder-results")).to_be_hidden()
    expect(page.locator("#search-status")).to_have_text("共 42 位，找到 1 位")
