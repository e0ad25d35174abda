"""SillyTavern character cards (V1, V2, V3) as JSON or PNG, both directions.

Format sources: "Character Card V2 Specification" (``spec: "chara_card_v2"``,
``spec_version: "2.0"``, fields under ``data``) and "Character Card V3 Specification"
(``spec: "chara_card_v3"``, PNG chunk ``ccv3``), both published on GitHub; a PNG card keeps the
card JSON, base64-encoded, in a ``tEXt`` chunk with keyword ``chara`` (V2) or ``ccv3`` (V3,
preferred when both are present). V1 cards have the fields at the top level.

Import (card → master):

* ``name`` → ``name`` in both languages;
* ``system_prompt`` (without ``{{original}}``), "You are <name>." + ``description``,
  ``personality``, ``scenario``, ``post_history_instructions`` → ``instructions``;
* ``first_mes`` → ``greeting`` in its language; the other language comes from the first
  alternate greeting written in it, else it is generated;
* ``mes_example`` → ``examples`` (``<START>`` blocks of ``{{user}}:`` / ``{{char}}:`` lines);
* ``creator_notes`` → ``description`` (shown to people, never put in a prompt);
* first sentence of ``personality`` or ``description`` → ``tagline``; ``tags`` → ``tags``
  (never put in a prompt);
* starters are generated from the name; everything else of the card (``extensions``,
  ``character_book``, ``creator``, further alternate greetings, V3's ``assets`` …) is kept in
  ``Master.extensions["card"]`` and written back on export.

Export (master → card V2): ``description`` = instructions (the character definition every
frontend puts in the prompt; ``system_prompt`` stays empty so the user's own main prompt
applies), ``personality`` = tagline, ``first_mes`` and ``name`` in the master's main language
(that of its instructions), ``alternate_greetings`` = the greeting in the other language,
``mes_example`` from the examples, ``creator_notes`` = description (for people, not the
prompt), ``tags``; the whole master is also kept in
``data.extensions.masterhall`` so that a MasterHall import gets every field back exactly (a
card field changed in another program wins over the kept copy).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re

from pydantic import ValidationError

from ..catalog.models import Master
from . import fill
from .errors import InteropError, check_document
from .png import is_png, read_text_chunks, solid_png, with_text_chunks
from .records import Candidate
from .roundtrip import ABSENT, Codec, Group, get_path, remember, restore
from .source import load_json

SPEC_V2 = "chara_card_v2"
SPEC_V3 = "chara_card_v3"
#: Fields of a V1 card (kept at the top level of V2 cards too, for old readers).
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
#: Field names of early V1 editors and what they mean.
_V1_ALIASES = {
    "char_name": "name",
    "char_persona": "description",
    "world_scenario": "scenario",
    "char_greeting": "first_mes",
    "example_dialogue": "mes_example",
}
#: The fields every V2 card has, with their empty values (``character_book`` is optional).
_V2_DEFAULTS: dict[str, object] = {
    **{key: "" for key in V1_FIELDS},
    "creator_notes": "",
    "system_prompt": "",
    "post_history_instructions": "",
    "alternate_greetings": [],
    "tags": [],
    "creator": "",
    "character_version": "",
    "extensions": {},
}
#: Key of our copy of the master inside ``data.extensions``.
EXT_KEY = "masterhall"

_CHAR = re.compile(r"\{\{\s*char\s*\}\}|<BOT>", re.IGNORECASE)
_USER = re.compile(r"\{\{\s*user\s*\}\}|<USER>", re.IGNORECASE)
_ORIGINAL = re.compile(r"\{\{\s*original\s*\}\}", re.IGNORECASE)
_START = re.compile(r"^\s*<START>\s*$", re.IGNORECASE | re.MULTILINE)


def is_card(doc: object) -> bool:
    """True for a card document: ``spec`` V2/V3 with ``data``, or V1 fields at the top level."""
    if not isinstance(doc, dict):
        return False
    if doc.get("spec") in (SPEC_V2, SPEC_V3) and isinstance(doc.get("data"), dict):
        return True
    if "char_name" in doc:
        return True
    return isinstance(doc.get("name"), str) and any(k in doc for k in ("first_mes", "mes_example", "personality", "scenario"))


def normalize(doc: dict) -> dict:
    """The card as a complete V2 card: ``{"spec", "spec_version", "data": {...}, <other top-level keys>}``.

    V1 fields (and their early aliases) move under ``data``; the top-level copies that V2 cards
    carry for old readers are dropped (the export writes them again); missing V2 fields get
    their empty values.
    """
    if isinstance(doc.get("data"), dict) and doc.get("spec") in (SPEC_V2, SPEC_V3):
        data = dict(doc["data"])
        rest = {k: v for k, v in doc.items() if k not in V1_FIELDS and k not in ("spec", "spec_version", "data", "creatorcomment", "tags")}
    else:
        data = {}
        rest = {}
        for key, value in doc.items():
            target = _V1_ALIASES.get(key, key)
            if target in V1_FIELDS:
                data.setdefault(target, value)
            elif key in ("spec", "spec_version"):
                continue
            elif key == "creatorcomment":
                data.setdefault("creator_notes", value)
            elif key == "tags":
                data.setdefault("tags", value)
            else:
                rest[key] = value
    for key, empty in _V2_DEFAULTS.items():  # a complete V2 card: the export always is one
        data.setdefault(key, copy.deepcopy(empty))
    return {"spec": SPEC_V2, "spec_version": "2.0", "data": data, **rest}


def _macros(text: object, name: str, user: str) -> str:
    text = fill.clean(text)
    if not text:
        return ""
    return _USER.sub(user, _CHAR.sub(name, text))


def _you(lang: str) -> str:
    return "你" if lang == "zh" else "you"


def parse_examples(text: object, name: str, lang: str = "en") -> list[dict[str, str]]:
    """Example exchanges from a ``mes_example`` text.

    ``<START>`` lines separate conversations; a line starting ``{{user}}:`` (or ``<USER>:``)
    opens a user turn, ``{{char}}:`` / ``<BOT>:`` / ``<name>:`` an assistant turn, other lines
    continue the turn before. Each user turn followed by an assistant turn is one example.
    """
    text = fill.clean(text)
    if not text:
        return []
    speaker = re.compile(
        r"^\s*(?P<who>\{\{\s*user\s*\}\}|<USER>|\{\{\s*char\s*\}\}|<BOT>"
        + (r"|" + re.escape(name) if name else "")
        + r")\s*:\s?(?P<text>.*)$",
        re.IGNORECASE,
    )
    out: list[dict[str, str]] = []
    for block in _START.split(text):
        turns: list[list[str]] = []
        for line in block.splitlines():
            m = speaker.match(line)
            if m:
                role = "user" if _USER.fullmatch(m.group("who").strip()) else "assistant"
                if turns and turns[-1][0] == role:
                    turns[-1][1] += "\n" + m.group("text")
                else:
                    turns.append([role, m.group("text")])
            elif turns:
                turns[-1][1] += "\n" + line
        for i in range(len(turns) - 1):
            if turns[i][0] == "user" and turns[i + 1][0] == "assistant":
                user = _macros(turns[i][1], name, _you(lang))
                reply = _macros(turns[i + 1][1], name, _you(lang))
                if user and reply:
                    out.append({"user": user, "assistant": reply})
    return out


def format_examples(examples: list) -> str:
    """``mes_example`` text for our examples: one ``<START>`` block per exchange."""
    blocks = [f"<START>\n{{{{user}}}}: {ex.user}\n{{{{char}}}}: {ex.assistant}" for ex in examples]
    return "\n".join(blocks)


def _instructions(data: dict, name: str, lang: str) -> str:
    user = "用户" if lang == "zh" else "the user"
    system = _ORIGINAL.sub("", _macros(data.get("system_prompt"), name, user)).strip()
    desc = _macros(data.get("description"), name, user)
    personality = _macros(data.get("personality"), name, user)
    scenario = _macros(data.get("scenario"), name, user)
    post = _macros(data.get("post_history_instructions"), name, user)
    persona = [f"你是{name}。" if lang == "zh" else f"You are {name}."]
    if desc:
        persona.append(desc)
    if personality:
        persona.append(("性格：" if lang == "zh" else "Personality: ") + personality)
    if scenario:
        persona.append(("场景：" if lang == "zh" else "Scenario: ") + scenario)
    parts = [p for p in (system, "\n".join(persona), post) if p]
    return fill.pad_instructions("\n\n".join(parts), name, lang)


def _greeting(data: dict, name: str, lang: str) -> dict[str, str]:
    user = _you(lang)
    first = _macros(data.get("first_mes"), name, user)
    alternates = [_macros(a, name, user) for a in fill.text_list(data.get("alternate_greetings"))]
    if not first and alternates:
        first, alternates = alternates[0], alternates[1:]
    if not first:
        return fill.greeting_for(name, name)
    own = fill.language_of(first, lang)
    other = fill.other_language(own)
    match = next((a for a in alternates if fill.language_of(a, own) == other), None)
    return fill.bilingual(first, own, match or fill.greeting_in(other, name))


def to_fields(doc: dict) -> dict:
    """Our fields for a normalized card (see the module doc for the mapping)."""
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    name = fill.clean(data.get("name"))
    sample = " ".join(fill.clean(data.get(k)) for k in ("description", "first_mes", "personality", "system_prompt", "scenario"))
    lang = fill.language_of(sample or name)
    greeting = _greeting(data, name, lang)
    tagline_src = _macros(data.get("personality"), name, "you") or _macros(data.get("description"), name, "you")
    tagline = fill.first_sentence(tagline_src)
    notes = fill.clean(data.get("creator_notes"))
    about = notes or fill.excerpt(_macros(data.get("description"), name, "you")) or tagline
    return {
        "name": fill.localized(name),
        "instructions": _instructions(data, name, lang),
        "greeting": greeting,
        "tagline": fill.localized(tagline) if tagline else fill.tagline_for(name, name),
        "description": fill.localized(about) if about else fill.tagline_for(name, name),
        "tags": fill.tags_from(fill.text_list(data.get("tags")), name),
        "examples": parse_examples(data.get("mes_example"), name, lang) or fill.example_for(greeting, lang),
    }


def from_master(master: Master) -> dict:
    """The plain card V2 document of ``master`` (our copy in ``data.extensions.masterhall``)."""
    lang = fill.primary_language(master)
    other = fill.other_language(lang)
    tags = list(master.tags.get(lang)) + [t for t in master.tags.get(other) if t not in master.tags.get(lang)]
    alternates = [master.greeting.get(other)] if master.greeting.get(other) != master.greeting.get(lang) else []
    kept = master.model_dump(mode="json")
    kept["extensions"] = {k: v for k, v in master.extensions.items() if k != "card"}
    data = {
        "name": master.name.get(lang),
        "description": master.instructions,
        "personality": master.tagline.get(lang),
        "scenario": "",
        "first_mes": master.greeting.get(lang),
        "mes_example": format_examples(master.examples),
        "creator_notes": master.description.get(lang),
        "system_prompt": "",
        "post_history_instructions": "",
        "alternate_greetings": alternates,
        "tags": tags,
        "creator": "",
        "character_version": str(master.version),
        "extensions": {EXT_KEY: {"format": 1, "master": kept}},
    }
    mirror = {k: data[k] for k in V1_FIELDS}
    return {"spec": SPEC_V2, "spec_version": "2.0", **mirror, "data": data}


_PROMPT = ("data.system_prompt", "data.description", "data.personality", "data.scenario", "data.post_history_instructions")
CODEC = Codec(
    key="card",
    groups=(
        Group(("data.name",), ("name",)),
        Group(_PROMPT, ("instructions",)),
        Group(("data.first_mes", "data.alternate_greetings"), ("greeting",)),
        Group(("data.creator_notes",), ("description",)),
        Group(("data.tags",), ("tags",)),
        Group(("data.mes_example",), ("examples",)),
    ),
    fixed=("spec", "spec_version", *V1_FIELDS, "creatorcomment", "tags", f"data.extensions.{EXT_KEY}"),
    to_fields=to_fields,
    from_master=from_master,
)


def _kept_master(doc: dict) -> Master | None:
    kept = get_path(doc, f"data.extensions.{EXT_KEY}.master")
    if kept is ABSENT or not isinstance(kept, dict):
        return None
    try:
        return Master.model_validate(kept)
    except ValidationError:
        return None


def candidate(doc: object, index: int) -> Candidate:
    """One card document (any version) as a :class:`Candidate`."""
    if not is_card(doc):
        return Candidate(index, None, problems=[("(record)", "not a character card (no 'spec'/'data' or V1 fields)")])
    card = normalize(doc)  # type: ignore[arg-type]
    name = fill.clean(card["data"].get("name")) or None
    fields = to_fields(card)
    kept = _kept_master(card)
    if kept is not None:
        plain = from_master(kept)
        base = kept.model_dump()
        for group in CODEC.groups:
            if any(get_path(card, p) != get_path(plain, p) for p in group.paths):
                base.update({f: fields[f] for f in group.fields})
        fields = base
    else:
        display = fields["name"]
        fields |= {"starters": fill.starters_for(display["zh"], display["en"]), "avatar": "🎭"}
    return Candidate(index, name, fields, finish=lambda master: remember(CODEC, card, master))


def read_json_cards(data: bytes, doc: object = ABSENT) -> list[Candidate]:
    """Cards from a JSON file: one card, or an array of cards. Raises :class:`InteropError`."""
    doc = load_json(data, "card JSON") if doc is ABSENT else doc
    items = doc if isinstance(doc, list) else [doc]
    if isinstance(doc, dict) and not is_card(doc):
        raise InteropError("not a character card: expected 'spec' and 'data' (V2/V3) or V1 fields such as 'name' and 'first_mes'")
    return [candidate(item, i) for i, item in enumerate(items)]


def _decode_chunk(text: str, keyword: str) -> object:
    text = text.strip()
    if text.startswith("{"):
        return load_json(text, f"'{keyword}' chunk JSON")
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InteropError(f"the PNG's '{keyword}' chunk is not base64-encoded JSON") from None
    return load_json(raw, f"'{keyword}' chunk JSON")


def read_png_card(data: bytes) -> list[Candidate]:
    """The card in a PNG's ``ccv3`` chunk (preferred) or ``chara`` chunk. Raises :class:`InteropError`."""
    chunks = read_text_chunks(data)
    found = {k.lower(): v for k, v in chunks.items()}
    keys = [k for k in ("ccv3", "chara") if k in found]
    if not keys:
        raise InteropError("the PNG holds no character card (no 'chara' or 'ccv3' text chunk)")
    error: InteropError | None = None
    for key in keys:
        try:
            doc = _decode_chunk(found[key], key)
        except InteropError as exc:
            error = error or exc
            continue
        if not is_card(doc):
            error = error or InteropError(f"the PNG's '{key}' chunk is JSON but not a character card")
            continue
        return [candidate(doc, 0)]
    assert error is not None
    raise error


def read_cards(data: bytes, doc: object = ABSENT) -> list[Candidate]:
    """Cards from PNG or JSON bytes (told apart by the PNG signature)."""
    return read_png_card(data) if is_png(data) else read_json_cards(data, doc)


def card_document(master: Master) -> dict:
    """The card V2 document for ``master``, with data kept from an earlier import put back."""
    doc = restore(CODEC, master)
    data = doc["data"]
    for key in V1_FIELDS:  # the top-level copies for V1 readers follow the final data
        doc[key] = data.get(key, "")
    check_document(doc)
    return doc


def card_json(master: Master) -> bytes:
    """The card V2 of ``master`` as pretty-printed UTF-8 JSON."""
    return json.dumps(card_document(master), ensure_ascii=False, indent=2).encode("utf-8")


def card_png(master: Master, image: bytes | None = None) -> bytes:
    """A PNG card: ``image`` (or a generated 256×256 PNG) with the card V2 in a ``chara`` tEXt chunk.

    Raises :class:`InteropError` when ``image`` is not an intact PNG.
    """
    payload = json.dumps(card_document(master), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if image is None:
        digest = hashlib.sha256(master.id.encode("utf-8")).digest()
        image = solid_png(rgb=(96 + digest[0] % 128, 96 + digest[1] % 128, 96 + digest[2] % 128))
    return with_text_chunks(image, {"chara": base64.b64encode(payload).decode("ascii")})
