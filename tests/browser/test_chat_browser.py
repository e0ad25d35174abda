"""The chat page in a real browser, against the real app with a scripted fake backend."""

from __future__ import annotations

import json
import queue
import threading
import time

import httpx

from masterhall.backends.base import BackendError
from masterhall.chat.prompt import ContextTooLongError

from .conftest import ASSISTANT, USER, conversation_id, require_playwright, send, wait_final

expect = require_playwright().expect

LONG = " ".join(f"word{i}" for i in range(80))


def _stored(live, conv_id: str) -> list[dict]:
    response = live.api("GET", f"/api/conversations/{conv_id}")
    assert response.status_code == 200
    return response.json()["messages"]


def test_starter_opens_chat_and_the_answer_streams_in(page, live):
    live.fake.delay_s = 0.08  # slow enough to be seen growing even on a loaded 2-core machine
    reply = "**Virtue** may be knowledge, friend. " + " ".join(f"step{i}" for i in range(40)) + " — what do you think?"
    live.fake.queue(reply)
    page.goto(live.url + "/masters/socrates")
    starter = page.locator(".starter").first
    text = starter.inner_text().rstrip(" →")
    starter.click()

    expect(page.locator(USER)).to_have_count(1)
    expect(page.locator(f"{USER} .msg-content")).to_have_text(text)
    answer = page.locator(f"{ASSISTANT} .msg-content").first
    seen = set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status = page.locator(ASSISTANT).first.get_attribute("data-status")
        if status != "streaming":
            break
        current = answer.text_content()
        if current:
            seen.add(current)
        time.sleep(0.03)
    rendered = reply.replace("**", "")  # the final HTML may land a moment before the status changes
    partials = [s for s in seen if s.strip() not in (reply, rendered)]  # the rendered HTML may end in "\n"
    assert len(partials) >= 2, f"expected partial answers while streaming, saw {partials!r}"
    assert all(reply.startswith(p) for p in partials), f"the streamed text grows by appending deltas: {partials!r}"

    done = wait_final(page)
    expect(done.locator(".msg-content strong")).to_have_text("Virtue")  # the server's rendered HTML
    expect(done.locator(".msg-content")).to_contain_text("what do you think?")
    conv_id = conversation_id(page)
    expect(page.locator(f"#conv-list .conv-item.is-current[data-id='{conv_id}']")).to_be_visible()
    messages = _stored(live, conv_id)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == text and messages[1]["status"] == "complete"


def test_stop_keeps_the_partial_answer(page, live):
    live.fake.delay_s = 0.1
    live.fake.queue(LONG)
    page.goto(live.url + "/masters/socrates/chat")
    send(page, "Tell me everything about virtue.")
    conv_id = conversation_id(page)
    answer = page.locator(f"{ASSISTANT} .msg-content").first
    expect(answer).to_contain_text("word3")
    expect(page.locator("#send-button")).to_be_hidden()
    page.locator("#stop-button").click()

    stopped = wait_final(page, status="stopped")
    expect(stopped.locator(".msg-note")).to_be_visible()
    expect(page.locator("#send-button")).to_be_visible()
    expect(page.locator("#stop-button")).to_be_hidden()
    shown = answer.text_content()
    assert shown and shown.startswith("word0") and len(shown) < len(LONG)

    deadline = time.monotonic() + 5
    while (last := _stored(live, conv_id)[-1])["status"] == "streaming" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert last["status"] == "stopped"
    assert last["content"] and LONG.startswith(last["content"]) and len(last["content"]) < len(LONG)
    time.sleep(0.8)  # no more deltas arrive after Stop
    expect(answer).to_have_text(last["content"])

    page.reload()
    reloaded = page.locator(ASSISTANT).first
    expect(reloaded).to_have_attribute("data-status", "stopped")
    expect(reloaded.locator(".msg-content")).to_have_text(last["content"])
    expect(reloaded.locator(".msg-note")).to_be_visible()
    expect(page.locator(f"{USER} .msg-content")).to_have_text("Tell me everything about virtue.")


def _new_conversation(live, master_id: str, text: str) -> str:
    response = live.api("POST", "/api/messages", json={"master_id": master_id, "content": text})
    assert response.status_code == 200
    start = next(line for line in response.text.splitlines() if line.startswith("data:"))
    return json.loads(start[5:])["conversation_id"]


def test_sidebar_lists_renames_searches_and_deletes(page, live):
    first = _new_conversation(live, "socrates", "Alpha question about virtue")
    second = _new_conversation(live, "sleep-coach", "Beta question about sleep")
    page.goto(live.url + f"/chat/{first}")
    items = page.locator("#conv-list .conv-item")
    expect(items.first).to_have_attribute("data-id", second)  # newest first
    current = page.locator(f"#conv-list .conv-item[data-id='{first}']")
    expect(current).to_have_class("conv-item is-current")
    expect(page.locator(f"{USER} .msg-content")).to_have_text("Alpha question about virtue")
    page.reload()
    expect(current).to_contain_text("Alpha question about virtue")

    page.locator("#conv-search").fill("alpha")
    expect(page.locator("#conv-list .conv-item")).to_have_count(1)
    expect(items.first).to_have_attribute("data-id", first)
    page.locator("#conv-search").fill("no such title")
    expect(page.locator("#conv-list .conv-item")).to_have_count(0)
    expect(page.locator("#conv-empty")).to_be_visible()
    page.locator("#conv-search").fill("")
    other = page.locator(f"#conv-list .conv-item[data-id='{second}']")
    expect(other).to_be_visible()

    other.locator("[data-action=rename]").click()
    page.locator(".conv-rename").fill("Sleep plan")
    page.locator(".conv-rename").press("Enter")
    expect(other.locator(".conv-title")).to_have_text("Sleep plan")
    assert live.api("GET", f"/api/conversations/{second}").json()["conversation"]["title"] == "Sleep plan"
    page.locator("#conv-search").fill("sleep plan")
    expect(page.locator("#conv-list .conv-item")).to_have_count(1)
    page.locator("#conv-search").fill("")

    other.locator("[data-action=delete]").click()
    page.locator(".confirm-dialog [data-confirm=ok]").click()  # the dialog asks first
    expect(other).to_have_count(0)
    assert live.api("GET", f"/api/conversations/{second}").status_code == 404

    current.locator("[data-action=delete]").click()
    page.locator(".confirm-dialog [data-confirm=ok]").click()
    page.wait_for_url(live.url + "/masters/socrates/chat")
    assert live.api("GET", f"/api/conversations/{first}").status_code == 404


def test_regenerate_and_edit_the_last_message(page, live):
    live.fake.queue("First answer.", "Second answer.", "Third answer.")
    page.goto(live.url + "/masters/socrates/chat")
    send(page, "Hello")
    wait_final(page)
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_have_text("First answer.")
    conv_id = conversation_id(page)

    page.locator(ASSISTANT).last.locator("[data-action=regenerate]").click()
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_have_text("Second answer.")
    wait_final(page)
    assert [m["content"] for m in _stored(live, conv_id)] == ["Hello", "Second answer."]

    page.locator(USER).last.locator("[data-action=edit]").click()
    editor = page.locator(".msg-editor-input")
    expect(editor).to_have_value("Hello")
    editor.fill("Hello again")
    editor.press("Enter")
    expect(page.locator(f"{USER} .msg-content")).to_have_text("Hello again")
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_have_text("Third answer.")
    wait_final(page)
    assert [m["content"] for m in _stored(live, conv_id)] == ["Hello again", "Third answer."]
    assert live.fake.calls[-1][0][-1].content == "Hello again"


def test_enter_never_sends_while_an_input_method_composes(page, live):
    page.goto(live.url + "/masters/socrates/chat")
    box = page.locator("#input")
    box.fill("ni hao")
    box.dispatch_event("compositionstart", {"data": ""})
    for init in ({"key": "Enter", "isComposing": True}, {"key": "Enter", "keyCode": 229}, {"key": "Enter"}):
        page.evaluate(
            "init => document.getElementById('input').dispatchEvent("
            "new KeyboardEvent('keydown', {bubbles: true, cancelable: true, ...init}))",
            init,
        )
    box.press("Enter")  # a real key press, still between compositionstart and compositionend
    time.sleep(0.4)
    expect(page.locator(USER)).to_have_count(0)
    assert live.fake.calls == []
    assert box.input_value().strip() == "ni hao"  # still there, not sent

    box.dispatch_event("compositionend", {"data": "你好"})
    box.fill("你好")
    box.press("Shift+Enter")
    box.type("朋友")
    expect(box).to_have_value("你好\n朋友")
    expect(page.locator(USER)).to_have_count(0)
    box.press("Enter")
    expect(page.locator(f"{USER} .msg-content")).to_have_text("你好\n朋友")
    wait_final(page)
    expect(box).to_have_value("")


def test_html_in_messages_is_shown_as_text(page, live):
    evil_user = "<img src=x onerror=alert(1)>"
    evil_reply = 'Look: <script>alert("reply")</script> and <img src=y onerror=alert(2)> **done**'
    live.fake.queue(evil_reply)
    page.goto(live.url + "/masters/socrates/chat")
    send(page, evil_user)
    answer = wait_final(page)
    expect(page.locator(f"{USER} .msg-content")).to_have_text(evil_user)
    expect(answer.locator(".msg-content")).to_contain_text('<script>alert("reply")</script>')
    expect(answer.locator(".msg-content strong")).to_have_text("done")
    expect(page.locator("#conv-list .conv-title").first).to_have_text(evil_user)
    for _ in range(2):
        time.sleep(0.5)
        assert page.dialogs == []
        assert page.locator("#thread img, #thread script, #conv-list img").count() == 0
        page.reload()
        wait_final(page)


def test_errors_show_in_the_chat_and_the_message_is_not_lost(page, live):
    page.goto(live.url + "/masters/socrates/chat")
    box = page.locator("#input")

    # the server refuses the message (HTTP 400): it goes back into the input box
    page.route("**/api/messages", lambda route: route.fulfill(
        status=400, content_type="application/json",
        body='{"error": {"code": "invalid_message", "message": "The message is too long."}}'))
    send(page, "A very important question")
    notice = page.locator(".chat-notice.is-error")
    expect(notice).to_contain_text("The message is too long.")
    expect(notice).to_contain_text("back in the input box")
    expect(box).to_have_value("A very important question")
    expect(page.locator(USER)).to_have_count(0)

    # the server cannot be reached
    page.unroute("**/api/messages")
    page.route("**/api/messages", lambda route: route.abort("connectionrefused"))
    box.press("Enter")
    expect(page.locator(".chat-notice.is-error")).to_contain_text("Cannot reach the MasterHall server")
    expect(box).to_have_value("A very important question")
    page.unroute("**/api/messages")

    # accepted, then the model fails: the error shows in the answer's place
    live.fake.queue(ContextTooLongError(9000, 3000))
    box.press("Enter")
    failed = wait_final(page, status="error")
    expect(failed.locator(".msg-note")).to_contain_text("too long for the model's context window")
    expect(page.locator(".chat-notice")).to_have_count(0)
    expect(box).to_have_value("")

    live.fake.queue(BackendError("connection refused by the model server", "unavailable"))
    send(page, "Again?")
    failed = wait_final(page, count=2, status="error")
    expect(failed.locator(".msg-note")).to_contain_text("The model is not available: connection refused")

    # regenerate after an error works
    live.fake.queue("Now it works.")
    failed.locator("[data-action=regenerate]").click()
    expect(wait_final(page, count=2).locator(".msg-content")).to_have_text("Now it works.")


def test_model_still_loading_then_answers(page, live):
    live.fake.loaded = False

    def load():
        time.sleep(1.0)
        live.fake.loaded = True

    live.fake.load = load
    live.fake.queue("Ready now.")
    page.goto(live.url + "/masters/socrates/chat")
    send(page, "Are you there?")
    note = page.locator(f"{ASSISTANT} .msg-note")
    expect(note).to_contain_text("still loading")
    answer = wait_final(page)
    expect(answer.locator(".msg-content")).to_have_text("Ready now.")
    expect(note).to_be_hidden()


def test_copy_and_export(page, live, context):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    live.fake.queue("Know *thyself*.")
    page.goto(live.url + "/masters/socrates/chat?q=What%20should%20I%20know%3F")
    answer = wait_final(page)
    conv_id = conversation_id(page)
    answer.locator("[data-action=copy]").click()
    expect(answer.locator("[data-action=copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "Know *thyself*."

    page.locator("#export-menu summary").click()
    md = page.locator("#export-md")
    expect(md).to_have_attribute("href", f"/api/conversations/{conv_id}/export?format=md&lang=en")
    expect(page.locator("#export-json")).to_have_attribute("href", f"/api/conversations/{conv_id}/export?format=json")
    with page.expect_download() as download:
        md.click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert "What should I know?" in text and "Know *thyself*." in text
    exported = live.api("GET", f"/api/conversations/{conv_id}/export?format=json").json()
    assert [m["content"] for m in exported["messages"]] == ["What should I know?", "Know *thyself*."]


def test_page_opened_during_generation_follows_it_and_can_stop_it(page, live):
    live.fake.delay_s = 0.1
    live.fake.queue(LONG)
    ids: queue.Queue = queue.Queue()

    def other_client():  # another tab or client, which keeps reading the stream
        with httpx.stream("POST", live.url + "/api/messages", json={"master_id": "socrates", "content": "Go on"}, timeout=30) as r:
            lines = r.iter_lines()
            start = next(line for line in lines if line.startswith("data:"))
            ids.put(json.loads(start[5:])["conversation_id"])
            for _ in lines:
                pass

    thread = threading.Thread(target=other_client, daemon=True)
    thread.start()
    conv_id = ids.get(timeout=10)
    time.sleep(0.5)
    page.goto(live.url + f"/chat/{conv_id}")
    answer = page.locator(ASSISTANT).first
    expect(answer).to_have_attribute("data-status", "streaming")
    expect(answer.locator(".msg-note")).to_contain_text("Still generating")
    page.locator("#stop-button").click()
    stopped = wait_final(page, status="stopped")
    expect(stopped.locator(".msg-content")).to_contain_text("word0")
    expect(page.locator("#send-button")).to_be_visible()
    thread.join(timeout=10)
    assert _stored(live, conv_id)[-1]["status"] == "stopped"


def test_language_switch_on_a_new_chat_returns_to_that_conversation(page, live):
    live.fake.queue("Hello there.")
    page.goto(live.url + "/masters/socrates/chat")
    send(page, "Hi")
    wait_final(page)
    conv_id = conversation_id(page)
    page.locator("#lang-switch").click()
    expect(page).to_have_url(live.url + f"/chat/{conv_id}")
    expect(page.locator("#send-button")).to_have_text("发送")
    expect(page.locator(f"{ASSISTANT} .msg-content")).to_have_text("Hello there.")
