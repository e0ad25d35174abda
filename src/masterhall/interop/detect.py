"""Tell the format of a file from its content and name.

Order: the PNG signature (a card) and the Parquet magic (a table) first; then a table or YAML
suffix (``.csv``, ``.tsv``, ``.jsonl``, ``.parquet``, ``.yaml`` …); then JSON content, told
apart by its shape (card, LobeChat agent, NextChat mask, our master, or an array of flat
records = a table); then YAML holding our masters; then CSV text (``,`` ``;`` tab or ``|`` in its first line).
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

from . import card, lobechat, native, nextchat, table
from .errors import InteropError
from .frames import DELIMITERS
from .png import is_png
from .roundtrip import ABSENT
from .source import decode_text, load_json, load_yaml

#: Import formats (``auto`` detects one of the others).
IMPORT_FORMATS = ("auto", "card", "lobechat", "nextchat", "yaml", "json", "table")
_YAML_START = re.compile(r"^(---|- |#|[A-Za-z_][\w-]*:(\s|$))")


def kind_of_document(doc: object) -> str | None:
    """The format of a parsed JSON/YAML document, or ``None`` when it is none we know."""
    if native.masters_in(doc) is not None:
        return "json"
    if card.is_card(doc) or (isinstance(doc, list) and doc and all(card.is_card(d) for d in doc)):
        return "card"
    if lobechat.agents_in(doc) is not None:
        return "lobechat"
    if nextchat.masks_in(doc) is not None:
        return "nextchat"
    if isinstance(doc, list) and doc and all(isinstance(d, dict) for d in doc):
        return "table"
    return None


def detect(data: bytes, filename: str | None = None) -> tuple[str, object]:
    """``(format, parsed document or ABSENT)`` for ``data``; raises :class:`InteropError` when unknown.

    The parsed document is returned so that the file is not parsed twice.
    """
    if is_png(data):
        return "card", ABSENT
    if data[:4] == b"PAR1":
        return "table", ABSENT
    suffix = PurePosixPath((filename or "").lower()).suffix
    if table.is_table_name(filename):
        return "table", ABSENT
    if suffix in (".yaml", ".yml"):
        return "yaml", ABSENT
    if suffix == ".png":
        raise InteropError("the file is named .png but is not a PNG image")
    text = decode_text(data)
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            doc = load_json(text)
        except InteropError:
            if head == "{" and _json_lines(text):
                return "table", ABSENT
            raise
        kind = kind_of_document(doc)
        if kind is None:
            raise InteropError(
                "cannot tell the format of this JSON: it is no character card, LobeChat agent, NextChat mask, "
                "master or table of records; choose one with --format"
            )
        return kind, doc
    if suffix == ".json":
        raise InteropError("bad JSON: the file does not start with '{' or '['")
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if _YAML_START.match(first):
        doc = load_yaml(data)
        if native.masters_in(doc) is not None:
            return "yaml", doc
        raise InteropError("this YAML holds no MasterHall masters (expected 'id', 'name' {zh, en}, 'instructions' …)")
    if any(d in first for d in DELIMITERS):
        return "table", ABSENT
    raise InteropError("cannot tell the format of this file; choose one with --format (card, lobechat, nextchat, yaml, json, table)")


def _json_lines(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        return all(isinstance(json.loads(ln), dict) for ln in lines)
    except (ValueError, RecursionError):
        return False
