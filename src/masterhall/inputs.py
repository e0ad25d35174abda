"""Checks shared by every input the hall accepts (request models, master files): text that can
be stored anywhere, integers that fit a database column, JSON that is not nested without end.

Why: SQLite and PostgreSQL store 64-bit signed integers at most (a larger id or offset is an
overflow error, not "not found"); PostgreSQL text cannot hold NUL (U+0000); a lone UTF-16
surrogate (U+D800–U+DFFF, valid in JSON's ``\\uXXXX`` escapes but not in UTF-8) cannot be encoded
to store, send or log; and JSON nested hundreds of levels deep validates but then fails to
serialize. Each check raises ``ValueError`` with a message meant for the client, so pydantic
reports it as a validation error (HTTP 422/400) before anything is stored.

The pydantic types: :data:`Text` (any text without NUL or lone surrogates), :data:`Title`
(also whitespace-collapsed and not blank), :data:`DbInt` (0 … 2**63 - 1), :data:`DbId` (a row id, 1 … 2**31 - 1)
and :data:`JsonObject` (a dict whose strings are :data:`Text` and whose depth is at most
:data:`MAX_JSON_DEPTH`).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field

#: The largest integer SQLite's INTEGER and PostgreSQL's BIGINT hold (2**63 - 1).
MAX_DB_INT = 2**63 - 1
#: The largest row id: message and file ids are INTEGER columns, 32-bit on PostgreSQL (2**31 - 1).
MAX_ROW_ID = 2**31 - 1
#: How deeply a free-form JSON field (a master's ``extensions``, a request's parts) may nest.
MAX_JSON_DEPTH = 20


def check_text(value: str) -> str:
    """``value`` unchanged; ``ValueError`` when it holds a NUL character or a lone surrogate."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"contains an unpaired UTF-16 surrogate (U+{ord(value[exc.start]):04X}) at position {exc.start}") from None
    return value


def is_blank(value: str) -> bool:
    """True when ``value`` shows nothing: only whitespace, control or invisible format
    characters (zero-width spaces, BOM, direction marks: Unicode categories Cc and Cf)."""
    return all(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in value)


def clean_title(value: str) -> str:
    """``value`` checked (:func:`check_text`), whitespace collapsed; ``ValueError`` when blank then."""
    clean = " ".join(check_text(value).split())
    if is_blank(clean):
        raise ValueError("must not be blank")
    return clean


def check_json(value: Any, max_depth: int = MAX_JSON_DEPTH, _where: str = "") -> Any:
    """``value`` (decoded JSON) unchanged; ``ValueError`` naming the place when a key or string
    fails :func:`check_text` or containers nest deeper than ``max_depth`` (a flat object is 1)."""
    stack = [(value, _where, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            _text_at(item, where)
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                raise ValueError(f"{where or 'value'}: nested deeper than {max_depth} levels")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str):
                    _text_at(key, where)
                stack.append((child, f"{where}.{key}" if where else str(key), depth + 1))
    return value


def _text_at(text: str, where: str) -> None:
    try:
        check_text(text)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}" if where else str(exc)) from None


#: Text that can be stored and sent: no NUL, no lone surrogate.
Text = Annotated[str, AfterValidator(check_text)]
#: A title: :data:`Text`, whitespace collapsed, not blank, 1–200 characters.
Title = Annotated[str, AfterValidator(clean_title), Field(min_length=1, max_length=200)]
#: An integer a database column holds (0 … 2**63 - 1): offsets, counts.
DbInt = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
#: A row id (1 … 2**31 - 1): a message's or a file's.
DbId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
#: A JSON object whose keys and strings are :data:`Text`, nested at most :data:`MAX_JSON_DEPTH` deep.
JsonObject = Annotated[dict, AfterValidator(check_json)]
