"""An answer cut at the length limit says so in the chat, and Continue streams the rest into the
same bubble; an answer the hall ended for repeating itself says that. Real browser, fake backend."""

from __future__ import annotations

import json

from .conftest import ASSISTANT, require_playwright, wait_final

expect = require_playwright().expect


def _cut_conversation(live, words: int = 3) -> tuple[str, int]:
    """A conversation (made through the API) whose answer stopped after ``words`` words."""
    live.fake.queue("one two three four five six seven")
    r = live.api("POST", "/api/messages", json={"master_id": "socrates", "content": "Tell me a story", "max_tokens": words})
    start = json.loads(r.text.split("data: ", 1)[1].split("\n", 1)[0])
    return start["conversation_id"], start["message_id"]


def test_a_cut_answer_shows_the_note_and_continue_streams_the_rest_in_place(page, live):
    conv, mid = _cut_conversation(live)
    page.goto(f"{live.url}/chat/{conv}")
    answer = page.locator(ASSISTANT)
    expect(answer).to_have_count(1)
    cut = answer.locator(".msg-cut")
    expect(cut).to_be_visible()
    expect(cut).to_contain_text("Cut at the length limit")

    live.fake.delay_s = 0.05
    live.fake.queue(" four **five** six.")
    cut.get_by_role("button", name="Continue").click()
    expect(cut).to_be_hidden()
    done = wait_final(page)
    expect(page.locator(ASSISTANT)).to_have_count(1)  # the same bubble, not a new one
    assert done.get_attribute("data-id") == str(mid)
    expect(done.locator(".msg-content")).to_have_text("one two three four five six.")
    expect(done.locator(".msg-content strong")).to_have_text("five")
    expect(cut).to_be_hidden()

    stored = live.api("GET", f"/api/conversations/{conv}").json()["messages"]
    assert len(stored) == 2 and stored[-1]["finish_reason"] == "stop"
    page.reload()
    expect(page.locator(f"{ASSISTANT} .msg-cut")).to_be_hidden()


def test_a_continuation_cut_again_shows_the_note_again_at_once(page, live):
    conv, _ = _cut_conversation(live)
    page.goto(f"{live.url}/chat/{conv}")
    # the page sends no limit of its own: give this continuation a small one on its way out
    page.route("**/continue", lambda route: route.continue_(post_data=json.dumps({"max_tokens": 2}),
                                                            headers={**route.request.headers, "content-type": "application/json"}))
    live.fake.queue(" four five six seven")
    cut = page.locator(f"{ASSISTANT} .msg-cut")
    cut.get_by_role("button", name="Continue").click()
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_have_text("one two three four five")
    expect(cut).to_be_visible()
    live.fake.queue(" six.")
    cut.get_by_role("button", name="Continue").click()
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_have_text("one two three four five six.")
    expect(cut).to_be_hidden()


def test_the_note_comes_back_after_a_reload(page, live):
    conv, _ = _cut_conversation(live)
    page.goto(f"{live.url}/chat/{conv}")
    page.reload()
    cut = page.locator(f"{ASSISTANT} .msg-cut")
    expect(cut).to_be_visible()
    live.fake.queue(" four five six seven eight nine ten eleven twelve thirteen")
    cut.get_by_role("button", name="Continue").click()
    done = wait_final(page)
    expect(done.locator(".msg-content")).to_contain_text("thirteen")
    expect(done.locator(".msg-cut")).to_be_hidden()


def test_an_answer_ended_for_repeating_itself_says_so(page, live):
    live.fake.queue("尊重和牺牲、" * 200)
    r = live.api("POST", "/api/messages", json={"master_id": "confucius", "content": "婚姻里最重要的是什么？"})
    conv = json.loads(r.text.split("data: ", 1)[1].split("\n", 1)[0])["conversation_id"]
    page.goto(f"{live.url}/chat/{conv}")
    note = page.locator(f"{ASSISTANT} .msg-note").first
    expect(note).to_be_visible()
    expect(note).to_contain_text("repeating itself")
    expect(page.locator(f"{ASSISTANT} .msg-cut")).to_be_hidden()


def test_a_refused_continue_restores_the_bubble_and_says_why(page, live):
    conv, mid = _cut_conversation(live)
    page.goto(f"{live.url}/chat/{conv}")
    cut = page.locator(f"{ASSISTANT} .msg-cut")
    expect(cut).to_be_visible()
    # meanwhile, another tab continued it: this page's button is now stale
    live.fake.queue(" four.")
    live.api("POST", f"/api/conversations/{conv}/messages/{mid}/continue")
    cut.get_by_role("button", name="Continue").click()
    expect(page.locator(".chat-notice.is-error")).to_contain_text("length limit")
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_have_text("one two three")
    expect(cut).to_be_visible()
