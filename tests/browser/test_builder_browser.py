"""The builder in a real browser: create a master with the form (validation beside the fields),
one-click test, preview with the debug panel, publish, find it in the hall and chat with it;
fork a built-in, import a CSV, upload an avatar image, and no script from a master's fields.

Set ``BUILDER_SCREENSHOTS=DIR`` to keep screenshots of the main steps.
"""

from __future__ import annotations

import base64
import os
import re
import struct
import time
import zlib
from pathlib import Path

import pytest

from .conftest import ASSISTANT, require_playwright, send, wait_final

expect = require_playwright().expect

QUILL = {
    "id": "quill-coach",
    "category": "writing",
    "avatar": "🪶",
    "name": {"zh": "羽笔俳句教练", "en": "Quill the Haiku Coach"},
    "tagline": {"zh": "陪你数音节，写出三行小诗", "en": "Counts syllables with you until the haiku sings"},
    "description": {"zh": "一位耐心的俳句教练。", "en": "A patient coach for haiku and other short poems."},
    "greeting": {"zh": "你好！今天想写一首什么样的俳句？", "en": "Hello! What shall your haiku be about today?"},
    "instructions": "You are Quill, a patient haiku coach. Ask for the season word (kigo) first, then count "
                    "five, seven, five syllables with the person, one line at a time.",
    "starters": {
        "zh": ["怎么写一首关于秋天的俳句？", "什么是季语？", "帮我改改这三行诗"],
        "en": ["How do I write an autumn haiku?", "What is a kigo?", "Can you fix my three lines?"],
    },
    "tags": {"zh": ["俳句", "诗歌"], "en": ["haiku", "poetry"]},
    "examples": [{"user": "I want to write about rain.", "assistant": "Lovely. Which season is your rain in — spring or autumn?"}],
}
CSV = (
    "act,prompt\n"
    "Tea Sommelier,I want you to act as a tea sommelier who suggests teas for every mood and meal.\n"
    "Kite Maker,I want you to act as a kite maker who explains how to build and fly simple kites.\n"
)
BROKEN_CSV = (
    "act,prompt\n"
    "Good Guide,I want you to act as a helpful guide for hikers in the mountains.\n"
    "Empty One,\n"
    "Empty Two,\n"
)


def tiny_png() -> bytes:
    """A valid 2×2 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + b"\xb8\x43\x2e" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def shot(page, name: str) -> None:
    """Keep a screenshot when ``$BUILDER_SCREENSHOTS`` names a folder."""
    folder = os.environ.get("BUILDER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


@pytest.fixture(autouse=True)
def _no_user_masters(live):
    """Each test starts and ends without user masters (the server is shared by the session)."""
    def clear():
        for um in live.hall.library.list():
            live.hall.library.delete(um.id)
    clear()
    yield
    clear()


def fill_form(page, m: dict) -> None:
    """Type master ``m`` into the builder form (ids as in builder_edit.html), once the editor's
    script has filled and bound it (it overwrites the fields when it starts)."""
    page.locator("#master-form[data-ready]").wait_for()
    for lang in ("zh", "en"):
        for key in ("name", "tagline", "description", "greeting"):
            page.locator(f"#f-{key}-{lang}").fill(m[key][lang])
    page.locator("#f-id").fill(m["id"])
    page.locator("#f-category").select_option(m["category"])
    page.locator("#f-avatar").fill(m["avatar"])
    page.locator("#f-instructions").fill(m["instructions"])
    for lang in ("zh", "en"):
        for i, text in enumerate(m["starters"][lang]):
            page.locator(f"#f-starters-{lang}-{i}").fill(text)
        page.locator(f"#f-tags-{lang}").fill(", ".join(m["tags"][lang]))
    example = page.locator("#examples-list .example-row").first
    example.locator(".example-user").fill(m["examples"][0]["user"])
    example.locator(".example-assistant").fill(m["examples"][0]["assistant"])


def api_master(live, master_id: str = "socrates") -> dict:
    return live.api("GET", f"/api/masters/{master_id}").json()


def test_create_test_preview_publish_find_and_chat(page, live):
    page.goto(live.url + "/")
    page.locator("#nav-new-master").click()
    expect(page).to_have_url(live.url + "/builder/new")
    expect(page.locator("h1")).to_have_text("New master")

    # first with two mistakes: the messages show beside their fields, nothing is stored
    fill_form(page, {**QUILL, "instructions": "Too short."})
    page.locator("#f-param-temperature").fill("3")
    page.locator("#save").click()
    instructions_error = page.locator('[data-field="instructions"] > .field-error')
    temperature_error = page.locator('[data-field="params.temperature"] > .field-error')
    expect(instructions_error).to_have_text(re.compile("at least 40 characters"))
    expect(temperature_error).to_have_text(re.compile("at most 2"))
    expect(page.locator(".field-error")).to_have_count(2)
    expect(page.locator("#f-instructions")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-summary")).to_contain_text("2 field(s) need attention")
    expect(page.locator("#save-state")).to_contain_text("Not saved")
    shot(page, "01-validation")
    assert live.api("GET", "/api/builder/masters/quill-coach").status_code == 404

    # fixing a field clears its message as you type
    page.locator("#f-instructions").fill(QUILL["instructions"])
    expect(instructions_error).to_have_count(0)
    expect(temperature_error).to_be_visible()
    page.locator("#f-param-temperature").fill("0.4")
    expect(page.locator(".field-error")).to_have_count(0)
    expect(page.locator("#form-summary")).to_be_hidden()
    page.locator("#save").click()
    expect(page.locator("#save-state")).to_contain_text("Draft saved")
    expect(page).to_have_url(live.url + "/builder/quill-coach")
    expect(page.locator("#f-id")).to_have_attribute("readonly", "")
    stored = live.api("GET", "/api/builder/masters/quill-coach").json()
    assert stored["status"] == "draft"
    assert stored["master"]["instructions"] == QUILL["instructions"]
    assert stored["master"]["starters"] == QUILL["starters"] and stored["master"]["tags"] == QUILL["tags"]
    assert stored["master"]["params"]["temperature"] == 0.4
    assert live.api("GET", "/api/masters/quill-coach").status_code == 404  # a draft is not in the hall

    # one-click test: each starter's answer streams into its own card
    live.fake.delay_s = 0.03
    page.locator("#tab-test").click()
    page.locator("#run-test").click()
    cards = page.locator("#test-grid .test-card")
    expect(cards).to_have_count(6)
    seen_streaming, partials = 0, set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        states = page.evaluate("""() => Array.from(document.querySelectorAll('#test-grid .test-card'))
            .map(c => [c.dataset.status, c.querySelector('.test-answer').textContent])""")
        streaming = [text for status, text in states if status == "streaming"]
        seen_streaming = max(seen_streaming, len(streaming))
        partials.update(text for text in streaming if text)
        if all(status == "complete" for status, _ in states):
            break
        time.sleep(0.02)
    assert seen_streaming >= 2, "several starters stream at the same time"
    assert partials, "answers were seen while they streamed"
    shot(page, "02-one-click-test")
    for i in range(6):
        card = cards.nth(i)
        expect(card).to_have_attribute("data-status", "complete")
        starter = card.locator(".test-starter").text_content()
        expect(card.locator(".test-answer")).to_have_text(f"[fake] You said: {starter}")
        expect(card.locator(".test-usage")).to_contain_text("TTFT")
    assert sorted(cards.locator(".test-starter").all_text_contents()) == sorted(QUILL["starters"]["zh"] + QUILL["starters"]["en"])
    expected = [f"[fake] You said: {s}" for s in QUILL["starters"]["zh"] + QUILL["starters"]["en"]]
    assert all(any(full.startswith(p) for full in expected) for p in partials), "streamed text grows by appending"

    # preview with the debug panel
    live.fake.delay_s = 0.01
    conversations_before = len(live.api("GET", "/api/conversations").json())
    page.locator("#tab-preview").click()
    expect(page.locator("#preview-thread .msg-greeting")).to_contain_text("What shall your haiku be about today?")
    live.fake.queue("Five, seven, five — which season is it?")
    page.locator("#preview-input").fill("Teach me to write a haiku")
    page.locator("#preview-input").press("Enter")
    turn = page.locator("#preview-thread .preview-turn").last
    expect(turn.locator(".msg-content")).to_have_text("Five, seven, five — which season is it?")
    expect(turn.locator(".msg")).to_have_attribute("data-status", "complete")
    debug = turn.locator("details.debug")
    expect(debug).to_have_attribute("open", "")
    system = debug.locator('.debug-message[data-kind="system"]')
    expect(system.locator(".debug-content")).to_contain_text(QUILL["instructions"])
    expect(system.locator(".debug-content")).to_contain_text("Hall rules")
    # the example chosen for this turn is listed, and sent as a user/assistant exchange after the system prompt
    expect(debug.locator(".debug-example .debug-content")).to_have_text(
        [QUILL["examples"][0]["user"], QUILL["examples"][0]["assistant"]])
    expect(debug.locator('.debug-message[data-kind="example"] .debug-content')).to_have_text(
        [QUILL["examples"][0]["user"], QUILL["examples"][0]["assistant"]])
    expect(system.locator(".debug-content")).not_to_contain_text(QUILL["examples"][0]["assistant"])
    expect(debug.locator('.debug-message[data-kind="new"] .debug-content')).to_have_text("Teach me to write a haiku")
    expect(debug.locator('[data-debug="backend"]')).to_have_text("fake")
    expect(debug.locator('[data-debug="model"]')).to_have_text("fake")
    expect(debug.locator('[data-debug="params"]')).to_contain_text("temperature = 0.4")
    expect(debug.locator('[data-debug="context"]')).to_contain_text("of 4,096 tokens")
    expect(debug.locator('[data-debug="dropped"]')).to_have_text("nothing")
    timing = debug.locator('[data-debug="timing"]')
    expect(timing).to_contain_text("TTFT")
    expect(timing).to_contain_text("tokens/s")
    tokens = [int(re.match(r"(\d+) tokens", t).group(1)) for t in debug.locator(".debug-tokens").all_text_contents()]
    assert len(tokens) == 4 and all(n > 0 for n in tokens)  # system prompt, the example exchange, the new message
    used = int(re.search(r"([\d,]+) of 4,096", debug.locator('[data-debug="context"]').text_content()).group(1).replace(",", ""))
    assert used == sum(tokens), "the context line adds up the messages' token counts"
    sent = live.fake.calls[-1][0]
    assert [m.content for m in sent][-1] == "Teach me to write a haiku" and sent[0].content.startswith(QUILL["instructions"])
    shot(page, "03-preview-debug")

    # a second turn carries the first as history
    page.locator("#preview-input").fill("Autumn, please")
    page.locator("#preview-input").press("Enter")
    second = page.locator("#preview-thread .preview-turn").nth(1)
    expect(second.locator(".msg")).to_have_attribute("data-status", "complete")
    expect(second.locator('.debug-message[data-kind="history"] .debug-content')).to_have_text(
        ["Teach me to write a haiku", "Five, seven, five — which season is it?"])
    expect(page.locator("#preview-thread details.debug[open]")).to_have_count(1)  # older panels fold
    assert len(live.api("GET", "/api/conversations").json()) == conversations_before  # previews are not stored

    # publish: it is in the hall at once
    page.locator("#publish").click()
    expect(page.locator("#status-badge")).to_have_text("Published")
    expect(page.locator("#save-state")).to_contain_text("published")
    expect(page.locator("#view-in-hall")).to_be_visible()
    assert live.api("GET", "/api/builder/masters/quill-coach").json()["status"] == "published"

    page.goto(live.url + "/")
    card = page.locator('section.category .master-card[data-id="quill-coach"]')
    expect(card).to_be_visible()
    expect(page.locator("#cat-writing .master-card")).to_have_count(7)
    page.locator("#search-input").fill("haiku")
    expect(card).to_be_visible()
    expect(page.locator("section.category .master-card:visible")).to_have_count(1)
    if page.locator("#hall-search").get_attribute("data-match-url"):  # the Finder's endpoint exists
        page.locator("#search-input").fill("I want to write a haiku about autumn")
        expect(page.locator('#finder-grid .master-card[data-id="quill-coach"]')).to_be_visible(timeout=10_000)
        page.locator("#search-input").fill("haiku")
    shot(page, "04-found-in-hall")

    card.click()
    expect(page).to_have_url(live.url + "/masters/quill-coach")
    expect(page.locator("h1")).to_have_text("Quill the Haiku Coach")
    expect(page.locator("#edit-master")).to_be_visible()
    page.locator("#start-chat").click()
    live.fake.queue("Let us begin with the season word.")
    send(page, "Hello Quill")
    answer = wait_final(page)
    expect(answer.locator(".msg-content")).to_have_text("Let us begin with the season word.")
    assert live.fake.calls[-1][0][0].content.startswith(QUILL["instructions"])
    shot(page, "05-chat")


def test_fork_a_builtin_and_edit_the_copy(page, live):
    page.goto(live.url + "/masters/socrates")
    expect(page.locator("#edit-master")).to_have_count(0)  # built-ins are read-only
    page.locator("#fork-master").click()
    page.wait_for_url(live.url + "/builder/socrates-copy")
    expect(page.locator("#f-id")).to_have_value("socrates-copy")
    expect(page.locator("#f-id")).to_have_attribute("readonly", "")
    expect(page.locator("#f-name-en")).to_have_value("Socrates")
    expect(page.locator("#f-instructions")).to_have_value(api_master(live)["instructions"])
    expect(page.locator("#status-badge")).to_have_text("Draft")
    expect(page.locator(".breadcrumbs")).to_contain_text("forked from socrates")
    expect(page.locator("#examples-list .example-row")).to_have_count(len(api_master(live)["examples"]))

    page.locator("#f-name-en").fill("Socrates, my way")
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    page.locator("#save").click()
    expect(page.locator("#save-state")).to_contain_text("Draft saved")
    stored = live.api("GET", "/api/builder/masters/socrates-copy").json()
    assert stored["forked_from"] == "socrates" and stored["master"]["name"]["en"] == "Socrates, my way"
    assert stored["master"]["examples"] == api_master(live)["examples"]
    assert api_master(live)["name"]["en"] == "Socrates"  # the built-in is untouched

    missing = page.goto(live.url + "/builder/socrates")
    assert missing.status == 404
    expect(page.locator(".not-found-message")).to_contain_text("built-in master")

    page.goto(live.url + "/builder")
    item = page.locator('.um-item[data-id="socrates-copy"]')
    expect(item).to_contain_text("Socrates, my way")
    expect(item).to_contain_text("forked from socrates")
    expect(item.locator(".status-badge")).to_have_text("Draft")


def test_my_masters_list_publishes_exports_and_deletes(page, live):
    m = {**api_master(live), "id": "list-stoic", "name": {"zh": "列表斯多葛", "en": "List Stoic"}}
    assert live.api("POST", "/api/builder/masters", json={"master": m}).status_code == 201
    page.goto(live.url + "/")
    page.locator("#nav-builder").click()
    expect(page).to_have_url(live.url + "/builder")
    item = page.locator('.um-item[data-id="list-stoic"]')
    expect(item.locator(".um-name")).to_have_text("List Stoic")
    expect(item.locator(".status-badge")).to_have_text("Draft")

    item.locator('[data-action="publish"]').click()
    expect(item.locator(".status-badge")).to_have_text("Published")
    assert "list-stoic" in live.hall.catalog.masters
    expect(item.locator('[data-action="view"]')).to_have_attribute("href", "/masters/list-stoic")

    item.locator(".export-menu summary").click()
    links = item.locator(".export-menu a[data-format]")
    expect(links).to_have_count(6)
    for fmt in ("yaml", "card-json"):
        href = item.locator(f'.export-menu a[data-format="{fmt}"]').get_attribute("href")
        assert href == f"/api/masters/list-stoic/export?format={fmt}"
        assert live.api("GET", href).status_code == 200
    with page.expect_download() as download:
        item.locator('.export-menu a[data-format="json"]').click()
    assert download.value.suggested_filename.startswith("list-stoic")

    item.locator('[data-action="unpublish"]').click()
    expect(item.locator(".status-badge")).to_have_text("Draft")
    assert "list-stoic" not in live.hall.catalog.masters

    item.locator('[data-action="edit"]').click()
    expect(page).to_have_url(live.url + "/builder/list-stoic")
    page.wait_for_load_state("networkidle")  # the editor's script has loaded the draft and bound its buttons
    page.locator("#delete-master").click()
    expect(page.locator(".confirm-dialog")).to_contain_text("Delete the master “List Stoic”?")
    page.locator(".confirm-dialog [data-confirm=ok]").click()
    expect(page).to_have_url(live.url + "/builder")
    expect(page.locator(".um-item")).to_have_count(0)
    expect(page.locator("#um-empty")).to_be_visible()
    assert live.api("GET", "/api/builder/masters/list-stoic").status_code == 404


def test_import_a_csv_through_the_form(page, live):
    page.goto(live.url + "/builder")
    page.locator("#import-file").set_input_files(files=[{"name": "prompts.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    page.locator("#import-category").select_option("life")
    page.locator("#import-publish").check()
    page.locator("#import-submit").click()
    result = page.locator("#import-result")
    expect(result).to_contain_text("Imported and published 2 master(s)")
    ids = result.locator("li[data-id]")
    expect(ids).to_have_count(2)
    imported = [ids.nth(i).get_attribute("data-id") for i in range(2)]
    assert imported == ["tea-sommelier", "kite-maker"]
    expect(page.locator(".um-item")).to_have_count(2)
    expect(page.locator('.um-item[data-id="tea-sommelier"] .status-badge')).to_have_text("Published")
    assert {"tea-sommelier", "kite-maker"} <= set(live.hall.catalog.masters)
    shot(page, "06-import")
    ids.first.locator("a").click()
    expect(page).to_have_url(live.url + "/builder/tea-sommelier")
    expect(page.locator("#f-name-en")).to_have_value("Tea Sommelier")
    expect(page.locator("#f-category")).to_have_value("life")

    # a file with bad records: every rejected record is listed and nothing is stored
    page.goto(live.url + "/builder")
    page.locator("#import-file").set_input_files(files=[{"name": "broken.csv", "mimeType": "text/csv", "buffer": BROKEN_CSV.encode()}])
    page.locator("#import-submit").click()
    expect(result).to_have_class(re.compile("is-error"))
    expect(result).to_contain_text("2 record(s) rejected — nothing was imported")
    rejected = result.locator("li.import-rejected")
    expect(rejected).to_have_count(2)
    expect(rejected.first).to_contain_text("Empty One")
    expect(rejected.nth(1)).to_contain_text("Empty Two")
    expect(page.locator(".um-item")).to_have_count(2)
    assert live.api("GET", "/api/builder/masters/good-guide").status_code == 404

    page.locator("#import-file").set_input_files(files=[{"name": "x.json", "mimeType": "application/json", "buffer": b"{not json"}])
    page.locator("#import-submit").click()
    expect(result).to_contain_text("The file could not be imported")


def test_avatar_image_upload_renders_as_img_and_bad_images_are_refused(page, live):
    assert live.api("POST", "/api/builder/fork/socrates", json={"new_id": "pic-master"}).status_code == 201
    page.goto(live.url + "/builder/pic-master")
    preview = page.locator("#avatar-preview")
    expect(preview.locator("img")).to_have_count(0)
    page.locator("#f-avatar-image").set_input_files(files=[{"name": "me.png", "mimeType": "image/png", "buffer": tiny_png()}])
    expect(preview.locator("img.avatar-img")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    expect(page.locator('[data-field="avatar_image"] > .field-error')).to_have_count(0)
    page.locator("#publish").click()
    expect(page.locator("#status-badge")).to_have_text("Published")
    url = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    assert live.api("GET", "/api/masters/pic-master").json()["avatar_image"] == url

    page.goto(live.url + "/")
    expect(page.locator('.master-card[data-id="pic-master"] .avatar img')).to_have_attribute("src", url)
    page.goto(live.url + "/masters/pic-master")
    expect(page.locator(".profile-head .avatar-xl img")).to_have_attribute("src", url)
    page.goto(live.url + "/masters/pic-master/chat")
    expect(page.locator(".chat-master .avatar img")).to_have_attribute("src", url)
    expect(page.locator(".msg-greeting .msg-avatar img")).to_have_attribute("src", url)
    send(page, "Hello")
    answer = wait_final(page)
    expect(answer.locator(".msg-avatar img")).to_have_attribute("src", url)
    expect(page.locator("#conv-list .conv-avatar img").first).to_have_attribute("src", url)
    shot(page, "07-avatar-in-chat")

    # a "PNG" that is not one, and an SVG: the field says why, nothing is saved
    page.goto(live.url + "/builder/pic-master")
    field_error = page.locator('[data-field="avatar_image"] > .field-error')
    page.locator("#f-avatar-image").set_input_files(files=[{"name": "evil.png", "mimeType": "image/png", "buffer": b"<script>alert(1)</script>"}])
    expect(field_error).to_contain_text("not a PNG image")
    expect(preview).to_have_text("⚠️")  # not shown as a (broken) picture
    page.locator("#save").click()
    expect(field_error).to_contain_text("not a PNG image")
    expect(page.locator("#save-state")).to_contain_text("Not saved")
    shot(page, "08-bad-avatar")
    page.locator("#f-avatar-image").set_input_files(files=[{"name": "evil.svg", "mimeType": "image/svg+xml", "buffer": b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"}])
    expect(field_error).to_contain_text("data:image/png, jpeg, webp or gif")
    expect(preview.locator("img")).to_have_count(0)  # never shown as an image
    assert page.locator('img[src^="data:image/svg"]').count() == 0
    assert live.api("GET", "/api/masters/pic-master").json()["avatar_image"] == url

    # removing the picture goes back to the emoji
    page.locator("#avatar-image-remove").click()
    expect(field_error).to_have_count(0)
    page.locator("#save").click()
    expect(page.locator("#save-state")).to_contain_text("published")
    assert live.api("GET", "/api/masters/pic-master").json().get("avatar_image") is None
    page.goto(live.url + "/")
    expect(page.locator('.master-card[data-id="pic-master"] .avatar')).to_have_text("🏛️")
    assert page.dialogs == []


EVIL = {
    "name": {"zh": '<img src=x onerror="window.__pwned=1">', "en": "<script>window.__pwned=2</script>"},
    "tagline": {"zh": "<script>window.__pwned=3</script>", "en": '<img src=x onerror="window.__pwned=4">'},
    "description": {"zh": "<b onmouseover=alert(5)>描述</b>", "en": '<iframe src="javascript:alert(6)"></iframe>'},
    "greeting": {"zh": "<script>alert(7)</script>你好", "en": '<svg onload="window.__pwned=8"></svg>hello'},
    "avatar": "<b>x</b>",
    "starters": {"zh": ["<script>alert(9)</script>", "<img src=x onerror=alert(10)>", "普通的问题"],
                 "en": ["<script>window.__pwned=11</script>", '"><img src=x onerror=alert(12)>', "plain"]},
    "tags": {"zh": ["<img src=x onerror=alert(13)>"], "en": ["</script><script>alert(14)</script>"]},
    "instructions": "</textarea><script>window.__pwned=15</script> You are a careful test master who answers briefly.",
}


def _assert_nothing_ran(page):
    assert page.evaluate("() => window.__pwned") is None
    assert page.dialogs == []
    assert page.locator('img[src="x"], iframe, svg, b').count() == 0
    scripts = page.evaluate("""() => Array.from(document.scripts)
        .filter(s => s.type !== 'application/json').map(s => s.src ? '' : s.textContent).join('')""")
    assert "__pwned" not in scripts and "alert(" not in scripts


def test_no_script_from_a_masters_fields_ever_runs(page, live):
    m = {**api_master(live), **EVIL, "id": "evil-master"}
    r = live.api("POST", "/api/builder/masters", json={"master": m, "status": "published"})
    assert r.status_code == 201, r.text

    page.goto(live.url + "/")
    card = page.locator('.master-card[data-id="evil-master"]')
    expect(card.locator(".card-name")).to_have_text(EVIL["name"]["en"])
    expect(card.locator(".card-tagline")).to_have_text(EVIL["tagline"]["en"])
    expect(card.locator(".avatar")).to_have_text("<b>x</b>")
    page.locator("#search-input").fill("script")
    expect(card).to_be_visible()
    _assert_nothing_ran(page)

    page.goto(live.url + "/masters/evil-master")
    expect(page.locator("h1")).to_have_text(EVIL["name"]["en"])
    expect(page.locator(".profile-greeting")).to_have_text(EVIL["greeting"]["en"])
    expect(page.locator(".starter").first).to_have_text(EVIL["starters"]["en"][0])
    _assert_nothing_ran(page)

    page.goto(live.url + "/masters/evil-master/chat")
    page.locator("#intro-starters .starter").nth(1).click()
    wait_final(page)
    expect(page.locator(f"{ASSISTANT} .msg-content").first).to_contain_text(EVIL["starters"]["en"][1])
    expect(page.locator(".chat-master-name")).to_have_text(EVIL["name"]["en"])
    _assert_nothing_ran(page)

    page.goto(live.url + "/builder")
    expect(page.locator('.um-item[data-id="evil-master"] .um-name')).to_have_text(EVIL["name"]["en"])
    _assert_nothing_ran(page)

    page.goto(live.url + "/builder/evil-master")
    expect(page.locator("#f-instructions")).to_have_value(EVIL["instructions"])
    expect(page.locator("#f-name-zh")).to_have_value(EVIL["name"]["zh"])
    page.locator("#preview-input").fill("<img src=x onerror=alert(16)>")
    page.locator("#preview-input").press("Enter")
    turn = page.locator("#preview-thread .preview-turn").last
    expect(turn.locator(".msg")).to_have_attribute("data-status", "complete")
    expect(turn.locator('.debug-message[data-kind="system"] .debug-content')).to_contain_text(EVIL["instructions"])
    page.locator("#tab-test").click()
    page.locator("#run-test").click()
    cards = page.locator("#test-grid .test-card")
    expect(cards).to_have_count(6)
    expect(cards.locator(".test-starter").first).to_have_text(EVIL["starters"]["zh"][0])
    expect(page.locator('#test-grid .test-card[data-status="complete"]')).to_have_count(6)
    _assert_nothing_ran(page)

    page.goto(live.url + "/lang/zh?next=/")  # the Chinese texts too
    expect(card.locator(".card-name")).to_have_text(EVIL["name"]["zh"])
    _assert_nothing_ran(page)


def test_builder_speaks_chinese_and_fits_a_phone(browser, live):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        pg = ctx.new_page()
        errors = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(live.url + "/builder/new")
        expect(pg.locator("h1")).to_have_text("新建大师")
        expect(pg.locator('label[for="f-instructions"]')).to_have_text("指令（系统提示词）")
        expect(pg.locator("#tab-test")).to_have_text("一键测试")
        pg.locator("#save").click()
        expect(pg.locator('[data-field="instructions"] > .field-error')).to_have_text(re.compile("至少写 40 个字符"))
        expect(pg.locator('[data-field="name.zh"] > .field-error')).to_have_text(re.compile("请填写此项"))
        expect(pg.locator('[data-field="starters.en"] > .field-error')).to_have_text(re.compile("至少需要填写 3 项"))
        expect(pg.locator("#form-summary")).to_contain_text("处需要修改")
        for path in ("/builder/new", "/builder", "/masters/socrates"):
            pg.goto(live.url + path)
            overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        expect(pg.locator("#fork-master")).to_contain_text("复刻")
        expect(pg.locator("#nav-new-master")).to_be_visible()
        assert errors == []
    finally:
        ctx.close()


def test_builder_pages_answer_plain_http(live):
    assert live.api("GET", "/builder").status_code == 200
    new = live.api("GET", "/builder/new")
    assert new.status_code == 200 and 'id="master-form"' in new.text
    assert live.api("GET", "/builder/nobody-here").status_code == 404
    assert live.api("GET", "/builder/socrates").status_code == 404
    for name in ("js/builder/edit.js", "js/builder/list.js", "css/builder.css", "js/master.js"):
        assert live.api("GET", f"/static/{name}").status_code == 200


def test_stop_the_test_and_the_preview(page, live):
    assert live.api("POST", "/api/builder/fork/socrates", json={"new_id": "slow-master"}).status_code == 201
    live.fake.delay_s = 0.15
    page.goto(live.url + "/builder/slow-master")
    page.locator("#tab-test").click()
    page.locator("#run-test").click()
    expect(page.locator('#test-grid .test-card[data-status="streaming"]').first).to_be_visible()
    page.locator("#stop-test").click()
    expect(page.locator("#run-test")).to_be_visible()
    expect(page.locator('#test-grid .test-card[data-status="stopped"]').first).to_be_visible()
    expect(page.locator('#test-grid .test-card[data-status="streaming"]')).to_have_count(0)

    page.locator("#tab-preview").click()
    live.fake.queue(" ".join(f"word{i}" for i in range(60)))
    page.locator("#preview-input").fill("Talk for a long time")
    page.locator("#preview-send").click()
    answer = page.locator("#preview-thread .preview-turn .msg").last
    expect(answer.locator(".msg-content")).to_contain_text("word2")
    page.locator("#preview-stop").click()
    expect(answer).to_have_attribute("data-status", "stopped")
    expect(page.locator("#preview-send")).to_be_visible()
    page.locator("#preview-reset").click()
    expect(page.locator("#preview-thread .preview-turn")).to_have_count(0)
    expect(page.locator("#preview-thread .msg-greeting")).to_be_visible()


def test_a_partial_draft_previews_and_tests_and_says_what_is_missing(page, live):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live.url + "/builder/new")
    page.locator("#f-name-en").fill("Half Done")
    page.locator("#f-instructions").fill("You are a patient gardening coach. Answer briefly, in the person's language.")
    page.locator("#tab-preview").click()
    live.fake.queue("Cut just above an outward-facing bud.")
    page.locator("#preview-input").fill("How do I prune roses?")
    page.locator("#preview-input").press("Enter")
    turn = page.locator("#preview-thread .preview-turn").last
    # was: "Fix the fields marked in the form first." and nothing sent
    expect(turn.locator(".msg-content")).to_have_text("Cut just above an outward-facing bud.")
    expect(turn.locator(".preview-notice")).to_contain_text("Still missing")
    summary = page.locator("#form-summary")
    expect(summary).to_be_visible()
    expect(page.locator('[data-field="examples"] .field-error, [data-field^="examples."] .field-error').first).to_be_visible()

    # the summary, once scrolled to, sits below the sticky header and toolbar
    # from the bottom of the page, scrolled at once (a mouse wheel scrolls smoothly and can still be moving the
    # page after scrollIntoView on a busy machine: the summary was then measured 1,300 px above the top)
    page.evaluate("() => window.scrollTo({top: document.body.scrollHeight, behavior: 'instant'})")
    summary.evaluate("node => node.scrollIntoView({block: 'start', behavior: 'instant'})")
    page.wait_for_timeout(300)
    summary_top = summary.evaluate("node => node.getBoundingClientRect().top")
    toolbar_bottom = page.locator("#toolbar").evaluate("node => node.getBoundingClientRect().bottom")
    assert summary_top >= toolbar_bottom, (summary_top, toolbar_bottom)
