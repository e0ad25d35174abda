"""Fill in what other formats lack, so that every imported record can become a valid master.

Other formats carry one name, one greeting and no conversation starters; our schema wants
both languages, 3–4 starters per language, tags and at least one example. The helpers here
derive them from what the record has (its name, its prompt) in a fixed, predictable way:
the same input always gives the same master. Nothing here is ever translated: a text whose
language cannot be told is used for both languages.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable

from pydantic import ValidationError

from ..catalog.models import CATEGORY_IDS, SamplingParams
from ..chat.language import detect_language

#: Category of imported masters whose source names none of ours (the user can choose another).
DEFAULT_CATEGORY = "life"
#: Avatar of imported masters whose source has none that fits (an emoji of at most 16 characters).
DEFAULT_AVATAR = "🧑‍🏫"
#: Most tags derived from a name.
MAX_DERIVED_TAGS = 8

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#'.-]*[A-Za-z0-9+#]|[A-Za-z]|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_STOP = frozenset({
    "a", "an", "and", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "my", "of", "on",
    "or", "our", "the", "to", "your", "with", "act", "acting", "like", "who", "you", "me", "i",
})
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def has_han(text: str) -> bool:
    """True when ``text`` contains a Chinese (Han) character."""
    return bool(_HAN.search(text))


def language_of(text: str, default: str = "en") -> str:
    """``"zh"`` or ``"en"`` for ``text`` (see :func:`masterhall.chat.language.detect_language`)."""
    return detect_language(text or "", default)


def clean(text: object) -> str:
    """``text`` as a stripped string; anything that is not a string gives ``""``."""
    return text.strip() if isinstance(text, str) else ""


def text_list(items: object) -> list[str]:
    """The non-empty strings of a list (stripped, in order, without repeats); not a list gives ``[]``."""
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        return []
    out: list[str] = []
    for item in items:
        text = clean(item)
        if text and text not in out:
            out.append(text)
    return out


def first_sentence(text: str, limit: int = 120) -> str:
    """The first sentence (or line) of ``text``, cut at a word boundary to at most ``limit`` characters."""
    text = clean(text)
    if not text:
        return ""
    line = text.splitlines()[0].strip()
    sentence = _SENTENCE_END.split(line, maxsplit=1)[0].strip() or line
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    if " " in cut and not has_han(cut):
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:—-") + "…"


def excerpt(text: str, limit: int = 300) -> str:
    """The start of ``text`` up to ``limit`` characters, ending at a sentence end when one is near."""
    text = " ".join(clean(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(cut) if m.end() > limit // 2]
    if ends:
        return cut[: ends[-1]].strip()
    if " " in cut and not has_han(cut):
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:—-") + "…"


def slugify(text: str) -> str:
    """A lowercase ``a-z0-9-`` slug of ``text`` (accents folded), at most 56 characters; may be ``""``."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug[:56].strip("-")


def master_id_for(hint: str, name: str) -> str:
    """A valid master id from an id ``hint`` (preferred) or the ``name``.

    A name without Latin letters or digits (e.g. Chinese) gives ``m-<8 hex digits>`` of its hash.
    """
    for text in (hint, name):
        slug = slugify(text)
        if len(slug) >= 2:
            return slug
    digest = hashlib.sha1((hint or name or "master").encode("utf-8")).hexdigest()[:8]
    return f"m-{digest}"


class IdAllocator:
    """Hands out ids that are unique within one import and avoid the ``reserved`` ones.

    A taken id gets ``-2``, ``-3`` … appended (the base is shortened to keep 64 characters).
    """

    def __init__(self, reserved: Iterable[str] = ()):
        self.reserved = set(reserved)
        self.taken: set[str] = set()

    def allocate(self, wanted: str) -> str:
        """Return ``wanted`` if free, else the first free ``wanted-N``; marks it taken."""
        candidate, n = wanted, 2
        while candidate in self.taken or candidate in self.reserved:
            suffix = f"-{n}"
            candidate = wanted[: 64 - len(suffix)].rstrip("-") + suffix
            n += 1
        self.taken.add(candidate)
        return candidate


def category_or_default(value: object, default: str = DEFAULT_CATEGORY) -> str:
    """``value`` when it is one of our category ids, else ``default``."""
    return value if isinstance(value, str) and value in CATEGORY_IDS else default


def localized(text: str) -> dict[str, str]:
    """``{"zh", "en"}`` holding the one text in both languages (nothing is translated)."""
    text = clean(text)
    return {"zh": text, "en": text}


def words_of(text: str) -> list[str]:
    """Tag-like words of ``text``: Latin words lowercased (stop words dropped), runs of Han characters."""
    out: list[str] = []
    for word in _WORD.findall(text or ""):
        word = word.lower() if not has_han(word) else word
        if len(word) < 2 and not has_han(word):
            continue
        if word in _STOP or word in out:
            continue
        out.append(word)
        if len(out) >= MAX_DERIVED_TAGS:
            break
    return out


def tags_from(tags: list[str], name: str) -> dict[str, list[str]]:
    """Tags per language: Chinese tags to ``zh``, the others to ``en``; a side left empty gets the other's.

    With no tags at all, the words of ``name`` are used (or the name itself).
    """
    tags = [t[:60] for t in tags if t]
    if not tags:
        tags = words_of(name) or [clean(name)[:60] or "imported"]
    zh = [t for t in tags if has_han(t)]
    en = [t for t in tags if not has_han(t)]
    return {"zh": zh or en, "en": en or zh}


def greeting_for(name_zh: str, name_en: str) -> dict[str, str]:
    """A generated greeting in both languages that introduces the master by name."""
    return {
        "zh": f"你好，我是{name_zh}。今天想和我聊些什么？",
        "en": f"Hello, I'm {name_en}. What would you like to talk about today?",
    }


def greeting_in(lang: str, name: str) -> str:
    """The generated greeting of :func:`greeting_for` in one language."""
    return greeting_for(name, name)[lang]


def starters_for(name_zh: str, name_en: str) -> dict[str, list[str]]:
    """Three generated conversation starters per language that name the master."""
    return {
        "zh": [f"你好，{name_zh}，你能帮我做什么？", f"{name_zh}，你会怎样帮我解决一个具体的问题？", "先给我一个马上就能用的建议吧。"],
        "en": [
            f"Hi {name_en}, what can you help me with?",
            f"{name_en}, how would you help me with a concrete problem?",
            "Give me one piece of advice I can use right away.",
        ],
    }


def tagline_for(name_zh: str, name_en: str) -> dict[str, str]:
    """A generated tagline in both languages for a master known only by its name."""
    return {"zh": f"扮演「{name_zh}」的 AI 大师", "en": f"An AI master acting as {name_en}"}


def example_for(greeting: dict[str, str], lang: str) -> list[dict[str, str]]:
    """One generated example exchange in ``lang``: a hello answered by the greeting."""
    user = "你好，你是谁？" if lang == "zh" else "Hello, who are you?"
    return [{"user": user, "assistant": greeting[lang]}]


def pad_instructions(text: str, name: str, lang: str) -> str:
    """``text``, with a sentence that names the role added when it is shorter than our 40-character minimum."""
    text = clean(text)
    if len(text) >= 40:
        return text
    lead = (
        f"你是{name}。请始终保持这个角色，用对方使用的语言回答。"
        if lang == "zh"
        else f"You are {name}. Stay in this role and reply in the language the person writes in."
    )
    return f"{lead}\n\n{text}".strip() if text else lead


def avatar_or_default(value: object, default: str = DEFAULT_AVATAR) -> str:
    """``value`` when it looks like an emoji or short symbol (1–16 characters, no URL or path), else ``default``."""
    text = clean(value)
    if not text or len(text) > 16 or "/" in text or "." in text or text.isascii():
        return default
    return text


def bilingual(text: str, lang: str, other: str) -> dict[str, str]:
    """``{"zh", "en"}`` with ``text`` in ``lang`` and ``other`` in the other language."""
    return {lang: text, ("en" if lang == "zh" else "zh"): other}


def other_language(lang: str) -> str:
    """``"en"`` for ``"zh"`` and ``"zh"`` for anything else."""
    return "en" if lang == "zh" else "zh"


def primary_language(master) -> str:
    """The language a single-language export of ``master`` is written in: that of its instructions."""
    return language_of(master.instructions)


def greeting_from(text: str, name: str, lang: str) -> dict[str, str]:
    """Greeting in both languages from one ``text``: it goes to its own language, the other is generated.

    An empty ``text`` gives the generated greeting in both languages.
    """
    text = clean(text)
    if not text:
        return greeting_for(name, name)
    own = language_of(text, lang)
    return bilingual(text, own, greeting_in(other_language(own), name))


def starters_from(items: list[str], name: str) -> dict[str, list[str]]:
    """Starters per language from ``items`` (first 4, topped up to 3 with generated ones); the other language is generated."""
    generated = starters_for(name, name)
    if not items:
        return generated
    lang = language_of(" ".join(items))
    own = items[:4]
    for extra in generated[lang]:
        if len(own) >= 3:
            break
        if extra not in own:
            own.append(extra)
    return {lang: own, other_language(lang): generated[other_language(lang)]}


def pairs_to_examples(messages: object) -> list[dict[str, str]]:
    """Example exchanges from a list of ``{"role", "content"}`` messages (user then assistant pairs).

    Other roles and unpaired messages are skipped; consecutive messages of one role are joined.
    """
    if not isinstance(messages, list):
        return []
    turns: list[list[str]] = []
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        role = msg.get("role")
        text = message_text(msg.get("content"))
        if role not in ("user", "assistant") or not text:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1] += "\n\n" + text
        else:
            turns.append([role, text])
    out = []
    for i in range(len(turns) - 1):
        if turns[i][0] == "user" and turns[i + 1][0] == "assistant":
            out.append({"user": turns[i][1], "assistant": turns[i + 1][1]})
    return out


def message_text(content: object) -> str:
    """The text of a chat message's ``content``: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "\n".join(p.strip() for p in parts if p.strip())
    return ""


#: Sampling parameters that OpenAI-style clients (LobeChat ``config.params``, NextChat
#: ``modelConfig``) store under the same names as ours.
OPENAI_PARAMS = ("temperature", "top_p", "max_tokens", "frequency_penalty", "presence_penalty")


def valid_params(temperature: object = None, top_p: object = None, max_tokens: object = None, **others: object) -> dict:
    """Sampling parameters that fit our ranges (others are left out).

    ``temperature`` 0–2, ``top_p`` (0, 1], ``max_tokens`` 1–32768, and any other field of
    :class:`~masterhall.catalog.models.SamplingParams` by name (``top_k``, ``min_p``,
    ``repeat_penalty``, ``frequency_penalty``, ``presence_penalty`` …) within its declared range.
    """
    values = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, **others}
    out: dict = {}
    for name, value in values.items():
        if name not in SamplingParams.model_fields or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if not math.isfinite(value):
            continue
        try:
            checked = SamplingParams.model_validate({name: value})
        except ValidationError:
            continue
        out[name] = getattr(checked, name)
    return out
