"""The Master Finder in a real browser: 'no master fits' with a create link in the hall, and the
guide's answer with its master cards, kept after a reload."""

from __future__ import annotations

import re

from .conftest import ASSISTANT, require_playwright, send, wait_final

expect = require_playwright().expect


def test_hall_says_no_master_fits_and_links_to_the_builder(page, live):
    page.goto(live.url + "/")
    page.locator("#search-input").fill("xyzzy qwerty")
    box = page.locator("#finder-nofit")
    expect(box).to_be_visible(timeout=30_000)
    expect(box).to_contain_text("No master fits this need")
    expect(page.locator("#finder-grid .finder-pick")).to_have_count(0)
    page.locator("#finder-create").click()
    page.wait_for_url("**/builder/new?need=*")
    expect(page.locator("#f-instructions")).to_have_value(re.compile("xyzzy qwerty"))
    assert not page.js_errors


def test_guide_answer_shows_real_master_cards_after_reload(page, live):
    live.fake.queue("You could talk to sleep-coach first, or to course-master.")  # not an example's words (no echo retry)
    page.goto(live.url + "/masters/master-finder/chat")
    send(page, "I can't fall asleep and wake up at 3am every night")
    answer = wait_final(page)
    cards = answer.locator(".guide-card")
    expect(cards.first).to_have_attribute("data-id", "sleep-coach")
    expect(cards.first.locator(".guide-talk")).to_have_attribute("href", re.compile(r"^/masters/sleep-coach/chat\?q="))
    expect(answer.locator('.msg-content a[href="/masters/sleep-coach"]')).to_have_count(1)
    expect(answer.locator('a[href*="course-master"]')).to_have_count(0)
    page.reload()
    expect(page.locator(ASSISTANT).first.locator(".guide-card").first).to_have_attribute("data-id", "sleep-coach")
    assert not page.js_errors
