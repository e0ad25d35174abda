"""LobeChat agents (the JSON of the public LobeChat agents index), both directions.

Format source: LobeChat's agent index files (``identifier``, ``author``, ``createdAt``,
``homepage``, ``schemaVersion``, ``meta: {title, description, avatar, tags, category}``,
``config: {systemRole, openingMessage, openingQuestions, params, …}``, optional ``examples``
as ``{role, content}`` messages and ``summary``). ``openingMessage`` / ``openingQuestions``
are also read at the top level. A file may hold one agent, an array of agents, or LobeChat's
settings export (``{"state": {"sessions": [...]}}``).

Mapping: ``meta.title`` → name (both languages); ``meta.description`` → tagline;
``summary`` (else ``meta.description``) → description; ``meta.avatar`` → avatar (emoji only);
``meta.tags`` → tags; ``meta.category`` → category (programming → tech, copywriting → writing,
…); ``config.systemRole`` → instructions; ``openingMessage`` → greeting in its language;
``openingQuestions`` → starters in their language (3–4); ``examples`` → examples;
``config.params`` temperature / top_p / max_tokens / frequency_penalty / presence_penalty → params; ``identifier`` → id. Everything
else (``author``, ``createdAt``, ``config.model``, plugins …) is kept in
``Master.extensions["lobechat"]`` and written back on export.
"""

from __future__ import annotations

import datetime as dt
import json

from ..catalog.models import Master
from . import fill
from .errors import InteropError
from .records import Candidate
from .roundtrip import Codec, Group, remember, restore

#: LobeChat agent categories → ours (others fall back to the default category).
LOBE_TO_OURS = {
    "programming": "tech",
    "copywriting": "writing",
    "translation": "writing",
    "academic": "writing",
    "office": "productivity",
    "career": "business",
    "marketing": "business",
    "emotions": "psychology",
    "life": "life",
    "education": "productivity",
    "general": "life",
}
#: Our categories → LobeChat's, for export.
OURS_TO_LOBE = {
    "tech": "programming",
    "writing": "copywriting",
    "productivity": "office",
    "business": "career",
    "psychology": "emotions",
    "life": "life",
    "philosophy": "general",
    "guide": "general",
}


def is_agent(doc: object) -> bool:
    """True for a LobeChat agent: a ``meta`` mapping plus ``config`` or ``identifier``."""
    return isinstance(doc, dict) and isinstance(doc.get("meta"), dict) and (isinstance(doc.get("config"), dict) or "identifier" in doc)


def agents_in(doc: object) -> list | None:
    """The agents of a file (one, an array, or a settings export's sessions); ``None`` if it holds none."""
    if is_agent(doc):
        return [doc]
    if isinstance(doc, dict) and isinstance(doc.get("state"), dict) and isinstance(doc["state"].get("sessions"), list):
        return doc["state"]["sessions"]
    if isinstance(doc, list) and any(is_agent(d) for d in doc):
        return doc
    return None


def _section(doc: dict, key: str) -> dict:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def to_fields(doc: dict) -> dict:
    """Our fields for one agent (see the module doc for the mapping)."""
    meta, config = _section(doc, "meta"), _section(doc, "config")
    title = fill.clean(meta.get("title"))
    system = fill.clean(config.get("systemRole"))
    short = fill.clean(meta.get("description"))
    summary = fill.clean(doc.get("summary"))
    lang = fill.language_of(" ".join((title, system, short)))
    opening = fill.clean(config.get("openingMessage")) or fill.clean(doc.get("openingMessage"))
    questions = fill.text_list(config.get("openingQuestions")) or fill.text_list(doc.get("openingQuestions"))
    greeting = fill.greeting_from(opening, title, lang)
    params = _section(config, "params")
    return {
        "name": fill.localized(title),
        "tagline": fill.localized(short) if short else fill.tagline_for(title, title),
        "description": fill.localized(summary or short) if (summary or short) else fill.tagline_for(title, title),
        "avatar": fill.avatar_or_default(meta.get("avatar")),
        "tags": fill.tags_from(fill.text_list(meta.get("tags")), title),
        "category": (LOBE_TO_OURS.get(meta.get("category"), fill.DEFAULT_CATEGORY)
                     if isinstance(meta.get("category"), str) else fill.DEFAULT_CATEGORY),
        "instructions": fill.pad_instructions(system, title, lang),
        "greeting": greeting,
        "starters": fill.starters_from(questions, title),
        "examples": fill.pairs_to_examples(doc.get("examples")) or fill.example_for(greeting, lang),
        "params": fill.valid_params(**{k: params.get(k) for k in fill.OPENAI_PARAMS}),
    }


def from_master(master: Master) -> dict:
    """The plain LobeChat agent of ``master``, written in its main language."""
    lang = fill.primary_language(master)
    params = master.params.model_dump(include=set(fill.OPENAI_PARAMS), exclude_none=True)
    examples = []
    for ex in master.examples:
        examples += [{"role": "user", "content": ex.user}, {"role": "assistant", "content": ex.assistant}]
    config: dict = {
        "systemRole": master.instructions,
        "openingMessage": master.greeting.get(lang),
        "openingQuestions": list(master.starters.get(lang)),
    }
    if params:
        config["params"] = params
    return {
        "author": "MasterHall",
        "config": config,
        "createdAt": dt.date.today().isoformat(),
        "homepage": "",
        "identifier": master.id,
        "meta": {
            "avatar": master.avatar,
            "description": master.tagline.get(lang),
            "tags": list(master.tags.get(lang)),
            "title": master.name.get(lang),
            "category": OURS_TO_LOBE.get(master.category, "general"),
        },
        "schemaVersion": 1,
        "examples": examples,
        "summary": master.description.get(lang),
    }


CODEC = Codec(
    key="lobechat",
    groups=(
        Group(("meta.title",), ("name",)),
        Group(("meta.description", "summary"), ("tagline", "description")),
        Group(("meta.avatar",), ("avatar",)),
        Group(("meta.tags",), ("tags",)),
        Group(("meta.category",), ("category",)),
        Group(("config.systemRole",), ("instructions",)),
        Group(("config.openingMessage", "openingMessage"), ("greeting",)),
        Group(("config.openingQuestions", "openingQuestions"), ("starters",)),
        Group(("examples",), ("examples",)),
        Group(tuple(f"config.params.{k}" for k in fill.OPENAI_PARAMS), ("params",)),
    ),
    fixed=("identifier",),
    to_fields=to_fields,
    from_master=from_master,
)


def candidate(doc: object, index: int) -> Candidate:
    """One agent as a :class:`Candidate`."""
    if not is_agent(doc):
        return Candidate(index, None, problems=[("(record)", "not a LobeChat agent (needs 'meta' and 'config')")])
    fields = to_fields(doc)  # type: ignore[arg-type]
    ident = doc.get("identifier")  # type: ignore[union-attr]
    if isinstance(ident, str):
        fields["id"] = ident
    name = fields["name"]["en"] or None
    return Candidate(index, name, fields, finish=lambda master: remember(CODEC, doc, master))  # type: ignore[arg-type]


def read_agents(doc: object) -> list[Candidate]:
    """Candidates for every agent of a parsed file; raises :class:`InteropError` when it holds none."""
    agents = agents_in(doc)
    if agents is None:
        raise InteropError("not a LobeChat agent: expected 'identifier', 'meta' and 'config'")
    return [candidate(a, i) for i, a in enumerate(agents)]


def agent_json(master: Master) -> bytes:
    """The LobeChat agent of ``master`` as pretty-printed UTF-8 JSON."""
    return json.dumps(restore(CODEC, master), ensure_ascii=False, indent=2).encode("utf-8")
