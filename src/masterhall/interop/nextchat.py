"""NextChat (ChatGPT-Next-Web) masks: import, and export of one mask.

Format source: NextChat's ``Mask`` type (``id``, ``avatar`` as emoji code points in hex such as
``"1f638"``, ``name``, ``context`` messages ``{id, role, content, date}``, ``modelConfig``,
``lang`` such as ``"cn"`` / ``"en"``, ``builtin``, ``createdAt``, ``hideContext``…). A file may
hold one mask, an array of masks, or a mapping ``{"masks": {id: mask}}`` (the mask store).

Mapping: ``name`` → name (both languages); ``context``: ``system`` messages → instructions,
a ``user`` message followed by an ``assistant`` message → one example, an unanswered ``user``
message → instructions (with no system message, the first user message is the instructions),
an ``assistant`` message before any user message → greeting; ``avatar`` → the emoji;
``modelConfig`` temperature / top_p / max_tokens / frequency_penalty / presence_penalty → params; ``lang`` decides the language of
single-language texts. Tagline, description, tags and starters are generated from the name
and instructions. Everything else is kept in ``Master.extensions["nextchat"]``.
"""

from __future__ import annotations

import json
import re
import time

from ..catalog.models import Master
from . import fill
from .errors import InteropError
from .records import Candidate
from .roundtrip import Codec, Group, remember, restore

_HEX_EMOJI = re.compile(r"^[0-9a-fA-F]{4,6}(-[0-9a-fA-F]{4,6})*$")


def is_mask(doc: object) -> bool:
    """True for a mask: a ``name`` and a ``context`` list."""
    return isinstance(doc, dict) and isinstance(doc.get("context"), list) and "name" in doc


def masks_in(doc: object) -> list | None:
    """The masks of a file (one, an array, or ``{"masks": …}``); ``None`` if it holds none."""
    if is_mask(doc):
        return [doc]
    if isinstance(doc, list) and any(is_mask(d) for d in doc):
        return doc
    if isinstance(doc, dict):
        inner = doc.get("masks")
        if isinstance(doc.get("mask-store"), dict):
            inner = doc["mask-store"].get("masks")
        if isinstance(inner, dict):
            inner = list(inner.values())
        if isinstance(inner, list) and any(is_mask(d) for d in inner):
            return inner
    return None


def emoji_of(avatar: object) -> str:
    """The emoji for NextChat's avatar code (``"1f638"``, ``"1f468-200d-1f4bb"``); other text as it is."""
    text = fill.clean(avatar)
    if _HEX_EMOJI.match(text):
        try:
            return "".join(chr(int(part, 16)) for part in text.split("-"))
        except (ValueError, OverflowError):
            return ""
    return text


def code_of(emoji: str) -> str:
    """NextChat's avatar code for an emoji: its code points in lowercase hex, joined by ``-``."""
    return "-".join(f"{ord(ch):x}" for ch in emoji)


def _lang(doc: dict, sample: str) -> str:
    lang = doc.get("lang")
    if lang == "cn" or lang == "tw":
        return "zh"
    if lang == "en":
        return "en"
    return fill.language_of(sample)


def _split_context(context: list) -> tuple[list[str], list[dict[str, str]], str]:
    """``(system texts, examples, greeting)`` of a mask's context (see the module doc)."""
    msgs = [(m.get("role"), fill.message_text(m.get("content"))) for m in context if isinstance(m, dict)]
    msgs = [(r, t) for r, t in msgs if t and r in ("system", "user", "assistant")]
    if not any(r == "system" for r, _ in msgs):
        first_user = next((i for i, (r, _) in enumerate(msgs) if r == "user"), None)
        if first_user is not None:
            rest = msgs[first_user + 1 :]
            if rest and rest[0][0] == "assistant":
                rest = rest[1:]
            msgs = msgs[:first_user] + [("system", msgs[first_user][1])] + rest
    systems: list[str] = []
    examples: list[dict[str, str]] = []
    greeting = ""
    pending: str | None = None
    for role, text in msgs:
        if role == "system":
            systems.append(text)
        elif role == "user":
            if pending is not None:
                systems.append(pending)
            pending = text
        elif pending is not None:
            examples.append({"user": pending, "assistant": text})
            pending = None
        elif not greeting and not examples:
            greeting = text
        elif examples:
            examples[-1]["assistant"] += "\n\n" + text
    if pending is not None:
        systems.append(pending)
    return systems, examples, greeting


def to_fields(doc: dict) -> dict:
    """Our fields for one mask (see the module doc for the mapping)."""
    name = fill.clean(doc.get("name"))
    context = doc.get("context") if isinstance(doc.get("context"), list) else []
    systems, examples, greeting_text = _split_context(context)
    instructions_text = "\n\n".join(systems)
    lang = _lang(doc, name + " " + instructions_text)
    greeting = fill.greeting_from(greeting_text, name, lang) if greeting_text else fill.greeting_for(name, name)
    config = doc.get("modelConfig") if isinstance(doc.get("modelConfig"), dict) else {}
    return {
        "name": fill.localized(name),
        "avatar": fill.avatar_or_default(emoji_of(doc.get("avatar"))),
        "instructions": fill.pad_instructions(instructions_text, name, lang),
        "examples": examples or fill.example_for(greeting, lang),
        "greeting": greeting,
        "params": fill.valid_params(**{k: config.get(k) for k in fill.OPENAI_PARAMS}),
    }


def _extra_fields(fields: dict) -> dict:
    name = fields["name"]
    instructions = fields["instructions"]
    about = fill.excerpt(instructions)
    return {
        "tagline": fill.tagline_for(name["zh"], name["en"]),
        "description": fill.localized(about),
        "starters": fill.starters_for(name["zh"], name["en"]),
        "tags": fill.tags_from([], name["en"]),
    }


def from_master(master: Master) -> dict:
    """The plain NextChat mask of ``master``: system message + example pairs, in its main language."""
    lang = fill.primary_language(master)
    context = [{"id": f"{master.id}-0", "role": "system", "content": master.instructions, "date": ""}]
    for i, ex in enumerate(master.examples, start=1):
        context.append({"id": f"{master.id}-{2 * i - 1}", "role": "user", "content": ex.user, "date": ""})
        context.append({"id": f"{master.id}-{2 * i}", "role": "assistant", "content": ex.assistant, "date": ""})
    return {
        "id": master.id,
        "avatar": code_of(master.avatar),
        "name": master.name.get(lang),
        "context": context,
        "syncGlobalConfig": False,
        "modelConfig": master.params.model_dump(include=set(fill.OPENAI_PARAMS), exclude_none=True),
        "lang": "cn" if lang == "zh" else "en",
        "builtin": False,
        "createdAt": int(time.time() * 1000),
    }


CODEC = Codec(
    key="nextchat",
    groups=(
        Group(("name",), ("name",)),
        Group(("avatar",), ("avatar",)),
        Group(("context",), ("instructions", "examples", "greeting")),
        Group(tuple(f"modelConfig.{k}" for k in fill.OPENAI_PARAMS), ("params",)),
    ),
    fixed=(),
    to_fields=to_fields,
    from_master=from_master,
)


def candidate(doc: object, index: int) -> Candidate:
    """One mask as a :class:`Candidate`."""
    if not is_mask(doc):
        return Candidate(index, None, problems=[("(record)", "not a NextChat mask (needs 'name' and a 'context' list)")])
    fields = to_fields(doc)  # type: ignore[arg-type]
    fields |= _extra_fields(fields)
    name = fields["name"]["en"] or None
    return Candidate(index, name, fields, finish=lambda master: remember(CODEC, doc, master))  # type: ignore[arg-type]


def read_masks(doc: object) -> list[Candidate]:
    """Candidates for every mask of a parsed file; raises :class:`InteropError` when it holds none."""
    masks = masks_in(doc)
    if masks is None:
        raise InteropError("not a NextChat mask: expected 'name' and a 'context' list of messages")
    return [candidate(m, i) for i, m in enumerate(masks)]


def mask_json(master: Master) -> bytes:
    """The NextChat mask of ``master`` as pretty-printed UTF-8 JSON."""
    return json.dumps(restore(CODEC, master), ensure_ascii=False, indent=2).encode("utf-8")
