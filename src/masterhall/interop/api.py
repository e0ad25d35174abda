"""The import / export entry points used by the CLI and the web layer."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from ..accounts import LOCAL, Caller
from ..catalog.loader import builtin_data_dir
from ..catalog.models import Master, check_category
from ..errors import ConflictError
from . import card, lobechat, native, nextchat, table
from .detect import IMPORT_FORMATS, detect
from .errors import MAX_FILE_BYTES, MAX_RECORDS, ImportResult, InteropError, over_limit
from .png import is_png
from .records import build_result
from .roundtrip import ABSENT
from .source import decode, load_json, load_yaml, read_source

#: Export formats and their (content type, file name suffix).
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "card-json": ("application/json", ".card.json"),
    "card-png": ("image/png", ".png"),
    "lobechat": ("application/json", ".lobechat.json"),
    "nextchat": ("application/json", ".nextchat.json"),
    "yaml": ("application/yaml", ".yaml"),
    "json": ("application/json", ".json"),
}
_FORMAT_ALIASES = {"card-json": "card", "card-png": "card", "png": "card", "yml": "yaml", "csv": "table",
                   "jsonl": "table", "parquet": "table", "tsv": "table"}


def builtin_ids() -> set[str]:
    """Ids of the built-in masters (file names of the packaged catalog), without loading them."""
    return {p.stem for p in builtin_data_dir().glob("*/*.yaml")}


def _fmt(fmt: str) -> str:
    name = (fmt or "auto").strip().lower()
    name = _FORMAT_ALIASES.get(name, name)
    if name not in IMPORT_FORMATS:
        raise InteropError(f"unknown import format {fmt!r}; choose one of: {', '.join(IMPORT_FORMATS)}")
    return name


def import_bytes(
    data: bytes,
    filename: str | None = None,
    *,
    fmt: str = "auto",
    category: str | None = None,
    mapping: str | dict[str, str] | None = None,
    reserved_ids: Iterable[str] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> ImportResult:
    """Read masters from the bytes of a file; stores nothing.

    ``filename`` (optional) helps tell the format; ``fmt`` is ``auto`` (detect) or one of
    ``card`` (JSON or PNG, V1/V2/V3), ``lobechat``, ``nextchat``, ``yaml``, ``json`` (ours) or
    ``table`` (CSV/TSV/JSON lines/JSON records/Parquet). ``category``, when given, is every
    imported master's category (else the source's, else ``life``). ``mapping`` maps table
    columns to fields (``"act=name,prompt=instructions"``; giving one implies a table when
    ``fmt`` is ``auto``). Ids never take one of ``reserved_ids`` (default: the built-in
    masters' ids) and are unique within the import.

    Text files may be in any encoding (see :func:`~masterhall.interop.source.decode`); one that
    is not UTF-8 gives a warning naming the encoding read.

    Returns an :class:`ImportResult`; records that fail validation are listed in its
    ``rejected`` (callers store nothing unless it is empty). Raises :class:`InteropError` for a
    file that cannot be read as the format (bad JSON, truncated PNG, no card chunk, bytes that
    are no text) or a bad option, and its subclass :class:`InputTooLargeError` for a file over a
    limit (``max_bytes``, :data:`MAX_RECORDS` records, :data:`MAX_COLUMNS` columns,
    :data:`MAX_DECODED_BYTES` decoded bytes, a field over :data:`MAX_FIELD_CHARS` characters).
    """
    if not isinstance(data, (bytes, bytearray)):
        raise InteropError("import_bytes needs bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise over_limit("bytes", len(data), max_bytes)
    data, warnings = _as_utf8(data, filename)
    if not data.strip():
        raise InteropError("the file is empty")
    if category is not None:
        try:
            check_category(category)
        except ValueError as exc:
            raise InteropError(str(exc)) from None
    name = _fmt(fmt)
    doc: object = ABSENT
    if name == "auto":
        if mapping:
            name = "card" if data[:8] == b"\x89PNG\r\n\x1a\n" else "table"
        else:
            name, doc = detect(data, filename)
    elif mapping and name != "table":
        raise InteropError("a column mapping applies to tables only (--format table)")
    if name == "card":
        cands = card.read_cards(data, doc)
    elif name == "lobechat":
        cands = lobechat.read_agents(load_json(data) if doc is ABSENT else doc)
    elif name == "nextchat":
        cands = nextchat.read_masks(load_json(data) if doc is ABSENT else doc)
    elif name in ("yaml", "json"):
        if doc is ABSENT:
            doc = load_yaml(data) if name == "yaml" else load_json(data)
        cands = native.read_masters(doc)
    else:
        records = doc if isinstance(doc, list) else None
        if records is None and data.lstrip()[:1] == b"[":
            records = load_json(data)
        cands = table.read_table(data, filename, mapping, records)
    if not cands:
        raise InteropError("the file holds no masters")
    if len(cands) > MAX_RECORDS:
        raise over_limit("records", len(cands), MAX_RECORDS)
    reserved = builtin_ids() if reserved_ids is None else set(reserved_ids)
    result = build_result(cands, name, category=category, reserved_ids=reserved)
    result.warnings[:0] = warnings
    return result


def _as_utf8(data: bytes, filename: str | None) -> tuple[bytes, list[str]]:
    """Text files in any encoding as UTF-8 bytes (without a byte-order mark), and a warning
    naming the encoding when it was not UTF-8; PNG and Parquet files are left as they are."""
    suffix = PurePosixPath((filename or "").lower()).suffix
    if is_png(data) or data[:4] == b"PAR1" or suffix in (".png", ".parquet", ".pq"):
        return data, []
    text, encoding = decode(data)
    if encoding == "utf-8":
        return data, []
    note = f"the file was read as {encoding} text"
    if not encoding.startswith(("UTF-", "utf_")):
        note += " (detected; if characters look wrong, save the file as UTF-8 and import it again)"
    return text.encode("utf-8"), [note]


def import_source(
    source: str | Path,
    *,
    fmt: str = "auto",
    category: str | None = None,
    mapping: str | dict[str, str] | None = None,
    reserved_ids: Iterable[str] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> ImportResult:
    """:func:`import_bytes` on a local file or a URL (see :func:`~masterhall.interop.source.read_source`)."""
    data, filename = read_source(source, max_bytes)
    return import_bytes(data, filename, fmt=fmt, category=category, mapping=mapping,
                        reserved_ids=reserved_ids, max_bytes=max_bytes)


def export_master(master: Master, fmt: str, *, image: bytes | None = None) -> tuple[bytes, str, str]:
    """``(content, content_type, filename)`` of ``master`` in an export format.

    ``fmt``: ``card-json`` / ``card-png`` (character card V2; ``image`` is the PNG to embed it
    in, default a generated one), ``lobechat``, ``nextchat``, ``yaml`` or ``json`` (ours).
    Data kept from an earlier import (``master.extensions``) is written back. Raises
    :class:`InteropError` for an unknown format or an ``image`` that is not a PNG.
    """
    key = (fmt or "").strip().lower()
    if key not in EXPORT_FORMATS:
        raise InteropError(f"unknown export format {fmt!r}; choose one of: {', '.join(EXPORT_FORMATS)}")
    content_type, suffix = EXPORT_FORMATS[key]
    if key == "card-json":
        content = card.card_json(master)
    elif key == "card-png":
        content = card.card_png(master, image)
    elif key == "lobechat":
        content = lobechat.agent_json(master)
    elif key == "nextchat":
        content = nextchat.mask_json(master)
    elif key == "yaml":
        content = native.master_yaml(master)
    else:
        content = native.master_json(master)
    return content, content_type, f"{master.id}{suffix}"


def store_import(result: ImportResult, library, *, publish: bool = False, caller: Caller = LOCAL) -> int:
    """Store an import's masters through the builder's library, all or nothing; returns how many.

    ``library`` is the hall's :class:`~masterhall.builder.MasterLibrary`: its
    :meth:`~masterhall.builder.MasterLibrary.save_many` applies the rules every user master
    follows (built-ins are read-only; published masters join the live catalog at once, replaced
    ones that are now drafts leave it) in one transaction, as drafts or published with
    ``publish``, as ``caller``'s (see :mod:`masterhall.accounts`). Raises :class:`InteropError`
    (nothing stored) when the result has rejected records, holds no master, or a master has a
    built-in id or the id of a master ``caller`` may not change; database errors propagate after
    the transaction is rolled back.
    """
    result.raise_for_rejected()
    if not result.masters:
        raise InteropError("nothing to import")
    try:
        return library.save_many(result.masters, "published" if publish else "draft", caller=caller)
    except ConflictError as exc:
        raise InteropError(f"{exc}; nothing was imported") from exc
