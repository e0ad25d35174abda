"""An accessible hall (issue 17): axe-core on every page state in both colour schemes, keyboard-only
use of the drawer, menus and the delete confirmation, focus that never drops to the page after an
action, answers announced in a live region, and no sideways scrolling at 320 px."""

from __future__ import annotations

import json
import time

import pytest

from .conftest import ASSISTANT, require_playwright, send, wait_final

expect = require_playwright().expect

ANSWER = "Virtue is **knowledge**, friend. " + " ".join(f"step{i}" for i in range(60)) + " — what do you think?"  # ~10 s at 0.15 s a word: still streaming while axe runs, on a busy machine too
FOCUSED_TAG = "() => document.activeElement === document.body ? 'BODY' : document.activeElement.id || document.activeElement.className"


def _conversation(live, master_id: str, text: str) -> str:
    response = live.api("POST", "/api/messages", json={"master_id": master_id, "content": text})
    assert response.status_code == 200
    start = next(line for line in response.text.splitlines() if line.startswith("data:"))
    return json.loads(start[5:])["conversation_id"]


def _settled(page, path: str) -> None:
    page.goto(page.base_url + path)
    page.wait_for_load_state("networkidle")


def _check_both_schemes(page, axe_check, label: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.wait_for_timeout(300)  # colour transitions (0.15 s) settle before colours are measured
        axe_check(page, f"{label} ({scheme})")
    page.emulate_media(color_scheme="light")
    assert page.locator("h1").count() == 1, f"{label}: one <h1>"


@pytest.fixture
def user_master(live):
    master = dict(live.api("GET", "/api/masters/socrates").json())
    master.update(id="a11y-stoic", name={"zh": "无障碍斯多葛", "en": "Accessible Stoic"})
    response = live.api("POST", "/api/builder/masters", json={"master": master})
    assert response.status_code == 201, response.text
    yield master["id"]
    live.api("DELETE", "/api/builder/masters/a11y-stoic")


def test_axe_finds_no_serious_violation_on_any_page_state(page, live, axe_check, user_master):
    page.base_url = live.url
    for label, path in [("hall", "/"), ("master page", "/masters/socrates"), ("chat, idle", "/masters/socrates/chat"),
                        ("builder list", "/builder"), ("builder, new master", "/builder/new"),
                        ("builder, editing", f"/builder/{user_master}"), ("404 page", "/no/such/page")]:
        _settled(page, path)
        _check_both_schemes(page, axe_check, label)

    live.fake.delay_s = 0.15
    live.fake.queue(ANSWER)
    _settled(page, "/masters/socrates/chat")
    send(page, "What is virtue?")
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_contain_text("friend")
    assert page.locator(ASSISTANT).get_attribute("data-status") == "streaming"
    axe_check(page, "chat, streaming")
    wait_final(page)
    _check_both_schemes(page, axe_check, "chat, answered")


def test_axe_on_the_open_drawer_and_the_confirmation_at_narrow_width(browser, live, axe_check):
    conv = _conversation(live, "socrates", "Narrow question")
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-US")
    try:
        page = ctx.new_page()
        page.goto(live.url + f"/chat/{conv}")
        page.wait_for_load_state("networkidle")
        page.locator("#sidebar-toggle").click()
        expect(page.locator("#sidebar")).to_have_attribute("role", "dialog")
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(300)
            axe_check(page, f"chat, drawer open ({scheme})")
        page.locator(f".conv-item[data-id='{conv}'] [data-action=delete]").click()
        expect(page.locator(".confirm-dialog")).to_be_visible()
        axe_check(page, "chat, delete confirmation")
    finally:
        ctx.close()


def test_no_sideways_scrolling_at_320_px(browser, live):
    conv = _conversation(live, "socrates", "A question with a rather long unbroken word: " + "x" * 80)
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, locale="en-US")
    try:
        page = ctx.new_page()
        for path in ("/", "/masters/socrates", "/masters/socrates/chat", f"/chat/{conv}", "/builder", "/builder/new", "/nowhere",
                     "/roundtable?masters=socrates,laozi,aaron-beck"):
            page.goto(live.url + path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320 px"
    finally:
        ctx.close()


def test_the_drawer_is_a_dialog_for_the_keyboard(browser, live):
    conv = _conversation(live, "socrates", "Keyboard question")
    ctx = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-US")
    try:
        page = ctx.new_page()
        page.goto(live.url + f"/chat/{conv}")
        page.wait_for_load_state("networkidle")
        sidebar = page.locator("#sidebar")
        inside = "() => !!document.activeElement.closest('#sidebar')"
        expect(sidebar).to_have_js_property("inert", True)  # closed: out of the tab order
        page.locator("body").focus()
        for _ in range(12):
            page.keyboard.press("Tab")
            assert not page.evaluate(inside), "Tab reached the closed drawer"

        toggle = page.locator("#sidebar-toggle")
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(sidebar).to_have_attribute("aria-modal", "true")
        assert page.evaluate(inside), "opening the drawer moves focus into it"
        assert page.evaluate("() => document.activeElement.closest('.conv-item')?.dataset.id") == conv  # the current one
        for key in ["Tab"] * 10 + ["Shift+Tab"] * 10:
            page.keyboard.press(key)
            assert page.evaluate(inside), f"{key} left the open drawer"
        expect(page.locator("section.chat")).to_have_js_property("inert", True)

        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_be_focused()  # focus returns to the opener
        expect(sidebar).to_have_js_property("inert", True)

        page.keyboard.press("Enter")
        page.locator("#sidebar-close").focus()
        page.keyboard.press("Enter")
        expect(toggle).to_be_focused()
        page.keyboard.press("Enter")
        page.locator("#sidebar-backdrop").click(position={"x": 360, "y": 300})
        expect(toggle).to_be_focused()
        expect(page.locator("section.chat")).to_have_js_property("inert", False)
    finally:
        ctx.close()


def test_a_wide_sidebar_is_no_dialog(page, live):
    page.goto(live.url + "/masters/socrates/chat")
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_have_js_property("inert", False)
    assert sidebar.get_attribute("role") == "complementary"
    page.locator("#conv-search").focus()
    expect(page.locator("#conv-search")).to_be_focused()


def test_escape_closes_the_export_menu(page, live):
    conv = _conversation(live, "socrates", "Export question")
    page.goto(live.url + f"/chat/{conv}")
    menu = page.locator("#export-menu")
    summary = menu.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_js_property("open", True)
    page.keyboard.press("Tab")
    expect(page.locator("#export-md")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_js_property("open", False)
    expect(summary).to_be_focused()


def test_deleting_asks_in_a_dialog_that_waits_and_focus_stays_in_the_list(page, live):
    keep = _conversation(live, "socrates", "Keep this conversation")
    doomed = _conversation(live, "socrates", "Delete this conversation")
    page.goto(live.url + f"/chat/{keep}")
    item = page.locator(f".conv-item[data-id='{doomed}']")
    delete = item.locator("[data-action=delete]")
    delete.focus()
    page.keyboard.press("Enter")
    dialog = page.locator(".confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("role", "alertdialog")
    expect(dialog).to_contain_text("Delete the conversation “Delete this conversation”? This cannot be undone.")
    expect(dialog.locator("[data-confirm=cancel]")).to_be_focused()  # the safe choice first
    time.sleep(4.5)  # no timer: it waits as long as the person needs
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(delete).to_be_focused()  # back where it was
    assert live.api("GET", f"/api/conversations/{doomed}").status_code == 200

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(dialog.locator("[data-confirm=ok]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(item).to_have_count(0)
    assert live.api("GET", f"/api/conversations/{doomed}").status_code == 404
    assert page.evaluate(FOCUSED_TAG) != "BODY"
    assert page.evaluate("() => !!document.activeElement.closest('#sidebar')"), "focus stays in the list"


def test_focus_never_drops_to_the_page_after_stop_regenerate_or_close(page, live):
    live.fake.delay_s = 0.1
    live.fake.queue(" ".join(f"word{i}" for i in range(80)))
    page.goto(live.url + "/masters/socrates/chat")
    send(page, "Talk for a while.")
    stop = page.locator("#stop-button")
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_contain_text("word2")
    stop.focus()
    page.keyboard.press("Enter")
    wait_final(page, status="stopped")
    expect(page.locator("#input")).to_be_focused()  # Stop is gone: focus goes to the input

    live.fake.delay_s = 0.05
    live.fake.queue("A second answer, regenerated.")
    regenerate = page.locator(f"{ASSISTANT} [data-action=regenerate]")
    regenerate.focus()
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED_TAG) != "BODY"
    wait_final(page)
    expect(page.locator("#input")).to_be_focused()

    page.locator(".msg-user [data-action=edit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".msg-editor-input")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(".msg-user [data-action=edit]")).to_be_focused()


def test_a_streamed_answer_is_announced_whole_in_the_live_region(page, live):
    live.fake.delay_s = 0.1
    live.fake.queue(ANSWER)
    page.goto(live.url + "/masters/socrates/chat")
    log = page.locator("#chat-live")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    send(page, "What is virtue?")
    expect(log).to_contain_text("Socrates is answering")
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_contain_text("step3")
    assert "step" not in log.text_content(), "nothing is announced token by token"
    wait_final(page)
    expect(log).to_contain_text("Socrates: Virtue is knowledge, friend. step0")
    expect(log).to_contain_text("what do you think?")
    assert log.text_content().count("step0") == 1

    live.fake.queue(" ".join(f"word{i}" for i in range(80)))
    send(page, "And then?")
    expect(page.locator(ASSISTANT).nth(1).locator(".msg-content")).to_contain_text("word2")
    page.locator("#stop-button").click()
    wait_final(page, 2, status="stopped")
    expect(log).to_contain_text("Stopped — the partial answer is kept.")


def test_a_cut_answer_and_an_error_are_announced(page, live):
    from masterhall.backends.base import BackendError

    def small_limit(route):  # the page sends no limit of its own: give this turn a small one
        body = {**json.loads(route.request.post_data), "max_tokens": 3}
        route.continue_(post_data=json.dumps(body), headers={**route.request.headers, "content-type": "application/json"})

    page.route("**/api/messages", small_limit)
    live.fake.queue("one two three four five six seven")
    page.goto(live.url + "/masters/socrates/chat")
    send(page, "Tell me a long story.")
    wait_final(page)
    log = page.locator("#chat-live")
    expect(log).to_contain_text("Cut at the length limit.")
    page.unroute("**/api/messages")

    live.fake.delay_s = 0.05
    live.fake.queue(" four five six.")
    page.locator(f"{ASSISTANT} .msg-continue").focus()
    page.keyboard.press("Enter")  # Continue hides itself: focus moves on, not to the page
    assert page.evaluate(FOCUSED_TAG) != "BODY"
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_have_text("one two three four five six.")
    expect(page.locator("#input")).to_be_focused()

    live.fake.queue(BackendError("the model crashed", "internal"))
    send(page, "Again?")
    expect(page.locator(ASSISTANT).nth(1)).to_have_attribute("data-status", "error")
    note = page.locator(ASSISTANT).nth(1).locator(".msg-note").inner_text()
    expect(log.locator("p").last).to_have_text(note)


def test_focus_rings_show_on_the_picture_upload_and_text_fields(page, live):
    page.goto(live.url + "/builder/new")
    page.wait_for_load_state("networkidle")
    page.locator("#f-avatar").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#f-avatar-image")).to_be_focused()
    ring = page.locator("#avatar-image-pick").evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert ring == "solid 2px", ring
    page.locator("#f-name-en").focus()
    shadow = page.locator("#f-name-en").evaluate("el => getComputedStyle(el).boxShadow")
    assert "0px 0px 0px 2px" in shadow, shadow  # a solid ring in the accent colour, not a faint halo
    assert page.locator("#f-id").get_attribute("aria-describedby") == "hint-id"
    assert page.locator("#hint-id").inner_text()


def test_the_language_switch_names_its_language(page, live):
    page.goto(live.url + "/")
    link = page.locator("#lang-switch")
    expect(link).to_have_attribute("lang", "zh-CN")
    expect(link).to_have_attribute("hreflang", "zh")


def test_my_masters_keeps_focus_through_publish_and_delete(page, live, user_master):
    page.goto(live.url + "/builder")
    page.wait_for_load_state("networkidle")
    item = page.locator(f'.um-item[data-id="{user_master}"]')
    item.locator('[data-action="publish"]').focus()
    page.keyboard.press("Enter")
    expect(item.locator(".status-badge")).to_have_text("Published")
    expect(item.locator('[data-action="unpublish"]')).to_be_focused()  # the list was redrawn: focus follows

    item.locator('[data-action="delete"]').focus()
    page.keyboard.press("Enter")
    dialog = page.locator(".confirm-dialog")
    expect(dialog).to_contain_text("Delete the master “Accessible Stoic”?")
    page.keyboard.press("Escape")
    expect(item.locator('[data-action="delete"]')).to_be_focused()
    expect(dialog).to_have_count(0)  # the closed dialog is removed by its close event (later on a busy machine)
    page.keyboard.press("Enter")
    dialog.locator("[data-confirm=ok]").focus()
    page.keyboard.press("Enter")
    expect(item).to_have_count(0)
    # the next master's name, or "New master" when none is left — never the page
    assert page.evaluate("() => document.activeElement.matches('.um-name, #new-master')"), page.evaluate(FOCUSED_TAG)
