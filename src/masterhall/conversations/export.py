"""Export a conversation as Markdown or JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

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
                        fmt: str = "md", lang: str = "en", masters: Mapping[str, Master] | None = None) -> Export:
    """The conversation as ``masterhall-<master>-<id8>.md`` (:func:`to_markdown`) or ``.json``
    (:func:`to_json`); ``masters``: the catalog's masters by id, to name a round table's speakers
    (an id not in it is shown as the id)."""
    name = f"masterhall-{'roundtable' if conversation.members else conversation.master_id}-{conversation.id[:8]}"
    if fmt == "json":
        return Export(f"{name}.json", "application/json", to_json(conversation, messages, master, masters))
    return Export(f"{name}.md", "text/markdown; charset=utf-8", to_markdown(conversation, messages, master, lang, masters))


def _speaker(conversation: Conversation, m: Message, master: Master | None,
             masters: Mapping[str, Master] | None) -> tuple[str, Master | None]:
    """Who wrote assistant message ``m``: its master id and the master (``None`` when unknown)."""
    master_id = m.master_id or conversation.master_id
    if master is not None and master.id == master_id:
        return master_id, master
    return master_id, (masters or {}).get(master_id)


def to_json(conversation: Conversation, messages: list[Message], master: Master | None = None,
            masters: Mapping[str, Master] | None = None) -> dict:
    """``{"conversation": …, "master": {id, name}, "members": [{id, name}] | None, "messages": [...]}``,
    JSON-ready; every assistant message has ``speaker`` ``{"id", "name"}`` (a round table's too)."""
    def named(master_id: str, m: Master | None) -> dict:
        return {"id": master_id, "name": m.name.model_dump() if m else {"zh": master_id, "en": master_id}}

    out = []
    for m in messages:
        data = m.to_dict()
        if m.role == "assistant":
            data["speaker"] = named(*_speaker(conversation, m, master, masters))
        out.append(data)
    members = None
    if conversation.members:
        members = [named(mid, master if master and master.id == mid else (masters or {}).get(mid))
                   for mid in conversation.members]
    return {
        "conversation": conversation.to_dict(),
        "master": None if master is None else {"id": master.id, "name": master.name.model_dump()},
        "members": members,
        "messages": out,
    }


def to_markdown(conversation: Conversation, messages: list[Message], master: Master | None = None, lang: str = "en",
                masters: Mapping[str, Master] | None = None) -> str:
    """A readable Markdown transcript: title, master (a round table: every member), date, then each
    message under its speaker (a round table's answers under the master who gave each)."""
    def name_of(master_id: str, m: Master | None) -> str:
        return m.name.get(lang) if m else master_id

    if conversation.members:
        who = ", ".join(name_of(mid, master if master and master.id == mid else (masters or {}).get(mid))
                        for mid in conversation.members)
    else:
        who = name_of(conversation.master_id, master)
    you = "你" if lang == "zh" else "You"
    lines = [f"# {conversation.title or conversation.master_id}", "",
             f"*{who} · {conversation.created_at.strftime('%Y-%m-%d %H:%M UTC')}*", ""]
    for m in messages:
        if m.role == "system":
            continue
        if m.role == "assistant":
            master_id, spoke = _speaker(conversation, m, master, masters)
            speaker = f"{spoke.avatar} {name_of(master_id, spoke)}" if spoke else master_id
        else:
            speaker = you
        lines += [f"## {speaker}", "", m.content or "", ""]
        if m.status in ("stopped", "error"):
            lines += [f"> ({m.status}{': ' + m.error if m.error else ''})", ""]
    return "\n".join(lines).rstrip() + "\n"
