"""The round table's other ways in and its members bar, in a real browser (fake backend):

- the members bar: a master asked to leave and another seated mid-conversation, by keyboard; the
  next round's speakers are the new table, and the table is stored (a reload shows it);
- "Ask them together" on the Master Finder's picks starts a round table of those masters;
- the hall's picker seats 2 to 4 masters: one or five are refused with a clear message (in the
  hall, on /roundtable and over the API);
- the @-mention autocomplete offers names in both languages (a Chinese prefix, an English one,
  right after Chinese text), and the master picked joins.
"""

from __future__ import annotations

from .conftest import ASSISTANT, conversation_id, require_playwright, send, wait_final

expect = require_playwright().expect

TABLE = ["socrates", "marcus-aurelius", "aaron-beck"]


def _stored(live, conv_id: str) -> dict:
    response = live.api("GET", f"/api/conversations/{conv_id}")
    assert response.status_code == 200
    return response.json()


def _name(live, master_id: str, lang: str = "en") -> str:
    return live.api("GET", f"/api/masters/{master_id}").json()["name"][lang]


def _chips(page) -> list[str]:
    chips = page.locator("#members-list .member-chip")
    return [chips.nth(i).get_attribute("data-id") for i in range(chips.count())]


def _round_speakers(live, conv_id: str) -> list[str]:
    """The masters who answered the last message, in order."""
    messages = _stored(live, conv_id)["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    return [m["master_id"] for m in messages[last_user + 1:] if m["role"] == "assistant"]


def test_members_bar_seats_and_removes_masters_mid_conversation(page, live, axe_check):
    page.goto(live.url + "/roundtable?masters=" + ",".join(TABLE))
    expect(page.locator("#members-list .member-chip")).to_have_count(3)
    live.fake.queue("one", "two", "three")
    send(page, "What is courage?")
    conv_id = conversation_id(page)
    wait_final(page, 3)

    # the first master (the conversation's own) is asked to leave, by keyboard
    leave = page.locator('#members-list .member-chip[data-id="socrates"] .member-remove')
    expect(leave).to_have_accessible_name("Remove Socrates from the table")
    leave.focus()
    leave.press("Enter")
    expect(page.locator("#members-list .member-chip")).to_have_count(2)
    assert _chips(page) == ["marcus-aurelius", "aaron-beck"]
    # focus stays in the members bar (not dropped to the page with the button that is gone)
    assert page.evaluate("() => !!document.activeElement.closest('#members-bar')")
    expect(page.locator("#chat-live")).to_contain_text("Socrates left the table")
    # at two, nobody more may leave (a table seats at least two)
    expect(page.locator("#members-list .member-remove").first).to_be_disabled()

    # Laozi is seated, by keyboard: the list, then the button
    select = page.locator("#member-add")
    expect(select.locator('option[value="socrates"]')).to_have_count(1)  # who left may come back
    expect(select.locator('option[value="marcus-aurelius"]')).to_have_count(0)  # already seated
    select.focus()
    select.select_option("laozi")
    page.keyboard.press("Tab")
    expect(page.locator("#member-add-button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#members-list .member-chip")).to_have_count(3)
    assert _chips(page) == ["marcus-aurelius", "aaron-beck", "laozi"]
    expect(page.locator("#chat-live")).to_contain_text("Laozi joined the table")
    stored = _stored(live, conv_id)["conversation"]
    assert stored["members"] == ["marcus-aurelius", "aaron-beck", "laozi"]
    assert stored["master_id"] in stored["members"]  # the conversation's master is one still seated
    axe_check(page, "round table, members changed")

    # the next round: the new table speaks, the master who left does not
    live.fake.queue("four", "five", "six")
    send(page, "And what is fear?")
    wait_final(page, 6)
    spoke = _round_speakers(live, conv_id)
    assert sorted(spoke) == ["aaron-beck", "laozi", "marcus-aurelius"]
    bubbles = page.locator(ASSISTANT)
    for i, master_id in enumerate(spoke):
        expect(bubbles.nth(3 + i).locator(".msg-who")).to_have_text(_name(live, master_id))

    # stored: a reload shows the new table, its heading and each reply under its master
    page.reload()
    expect(page.locator("#members-list .member-chip")).to_have_count(3)
    assert _chips(page) == ["marcus-aurelius", "aaron-beck", "laozi"]
    expect(page.locator(".msg-greeting .msg-who")).not_to_have_text("Socrates")
    expect(page.locator(ASSISTANT)).to_have_count(6)
    stored = [m["master_id"] for m in _stored(live, conv_id)["messages"] if m["role"] == "assistant"]
    assert "socrates" in stored[:3]  # who left keeps their replies
    for i, master_id in enumerate(stored):
        expect(page.locator(ASSISTANT).nth(i).locator(".msg-who")).to_have_text(_name(live, master_id))


def test_members_bar_says_clearly_when_a_change_fails(page, live):
    page.goto(live.url + "/roundtable?masters=" + ",".join(TABLE))
    live.fake.queue("one", "two", "three")
    send(page, "What is courage?")
    conv_id = conversation_id(page)
    wait_final(page, 3)
    page.route("**/members", lambda route: route.fulfill(
        status=400, content_type="application/json",
        body='{"error": {"code": "invalid_request", "message": "A round table seats 2 to 8 different masters."}}'))
    page.locator("#member-add").select_option("laozi")
    page.locator("#member-add-button").click()
    alert = page.locator(".chat-notice.is-error[role=alert]")
    expect(alert).to_contain_text("A round table seats 2 to 8 different masters.")
    assert _chips(page) == TABLE  # unchanged, here and on the server
    assert _stored(live, conv_id)["conversation"]["members"] == TABLE
    page.unroute("**/members")


def test_ask_them_together_starts_a_round_table_of_the_finders_picks(page, live):
    picks = ["viktor-frankl", "socrates", "laozi"]
    page.goto(live.url + "/")
    page.evaluate("() => { window.MasterHall.hall.match = async (q) => q.includes('meaning') ? "
                  f"{picks!r} : (q.includes('alone') ? ['socrates'] : []); }}")
    together = page.locator("#finder-together")
    page.locator("#search-input").fill("I feel alone")  # one pick: nothing to ask together
    expect(page.locator("#finder-grid .finder-pick")).to_have_count(1)
    expect(together).to_be_hidden()
    need = "I have lost the meaning of my work"
    page.locator("#search-input").fill(need)
    expect(page.locator("#finder-grid .finder-pick")).to_have_count(3)
    expect(together).to_be_visible()
    expect(together).to_have_text("Ask them together")
    live.fake.queue("r1", "r2", "r3")
    together.focus()  # a link: reached and followed by keyboard
    page.keyboard.press("Enter")
    conv_id = conversation_id(page)
    wait_final(page, 3)
    expect(page.locator(".msg[data-role=user] .msg-content").first).to_have_text(need)
    assert _chips(page) == picks
    stored = _stored(live, conv_id)
    assert stored["conversation"]["members"] == picks
    assert sorted(m["master_id"] for m in stored["messages"] if m["role"] == "assistant") == sorted(picks)


def test_hall_picker_seats_two_to_four_and_refuses_one_or_five_clearly(page, live, axe_check):
    page.goto(live.url + "/")
    summary = page.locator("#table-picker summary")
    summary.focus()
    page.keyboard.press("Enter")  # opens by keyboard
    axe_check(page, "hall, round-table picker open", include="#table-picker")
    start = page.locator("#table-start")
    hint = page.locator("#table-hint")
    expect(start).to_be_disabled()
    expect(hint).to_have_text("Pick at least 2 masters.")
    box = page.locator('#table-form input[value="socrates"]')
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    expect(start).to_be_disabled()  # one is not a round table
    expect(start).to_have_text("Start a round table (1)")
    expect(hint).to_have_text("Pick one more master.")
    for master_id in ["laozi", "confucius", "aaron-beck"]:
        page.locator(f'#table-form input[value="{master_id}"]').check()
    expect(start).to_be_enabled()
    expect(hint).to_have_text("4 masters: the most a round table starts with.")
    fifth = page.locator('#table-form input[value="viktor-frankl"]')
    expect(fifth).to_be_disabled()  # a fifth cannot be ticked
    start.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/roundtable?**")
    assert _chips(page) == ["socrates", "laozi", "confucius", "aaron-beck"]  # in the order ticked
    # before the first message a master may still leave: the heading follows, the table starts with three
    page.locator('#members-list .member-chip[data-id="confucius"] .member-remove').click()
    expect(page.locator("#chat-title")).to_have_text(" · ".join(_name(live, m) for m in ["socrates", "laozi", "aaron-beck"]))
    expect(page.locator(".table-avatars .avatar")).to_have_count(3)
    live.fake.queue("a", "b", "c")
    send(page, "What is a friend?")
    conv_id = conversation_id(page)
    wait_final(page, 3)
    assert _stored(live, conv_id)["conversation"]["members"] == ["socrates", "laozi", "aaron-beck"]

    # typed into the address bar: one or five are refused with a clear page, not a round table
    five = ",".join(["socrates", "laozi", "confucius", "aaron-beck", "viktor-frankl"])
    for masters, count in (("socrates", 1), (five, 5)):
        response = page.goto(live.url + "/roundtable?masters=" + masters)
        assert response.status == 400
        expect(page.locator(".not-found-message")).to_have_text(
            f"A round table starts with 2 to 4 masters of this hall ({count} given).")
        expect(page.locator("#input")).to_have_count(0)
        back = page.get_by_role("link", name="Pick masters in the hall")
        expect(back).to_have_attribute("href", "/#table-picker")
    axe_check(page, "round table refused")
    back.click()  # back in the hall, the picker is open
    expect(page.locator("#table-picker")).to_have_attribute("open", "")
    # the API refuses them too, with a readable message
    for ids in (["socrates"], five.split(",")):
        r = live.api("POST", "/api/messages", json={"content": "hi", "master_ids": ids})
        assert r.status_code == 400
        assert "2 to 4" in r.json()["error"]["message"]


def test_mention_autocomplete_offers_names_in_both_languages(page, live, context):
    page.goto(live.url + "/masters/marcus-aurelius/chat")
    box = page.locator("#input")
    options = page.locator("#mention-list [role=option]")
    # a Chinese prefix finds the master; the option shows both names
    box.press_sequentially("@苏格")
    expect(options.first).to_contain_text("Socrates")
    expect(options.first).to_contain_text("苏格拉底")
    expect(box).to_have_attribute("aria-activedescendant", "mention-socrates")
    box.press("Enter")
    expect(box).to_have_value("@Socrates ")
    expect(page.locator("#mention-list")).to_be_hidden()
    # an English prefix; ↓ moves the choice, Tab takes it
    box.fill("")
    box.press_sequentially("@Con")
    expect(options.first).to_contain_text("Confucius")
    expect(options.first).to_contain_text("孔子")
    box.press("Escape")  # closes the list, keeps the text
    expect(page.locator("#mention-list")).to_be_hidden()
    expect(box).to_have_value("@Con")
    # right after Chinese text (no space before @, as Chinese is written)
    box.fill("")
    box.press_sequentially("请问@老")
    expect(options.first).to_contain_text("Laozi")
    box.press("Tab")
    expect(box).to_have_value("请问@Laozi ")
    # but not inside an e-mail address
    box.fill("")
    box.press_sequentially("mail me at me@soc")
    expect(page.locator("#mention-list")).to_be_hidden()

    # the master picked joins: a plain chat becomes a round table
    box.fill("")
    box.press_sequentially("@苏格")
    box.press("Enter")
    live.fake.queue("from Socrates", "from Marcus")
    box.press_sequentially("what is a good life?")
    box.press("Enter")
    conv_id = conversation_id(page)
    wait_final(page, 2)
    expect(page.locator("#members-bar")).to_be_visible()
    assert _chips(page) == ["marcus-aurelius", "socrates"]
    expect(page.locator("h1")).to_contain_text("Round table")  # the heading, as after a reload
    expect(page.locator(".table-avatars .avatar")).to_have_count(2)
    expect(page.locator("#input")).to_have_attribute("placeholder", "Ask the table… (@ to address a master)")
    assert _round_speakers(live, conv_id)[0] == "socrates"  # addressed: speaks first

    # in the Chinese interface an English prefix offers the Chinese name, and inserts it
    context.add_cookies([{"name": "lang", "value": "zh", "url": live.url}])
    page.goto(live.url + "/masters/laozi/chat")
    box = page.locator("#input")
    box.press_sequentially("@Soc")
    expect(options.first).to_contain_text("苏格拉底")
    expect(options.first).to_contain_text("Socrates")
    box.press("Enter")
    expect(box).to_have_value("@苏格拉底 ")
