"""Export a conversation as Markdown or JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog.models import Master
from ..store.conversations import Conversation, Message


@dataclass(frozen=True)
class Export:
    """A conversation as a file: ``filename``, ``media_type`` and ``body`` (a JSON-ready dict for
    ``json``, Markdown text for ``md``)."""

    filename: str
    media_type: str
    body: Any


def export_conversation(conversation: Conversation, messages: list[Message], master: Master | None,
                        fmt: str = "md", lang: str = "en") -> Export:
    """The conversation as ``masterhall-<master>-<id8>.md`` (:func:`to_markdown`) or ``.json`` (:func:`to_json`)."""
    name = f"masterhall-{conversation.master_id}-{conversation.id[:8]}"
    if fmt == "json":
        return Export(f"{name}.json", "application/json", to_json(conversation, messages, master))
    return Export(f"{name}.md", "text/markdown; charset=utf-8", to_markdown(conversation, messages, master, lang))


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
