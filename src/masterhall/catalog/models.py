"""The one schema for built-in and user-created masters.

A master is an expert-advisor persona: a system prompt (``instructions``) plus everything the
hall needs to present it (names, tagline, greeting, conversation starters, tags) in Chinese and
English, and optional model / sampling overrides.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..inputs import JsonObject, check_text

#: The seven categories of the hall, in display order (see ``catalog-spec.md``).
CATEGORY_IDS: tuple[str, ...] = (
    "tech",
    "productivity",
    "psychology",
    "life",
    "writing",
    "philosophy",
    "business",
)
#: Pseudo-category of the ``master-finder`` guide, which recommends masters but does not advise.
GUIDE_CATEGORY = "guide"


def check_category(value: str) -> str:
    """``value`` if it is one of :data:`CATEGORY_IDS`; raises ``ValueError`` naming them if not."""
    if value not in CATEGORY_IDS:
        raise ValueError(f"unknown category {value!r}; expected one of {', '.join(CATEGORY_IDS)}")
    return value

Lang = Literal["zh", "en"]

# Text limits of a master, in characters, shared by the builder's form and every import (the
# importers read files against the same numbers: ``masterhall.interop.errors``). The built-in
# masters use a small part of them (longest system prompt ~1,600 characters, name 22,
# description ~420); they stop pasted or imported text that no prompt could use from reaching
# the database and the model.
#: Longest system prompt (``instructions``); also the longest text value an import reads.
MAX_INSTRUCTIONS_CHARS = 100_000
#: Longest name, per language.
MAX_NAME_CHARS = 200
#: Longest tagline, conversation starter, tag or recipe move.
MAX_SHORT_TEXT_CHARS = 1_000
#: Longest description, greeting, or side of an example exchange.
MAX_TEXT_CHARS = 20_000
#: Most tags per language, and most example exchanges.
MAX_LIST_ITEMS = 50
#: Largest ``extensions`` (data kept from other formats), as compact JSON in bytes.
MAX_EXTENSIONS_BYTES = 4 * 1024 * 1024
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
#: Largest uploaded avatar image, in bytes (decoded).
AVATAR_IMAGE_MAX_BYTES = 200 * 1024
#: The only accepted form of ``avatar_image``: a base64 ``data:`` URL of a raster image type.
AVATAR_IMAGE_RE = re.compile(r"^data:image/(png|jpeg|webp|gif);base64,([A-Za-z0-9+/]+={0,2})$")
#: What each type's file must start with (SVG and anything else is refused: it can hold script).
_IMAGE_SIGNATURES = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
}


def check_avatar_image(value: str) -> str:
    """Return ``value`` if it is a valid avatar image ``data:`` URL, else raise ``ValueError``.

    Valid: ``data:image/png|jpeg|webp|gif;base64,…`` (nothing else: no parameters, no SVG, no
    other scheme), proper base64 of at most :data:`AVATAR_IMAGE_MAX_BYTES` bytes, whose content
    starts with the signature of the declared type.
    """
    if len(value) > (AVATAR_IMAGE_MAX_BYTES * 4) // 3 + 64:
        raise ValueError(f"avatar image is larger than {AVATAR_IMAGE_MAX_BYTES // 1024} KB")
    match = AVATAR_IMAGE_RE.fullmatch(value)
    if not match:
        raise ValueError("must be a data:image/png, jpeg, webp or gif URL in base64 (data:image/png;base64,…)")
    kind, payload = match.groups()
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the image data is not valid base64") from None
    if len(data) > AVATAR_IMAGE_MAX_BYTES:
        raise ValueError(f"avatar image is larger than {AVATAR_IMAGE_MAX_BYTES // 1024} KB")
    if kind == "webp":
        ok = len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    else:
        ok = data.startswith(_IMAGE_SIGNATURES[kind])
    if not ok:
        raise ValueError(f"the data is not a {kind.upper()} image")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        """Every text (and list of texts) can be stored and sent: no NUL, no lone surrogate."""
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                check_text(item)
        return value


class Category(_Strict):
    """A hall category: ``id`` (e.g. ``"tech"``) and its display names."""

    id: str
    name: "Localized"


class Localized(_Strict):
    """A short text in both languages; both are required and non-empty."""

    zh: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    en: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)

    def get(self, lang: str) -> str:
        """Return the text for ``lang`` (``"zh"`` or ``"en"``); anything else gives English."""
        return self.zh if lang == "zh" else self.en


class LocalizedList(_Strict):
    """A list of short texts in both languages (e.g. conversation starters, tags)."""

    zh: list[str] = Field(min_length=1, max_length=MAX_LIST_ITEMS)
    en: list[str] = Field(min_length=1, max_length=MAX_LIST_ITEMS)

    def get(self, lang: str) -> list[str]:
        """Return the list for ``lang``; anything but ``"zh"`` gives English."""
        return self.zh if lang == "zh" else self.en

    @field_validator("zh", "en")
    @classmethod
    def _no_blank_items(cls, items: list[str]) -> list[str]:
        cleaned = [item.strip() for item in items]
        if any(not item for item in cleaned):
            raise ValueError("items must not be empty")
        if any(len(item) > MAX_SHORT_TEXT_CHARS for item in cleaned):
            raise ValueError(f"items must have at most {MAX_SHORT_TEXT_CHARS:,} characters")
        return cleaned


class Starters(LocalizedList):
    """Conversation starters: 3–4 clickable first messages per language."""

    zh: list[str] = Field(min_length=3, max_length=4)
    en: list[str] = Field(min_length=3, max_length=4)


class Recipe(LocalizedList):
    """A reply recipe: the master's method as 3–5 concrete moves per language.

    It ends the system prompt for small models (which follow short numbered moves better than
    prose); large backends get the full ``instructions`` alone.
    """

    zh: list[str] = Field(min_length=3, max_length=5)
    en: list[str] = Field(min_length=3, max_length=5)


class Example(_Strict):
    """One example exchange that shows the master's voice and method (few-shot)."""

    user: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    assistant: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class SamplingParams(_Strict):
    """Generation parameters; ``None`` means "use the backend's / hall's default".

    ``context_window`` is in tokens (prompt + reply); ``max_tokens`` caps the reply.
    ``top_k`` keeps the k most likely tokens (0 = off); ``min_p`` drops tokens below that share of
    the most likely one's probability; ``repeat_penalty`` (llama.cpp, 1.0 = off) divides the
    logits of tokens seen in the last 64; ``frequency_penalty`` / ``presence_penalty`` are
    OpenAI's (-2 to 2, 0 = off); ``stop``: up to 4 sequences (1–64 characters) that end the reply
    where they would appear, as OpenAI's. Backends pass on what their server understands.
    """

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0, le=1000)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    repeat_penalty: float | None = Field(default=None, ge=0.5, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    context_window: int | None = Field(default=None, ge=256, le=1_048_576)
    seed: int | None = None
    #: Up to 4 sequences that end the reply where they would appear (not included), as OpenAI's ``stop``.
    stop: list[str] | None = Field(default=None, max_length=4)

    @field_validator("stop")
    @classmethod
    def _stop_sequences(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not s or len(s) > 64 for s in value):
            raise ValueError("each stop sequence is 1 to 64 characters")
        return value

    def merged(self, override: "SamplingParams | None") -> "SamplingParams":
        """Return a copy where every field set in ``override`` replaces ours (both are validated
        already, so the copy is not validated again: a turn merges three times)."""
        if override is None:
            return self.model_copy()
        return self.model_copy(update=override.model_dump(exclude_none=True))


class Master(_Strict):
    """An expert-advisor persona.

    ``instructions`` is the system prompt; ``examples`` are few-shot exchanges placed after it;
    ``recipe`` (optional) is the method as 3–5 short moves per language, for small models;
    ``model`` optionally names a backend from the hall config; ``params`` override the defaults.
    ``avatar`` is an emoji (or a few characters); ``avatar_image`` optionally replaces it where
    avatars are shown: an uploaded picture as a ``data:image/png|jpeg|webp|gif;base64,…`` URL of
    at most 200 KB (see :func:`check_avatar_image`), only ever rendered as an ``<img src>``.
    ``safety_duty`` marks masters whose instructions must carry the crisis / medical / financial
    duties of the catalog spec. ``extensions`` keeps data of other formats that has no field here
    (e.g. a character card's ``extensions``, ``character_book``, ``creator``), so that an import
    followed by an export loses nothing; it is never part of the prompt (see ``masterhall.interop``).
    Texts are capped (:data:`MAX_INSTRUCTIONS_CHARS`, :data:`MAX_NAME_CHARS`,
    :data:`MAX_SHORT_TEXT_CHARS`, :data:`MAX_TEXT_CHARS`, :data:`MAX_LIST_ITEMS`,
    :data:`MAX_EXTENSIONS_BYTES`); the builder and every import validate against this model.
    """

    id: str
    category: str
    version: int = Field(default=1, ge=1)
    avatar: str = Field(min_length=1, max_length=16)
    avatar_image: str | None = None
    name: Localized
    tagline: Localized
    description: Localized
    instructions: str = Field(min_length=40, max_length=MAX_INSTRUCTIONS_CHARS)
    greeting: Localized
    starters: Starters
    tags: LocalizedList
    examples: list[Example] = Field(min_length=1, max_length=MAX_LIST_ITEMS)
    recipe: Recipe | None = None
    safety_duty: bool = False
    model: str | None = None
    params: SamplingParams = Field(default_factory=SamplingParams)
    extensions: JsonObject = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("must be lowercase letters, digits and '-', 2-64 characters")
        return value

    @field_validator("name", "tagline")
    @classmethod
    def _short_texts(cls, value: Localized, info) -> Localized:
        limit = MAX_NAME_CHARS if info.field_name == "name" else MAX_SHORT_TEXT_CHARS
        if max(len(value.zh), len(value.en)) > limit:
            raise ValueError(f"{info.field_name} must have at most {limit:,} characters per language")
        return value

    @field_validator("extensions")
    @classmethod
    def _extensions_size(cls, value: dict) -> dict:
        if value:
            try:
                size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8"))
            except (ValueError, RecursionError):
                raise ValueError("extensions must be plain JSON data") from None
            if size > MAX_EXTENSIONS_BYTES:
                raise ValueError(f"extensions are {size:,} bytes as JSON; the limit is {MAX_EXTENSIONS_BYTES:,}")
        return value

    @field_validator("avatar_image", mode="before")
    @classmethod
    def _valid_avatar_image(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("must be a data:image URL string")  # noqa: TRY004 - pydantic reports ValueError only
        return check_avatar_image(value.strip())

    @field_validator("category")
    @classmethod
    def _valid_category(cls, value: str) -> str:
        return value if value == GUIDE_CATEGORY else check_category(value)

    @model_validator(mode="after")
    def _safety_text_present(self) -> "Master":
        if self.safety_duty and "safety" not in self.instructions.lower():
            raise ValueError("instructions: safety_duty is set but the instructions have no 'Safety' section")
        return self

    @property
    def is_guide(self) -> bool:
        """True for the ``master-finder`` guide (not one of the 42 advisors)."""
        return self.category == GUIDE_CATEGORY


Category.model_rebuild()

CATEGORIES: tuple[Category, ...] = (
    Category(id="tech", name=Localized(zh="技术", en="Technology")),
    Category(id="productivity", name=Localized(zh="效率", en="Productivity")),
    Category(id="psychology", name=Localized(zh="心理", en="Psychology")),
    Category(id="life", name=Localized(zh="生活", en="Life")),
    Category(id="writing", name=Localized(zh="写作", en="Writing")),
    Category(id="philosophy", name=Localized(zh="哲学", en="Philosophy")),
    Category(id="business", name=Localized(zh="商业", en="Business")),
)
