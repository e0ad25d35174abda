"""Export a conversation as Markdown or JSON."""

from __future__ import annotations

from ..catalog.models import Master
from ..store.repos import Conversation, Message


def to_json(conversation: Conversation, messages: list[Message], master: Master | None = None) -> dict:
    """``{"conversation": …, "master": {id, name}, "messages": [...]}``, JSON-ready."""
    return {
        "conversation": conversation.to_dict(),
        "master": None if master is None else {"id": master.id, "name": master.name.model_dump()},
        "messages": [m.to_dict() for m in messages],
    }


def to_markdown(conversation: Conversation, messages: list[Message], master: Master | None = None, lang: str = "en") -> str:
    """A readable Markdown transcript: title, master, date, then each message under its speaker."""
    who = master.name.get(lang) if master else conversation.master_id
    you = "你" if lang == "zh" else "You"
    lines = [f"# {conversation.title or conversation.master_id}", "",
             f"*{who} · {conversation.created_at.strftime('%Y-%m-%d %H:%M UTC')}*", ""]
    for m in messages:
        if m.role == "system":
            continue
        speaker = f"{master.avatar} {who}" if (m.role == "assistant" and master) else (who if m.role == "assistant" else you)
        lines += [f"## {speaker}", "", m.content or "", ""]
        if m.status in ("stopped", "error"):
            lines += [f"> ({m.status}{': ' + m.error if m.error else ''})", ""]
    return "\n".join(lines).rstrip() + "\n"
