"""A round table in a real browser: picked in the hall, three masters answer in order under their
own avatars and names while streaming, a fourth is @-mentioned in (autocomplete), Stop ends the
round mid-reply, the export names every speaker, and axe finds nothing serious."""

from __future__ import annotations

import time

from .conftest import ASSISTANT, conversation_id, require_playwright, send, wait_final

expect = require_playwright().expect

TABLE = ["socrates", "marcus-aurelius", "aaron-beck"]
LONG = " ".join(f"frankl{i}" for i in range(200))


def _stored(live, conv_id: str) -> dict:
    response = live.api("GET", f"/api/conversations/{conv_id}")
    assert response.status_code == 200
    return response.json()


def test_round_table_from_the_hall_mention_stop_and_export(page, live, axe_check):
    names = {m: live.api("GET", f"/api/masters/{m}").json()["name"]["en"] for m in TABLE + ["viktor-frankl"]}
    page.goto(live.url + "/")
    page.locator("#table-picker summary").click()
    start = page.locator("#table-start")
    expect(start).to_be_disabled()
    for master_id in TABLE:
        page.locator(f'#table-form input[value="{master_id}"]').check()
    expect(start).to_be_enabled()
    start.click()
    page.wait_for_url("**/roundtable?**")
    expect(page.locator("h1")).to_contain_text("Round table")
    expect(page.locator("#members-list .member-chip")).to_have_count(3)

    # three labelled replies stream in, one after the other
    live.fake.delay_s = 0.03
    replies = ["first " + " ".join(f"a{i}" for i in range(12)), "second " + " ".join(f"b{i}" for i in range(12)),
               "third " + " ".join(f"c{i}" for i in range(12))]
    live.fake.queue(*replies)
    send(page, "Should I quit my job?")
    conv_id = conversation_id(page)
    streaming = page.locator(f"{ASSISTANT}[data-status=streaming] .msg-content")
    expect(streaming.first).to_contain_text("first")  # seen while it streams
    for n in (1, 2, 3):
        wait_final(page, n)
    stored = _stored(live, conv_id)
    order = [m["master_id"] for m in stored["messages"] if m["role"] == "assistant"]
    assert sorted(order) == sorted(TABLE)
    bubbles = page.locator(ASSISTANT)
    expect(bubbles).to_have_count(3)
    for i, (master_id, text) in enumerate(zip(order, replies)):
        expect(bubbles.nth(i).locator(".msg-who")).to_have_text(names[master_id])
        expect(bubbles.nth(i).locator(".msg-content")).to_have_text(text)
    axe_check(page, "round table, answered")

    # @-mention a fourth master through the autocomplete; stop the round while it answers
    live.fake.delay_s = 0.05
    live.fake.queue(LONG, "never said", "never said", "never said")
    box = page.locator("#input")
    box.fill("")
    box.press_sequentially("@Vikt")
    option = page.locator("#mention-list [role=option]").first
    expect(option).to_contain_text("Viktor Frankl")
    box.press("Enter")
    expect(box).to_have_value("@Viktor Frankl ")
    box.press_sequentially("how should I plan my week?")
    box.press("Enter")
    fourth = bubbles.nth(3)
    expect(fourth.locator(".msg-who")).to_have_text(names["viktor-frankl"])
    expect(fourth.locator(".msg-content")).to_contain_text("frankl5")
    expect(page.locator("#members-list .member-chip")).to_have_count(4)
    page.locator("#stop-button").click()
    wait_final(page, 4, status="stopped")
    time.sleep(0.6)  # the round is over: nobody else speaks
    expect(bubbles).to_have_count(4)
    deadline = time.monotonic() + 5
    while (last := _stored(live, conv_id)["messages"][-1])["status"] == "streaming" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert last["master_id"] == "viktor-frankl" and last["status"] == "stopped"
    assert LONG.startswith(last["content"]) and len(last["content"]) < len(LONG)
    members = _stored(live, conv_id)["conversation"]["members"]
    assert sorted(members[:3]) == sorted(TABLE) and members[3] == "viktor-frankl"

    # export names every speaker
    page.locator("#export-menu summary").click()
    with page.expect_download() as download:
        page.locator("#export-md").click()
    text = open(download.value.path(), encoding="utf-8").read()
    for name in names.values():
        assert f"{name}" in text
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert len(heads) == 6 and len(set(heads[1:4])) == 3

    # after a reload each reply is still under its own master
    page.reload()
    expect(page.locator(ASSISTANT)).to_have_count(4)
    for i, master_id in enumerate(order + ["viktor-frankl"]):
        expect(page.locator(ASSISTANT).nth(i).locator(".msg-who")).to_have_text(names[master_id])
