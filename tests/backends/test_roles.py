"""One system message, and none for templates without a system role (issue 13, item 4)."""

from __future__ import annotations

import pytest

from masterhall.backends.base import ChatMessage, fit_roles, template_has_system_role
from masterhall.backends.llamacpp import LlamaCppBackend
from masterhall.catalog.models import SamplingParams

# Short stand-ins for the shapes of real chat templates (not copies of them).
CHATML_LIKE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
               "{% if messages[0]['role'] != 'system' %}default system{% endif %}")
REFUSES_SYSTEM = ("{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
                  "{% for m in messages %}<start_of_turn>{{ m['role'] }}\n{{ m['content'] }}<end_of_turn>{% endfor %}")
NO_SYSTEM = ("{% for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
             "{{ raise_exception('roles must alternate user/assistant') }}{% endif %}[INST] {{ m['content'] }} [/INST]{% endfor %}")


def test_several_system_messages_become_one_first():
    sent = fit_roles([ChatMessage("system", "Master."), ChatMessage("system", "Client."), ChatMessage("user", "Hi")])
    assert sent == [ChatMessage("system", "Master.\n\nClient."), ChatMessage("user", "Hi")]


def test_without_a_system_role_the_text_opens_the_first_user_message():
    messages = [ChatMessage("system", "Master."), ChatMessage("system", "Client."), ChatMessage("user", "Hi"),
                ChatMessage("assistant", "Hello"), ChatMessage("user", "Next")]
    sent = fit_roles(messages, system_role=False)
    assert [m.role for m in sent] == ["user", "assistant", "user"]
    assert sent[0].content == "Master.\n\nClient.\n\nHi" and sent[2].content == "Next"
    assert fit_roles([ChatMessage("user", "Hi")], system_role=False) == [ChatMessage("user", "Hi")]


@pytest.mark.parametrize(("template", "expected"), [
    (CHATML_LIKE, True), (REFUSES_SYSTEM, False), (NO_SYSTEM, False), (None, True), ("", True)])
def test_system_role_read_from_the_chat_template(template, expected):
    assert template_has_system_role(template) is expected


class RecordingEngine:
    listening_address = "http://127.0.0.1:9"

    def __init__(self):
        self.requests: list[dict] = []

    def handle_chat_completions(self, request, callback):
        self.requests.append(request)
        callback({"choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}]})


@pytest.mark.parametrize(("template", "roles"), [(REFUSES_SYSTEM, ["user"]), (CHATML_LIKE, ["system", "user"])])
def test_llamacpp_follows_the_gguf_template(template, roles):
    backend = LlamaCppBackend("stub", "/nonexistent.gguf", threads=1, prewarm=False)
    backend._server = engine = RecordingEngine()
    backend._props = {"chat_template": template}
    list(backend.stream_chat([ChatMessage("system", "Be Socrates."), ChatMessage("user", "Hi")], SamplingParams()))
    sent = engine.requests[0]["messages"]
    assert [m["role"] for m in sent] == roles
    assert sent[0]["content"].startswith("Be Socrates.") and sent[-1]["content"].endswith("Hi")
