"""A partial draft as a master that can be run: the builder's preview and one-click test work
while the form is still being filled in, and say what is missing instead of refusing.

Saving and publishing still need a valid master (:func:`~.library.validate_master`); a run only
needs something to send to the model. Fields that do not validate are replaced: the texts shown
to people (name, tagline, …) by what the draft has in the other language or by a neutral
stand-in; what goes into the prompt (instructions, examples, recipe) and the starters a test
runs are taken from the draft as they are — invalid items left out, never invented.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..catalog.models import Example, LocalizedList, Master
from .library import InvalidMasterError, validate_master

#: Stand-ins for fields a run does not use (their checks are for the published master).
_STAND_IN: dict[str, Any] = {
    "id": "draft",
    "category": "life",
    "avatar": "✨",
    "name": {"zh": "草稿", "en": "Draft"},
    "tagline": {"zh": "草稿", "en": "Draft"},
    "description": {"zh": "草稿", "en": "Draft"},
    "greeting": {"zh": "你好。", "en": "Hello."},
    "instructions": "A draft master whose instructions are not written yet.",
    "starters": {"zh": ["一", "二", "三"], "en": ["one", "two", "three"]},
    "tags": {"zh": ["草稿"], "en": ["draft"]},
    "examples": [{"user": "Hello", "assistant": "Hello."}],
    "recipe": None,
    "safety_duty": False,
    "avatar_image": None,
    "model": None,
    "params": {},
    "extensions": {},
    "version": 1,
}
_LOCALIZED = ("name", "tagline", "description", "greeting")


def draft_for_run(data: Any) -> tuple[Master, list[dict]]:
    """``(master, missing)`` for a preview or test run of ``data`` (the catalog schema as JSON).

    ``missing`` is what :func:`~.library.validate_master` reports (``[{field, message, type,
    ctx}]``; empty for a valid master, which is returned as it is). Otherwise the master is the
    draft with its invalid fields replaced as the module docstring says: ``instructions`` as
    typed (even if short or empty), only the complete ``examples``, the non-blank ``starters``
    (none for a language without any), no ``recipe`` unless it validates. Raises
    :class:`~.library.InvalidMasterError` when ``data`` is not a JSON object.
    """
    try:
        return validate_master(data), []
    except InvalidMasterError as exc:
        if not isinstance(data, dict):
            raise
        missing = exc.details.get("fields", [])
    bad = {str(f["field"]).split(".")[0] for f in missing}
    merged = {k: v for k, v in data.items() if k in Master.model_fields and k not in bad}
    for key in bad:
        if key in _LOCALIZED:
            given = data.get(key) if isinstance(data.get(key), dict) else {}
            texts = {lang: str(given.get(lang) or "").strip() for lang in ("zh", "en")}
            other = texts["zh"] or texts["en"]
            merged[key] = {lang: texts[lang] or other or _STAND_IN[key][lang] for lang in ("zh", "en")}
        elif key in _STAND_IN:
            merged[key] = _STAND_IN[key]
    if "(master)" in bad:  # the safety-section check: the run keeps the draft's instructions
        merged["safety_duty"] = False
    for key, value in _STAND_IN.items():
        if key not in merged and key in ("id", "category", "avatar", "tags"):
            merged[key] = value
    try:
        filled = Master.model_validate(merged)
    except ValidationError:
        raise InvalidMasterError(f"{len(missing)} field(s) need attention", fields=missing) from None
    update: dict[str, Any] = {}
    if "instructions" in bad:
        update["instructions"] = str(data.get("instructions") or "").strip()
    if "examples" in bad:
        update["examples"] = _valid_examples(data.get("examples"))
    if "starters" in bad:
        update["starters"] = _texts(data.get("starters"))
    if "recipe" in bad:
        update["recipe"] = None
    return filled.model_copy(update=update), missing


def _valid_examples(items: Any) -> list[Example]:
    out = []
    for item in items if isinstance(items, list) else []:
        try:
            out.append(Example.model_validate(item))
        except ValidationError:
            continue
    return out


def _texts(value: Any) -> LocalizedList:
    value = value if isinstance(value, dict) else {}
    lists = {lang: [str(s).strip() for s in value.get(lang) or [] if str(s).strip()] for lang in ("zh", "en")}
    return LocalizedList.model_construct(**lists)
