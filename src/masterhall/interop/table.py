"""Tables of prompts through pandas: CSV, TSV, JSON lines, a JSON array of records, Parquet.

Each row becomes a master. Columns are found by name (case-insensitive), or by an explicit
mapping ``{"act": "name", "prompt": "instructions"}`` (``--map act=name,prompt=instructions``);
the default names follow awesome-chatgpt-prompts style tables (``act``, ``prompt``):

=============  =====================================================================
our field      column names looked for
=============  =====================================================================
name           ``name``, ``act``, ``title``, ``role``, ``character``, ``persona``
instructions   ``instructions``, ``prompt``, ``system_prompt``, ``systemrole``, ``system``
description    ``description``, ``desc``, ``summary``
tagline        ``tagline``
greeting       ``greeting``, ``first_mes``, ``opening_message``
category       ``category``
avatar         ``avatar``, ``emoji``
tags           ``tags``, ``keywords`` (separated by ``,`` ``;`` ``|`` or ``、``)
id             ``id``, ``identifier``, ``slug``
name_zh/en     ``name_zh``, ``name_en`` (a name per language)
model          ``model`` (a backend name of the hall config)
=============  =====================================================================

What a row lacks is filled in: ids are slugs of the name (unique), the category is the
default unless a ``category`` cell names one of ours, tagline, greeting and starters are
generated from the name in both languages, tags are the words of the name, the description is
the start of the prompt, and a prompt shorter than 40 characters gets a sentence naming the
role. Other columns are kept in ``Master.extensions["table"]``. Rows without a name or a
prompt are rejected.
"""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath

from . import fill, frames
from .errors import MAX_FIELD_CHARS, MAX_RECORDS, InputTooLargeError, InteropError, over_limit
from .records import Candidate

#: Fields a column can be mapped to.
TARGETS = (
    "id",
    "name",
    "name_zh",
    "name_en",
    "tagline",
    "description",
    "instructions",
    "greeting",
    "category",
    "avatar",
    "tags",
    "model",
)
#: Column names looked for, per field, when no mapping names a column for it.
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "act", "title", "role", "character", "persona"),
    "instructions": ("instructions", "prompt", "system_prompt", "systemrole", "system"),
    "description": ("description", "desc", "summary"),
    "tagline": ("tagline",),
    "greeting": ("greeting", "first_mes", "opening_message"),
    "category": ("category",),
    "avatar": ("avatar", "emoji"),
    "tags": ("tags", "keywords"),
    "id": ("id", "identifier", "slug"),
    "name_zh": ("name_zh",),
    "name_en": ("name_en",),
    "model": ("model",),
}
_TAG_SPLIT = re.compile(r"[,;|、，；]")
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".parquet", ".pq")


def parse_mapping(mapping: str | dict[str, str] | None) -> dict[str, str]:
    """``{"column": "field"}`` from ``"col=field,col2=field2"`` or a dict; raises :class:`InteropError`.

    Fields must be in :data:`TARGETS`; ``name.zh`` / ``name.en`` are accepted for ``name_zh`` / ``name_en``.
    """
    if not mapping:
        return {}
    pairs = list(mapping.items()) if isinstance(mapping, dict) else []
    if isinstance(mapping, str):
        for part in mapping.split(","):
            if not part.strip():
                continue
            column, sep, target = part.partition("=")
            if not sep or not column.strip() or not target.strip():
                raise InteropError(f"bad column mapping {part.strip()!r}: expected COLUMN=FIELD, e.g. act=name")
            pairs.append((column.strip(), target.strip()))
    out: dict[str, str] = {}
    for column, target in pairs:
        target = str(target).strip().lower().replace(".", "_")
        if target not in TARGETS:
            raise InteropError(f"cannot map column {column!r} to {target!r}; fields are: {', '.join(TARGETS)}")
        out[str(column)] = target
    return out


def is_table_name(filename: str | None) -> bool:
    """True when ``filename`` ends like a table file (``.csv``, ``.tsv``, ``.jsonl``, ``.parquet`` …)."""
    return bool(filename) and PurePosixPath(filename.lower()).suffix in TABLE_SUFFIXES


def read_frame(data: bytes, filename: str | None, records: object = None):
    """A pandas ``DataFrame`` of the table in ``data`` (UTF-8 text, or Parquet), within the limits
    of :mod:`masterhall.interop.frames`.

    The kind is told by ``records`` (an already parsed JSON array), the Parquet magic bytes,
    the file name's suffix, or else the content (JSON lines when every line is an object, else
    CSV with its delimiter detected). Raises :class:`InteropError` for a table pandas cannot
    read, or when pandas (or pyarrow, for Parquet) is not installed, and
    :class:`~masterhall.interop.errors.InputTooLargeError` for one over a limit.
    """
    try:
        import pandas  # noqa: F401 - checked here to give a clear message
    except ImportError:
        raise InteropError("importing tables needs pandas: pip install pandas") from None
    suffix = PurePosixPath((filename or "").lower()).suffix
    try:
        if isinstance(records, list):
            frame = frames.records_frame(records)
        elif frames.is_parquet(data, filename):
            frame = frames.read_parquet(data)
        else:
            text = data.decode("utf-8-sig")
            if suffix in (".jsonl", ".ndjson") or (suffix not in (".csv", ".tsv", ".tab") and _looks_like_jsonl(data)):
                frame = frames.read_json_lines(text)
            else:
                frame = frames.read_csv(text, suffix)
        frames.check_decoded(frame)
        return frame
    except InteropError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas/pyarrow raise many kinds of errors for bad files
        raise InteropError(f"cannot read the table: {exc.__class__.__name__}: {str(exc)[:300]}") from None


def _looks_like_jsonl(data: bytes) -> bool:
    lines = [ln.strip() for ln in data[:65536].splitlines() if ln.strip()]
    return len(lines) >= 1 and all(ln.startswith(b"{") for ln in lines[:20])


def _cell(value: object) -> object:
    """A cell as plain JSON data: ``None`` for missing values, Python scalars for numpy ones."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            value = value.tolist() if hasattr(value, "tolist") else str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "tolist"):
        return _cell(value.tolist())
    return str(value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(t for t in (_text(v) for v in value) if t)
    return value.strip() if isinstance(value, str) else str(value).strip()


def _columns(frame, mapping: dict[str, str]) -> dict[str, str]:
    """``{field: column}`` for the frame; raises :class:`InteropError` for a missing column."""
    columns = [str(c) for c in frame.columns]
    lower = {c.lower(): c for c in columns}
    chosen: dict[str, str] = {}
    for column, target in mapping.items():
        actual = column if column in columns else lower.get(column.lower())
        if actual is None:
            raise InteropError(f"no column {column!r} in the table; its columns are: {', '.join(columns)}")
        chosen[target] = actual
    used = set(chosen.values())
    for target, names in ALIASES.items():
        if target in chosen:
            continue
        for alias in names:
            if alias in lower and lower[alias] not in used:
                chosen[target] = lower[alias]
                used.add(lower[alias])
                break
    if "name" not in chosen and not ("name_zh" in chosen or "name_en" in chosen):
        raise InteropError(f"no name column (looked for {', '.join(ALIASES['name'])}); columns: {', '.join(columns)}; "
                           "use a mapping such as COLUMN=name")
    if "instructions" not in chosen:
        raise InteropError(
            f"no prompt column (looked for {', '.join(ALIASES['instructions'])}); columns: {', '.join(columns)}; "
            "use a mapping such as COLUMN=instructions"
        )
    return chosen


def _row_fields(row: dict, cols: dict[str, str], others: list[str]) -> tuple[str, dict, list[tuple[str, str]]]:
    get = {target: _text(_cell(row.get(col))) for target, col in cols.items()}
    name_en = get.get("name_en") or get.get("name") or get.get("name_zh", "")
    name_zh = get.get("name_zh") or get.get("name") or name_en
    problems = []
    if not (name_en or name_zh):
        problems.append(("name", "the name cell is empty"))
    prompt = get.get("instructions", "")
    if not prompt:
        problems.append(("instructions", "the prompt cell is empty"))
    lang = fill.language_of(name_en + " " + prompt)
    greeting = fill.greeting_from(get["greeting"], name_en, lang) if get.get("greeting") else fill.greeting_for(name_zh, name_en)
    about = get.get("description") or fill.excerpt(prompt)
    tags = [t.strip() for t in _TAG_SPLIT.split(get.get("tags", "")) if t.strip()]
    fields: dict = {
        "name": {"zh": name_zh, "en": name_en},
        "instructions": fill.pad_instructions(prompt, name_en, lang) if prompt else "",
        "tagline": fill.localized(get["tagline"]) if get.get("tagline") else fill.tagline_for(name_zh, name_en),
        "description": fill.localized(about) if about else fill.tagline_for(name_zh, name_en),
        "greeting": greeting,
        "starters": fill.starters_for(name_zh, name_en),
        "tags": fill.tags_from(tags, name_en if fill.words_of(name_en) else name_zh),
        "examples": fill.example_for(greeting, lang),
        "avatar": fill.avatar_or_default(get.get("avatar")),
    }
    if get.get("id"):
        fields["id"] = get["id"]
    category = get.get("category", "").lower()
    if category:
        fields["category"] = fill.category_or_default(category)
    if get.get("model"):
        fields["model"] = get["model"]
    kept = {c: _cell(row.get(c)) for c in others}
    kept = {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if kept:
        fields["extensions"] = {"table": kept}
    return name_en or name_zh, fields, problems


def read_table(data: bytes, filename: str | None, mapping: str | dict | None = None, records: object = None) -> list[Candidate]:
    """One :class:`Candidate` per table row (see the module doc).

    Raises :class:`InteropError` for an unreadable table, a missing name or prompt column, a
    cell over :data:`~masterhall.interop.errors.MAX_FIELD_CHARS` characters or more than
    :data:`~masterhall.interop.errors.MAX_RECORDS` rows.
    """
    frame = read_frame(data, filename, records)
    if len(frame) > MAX_RECORDS:
        raise over_limit("rows", len(frame), MAX_RECORDS, "the table")
    if len(frame) == 0:
        raise InteropError("the table has no rows")
    cols = _columns(frame, parse_mapping(mapping))
    mapped = set(cols.values())
    others = [str(c) for c in frame.columns if str(c) not in mapped]
    rows = frame.to_dict("records")
    out = []
    for i, row in enumerate(rows):
        for column, value in row.items():
            if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                raise InputTooLargeError(f"row {i + 1}, column {column!r}: {len(value):,} characters; "
                                         f"the limit is {MAX_FIELD_CHARS:,}", limit=MAX_FIELD_CHARS, what="characters")
        row = {str(k): v for k, v in row.items()}
        name, fields, problems = _row_fields(row, cols, others)
        out.append(Candidate(i, name or None, fields, problems=problems))
    return out
