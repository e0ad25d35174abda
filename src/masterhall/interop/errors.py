"""Errors, limits and result types shared by every importer and exporter.

A file that cannot be read at all (bad JSON, a truncated PNG, a field over
:data:`MAX_FIELD_CHARS`, a file over :data:`MAX_FILE_BYTES` …) raises :class:`InteropError`.
A file that reads but holds records that are not valid masters gives an :class:`ImportResult`
whose ``rejected`` list names each bad record, field and reason; callers store nothing unless
``rejected`` is empty (all or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog.models import MAX_INSTRUCTIONS_CHARS, Master

#: Largest file (or download) an import reads, in bytes.
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Longest text value accepted in any field or table cell, in characters (the longest system
#: prompt a master may have, :data:`~masterhall.catalog.models.MAX_INSTRUCTIONS_CHARS`).
MAX_FIELD_CHARS = MAX_INSTRUCTIONS_CHARS
#: Most records (masters, table rows) one import may hold: far more than any collection of
#: prompts we know (awesome-chatgpt-prompts has ~200 rows), few enough to check in seconds.
MAX_RECORDS = 5_000
#: Most columns of a table.
MAX_COLUMNS = 200
#: Most bytes of text and data a file may decode to (Parquet and other compressed tables are
#: checked against it from their metadata before they are decoded, and while they are read).
MAX_DECODED_BYTES = 64 * 1024 * 1024
#: Most values (strings, numbers, list items, mapping entries) in one parsed document.
MAX_NODES = 1_000_000
#: Deepest nesting of lists and mappings accepted in a parsed document.
MAX_DEPTH = 64


class InteropError(ValueError):
    """A file or option could not be imported or exported; the message says what and where.

    ``rejected`` holds the per-record problems when the error is raised because of them
    (see :meth:`ImportResult.raise_for_rejected`), else it is empty.
    """

    def __init__(self, message: str, rejected: list[Rejected] | None = None):
        super().__init__(message)
        self.rejected = list(rejected or [])


class InputTooLargeError(InteropError):
    """A file over one of the import's limits (bytes, decoded bytes, records, columns, values).

    ``limit`` is the limit's value and ``what`` its name (``"rows"``, ``"decoded bytes"`` …); the
    message names both. Nothing has been stored when it is raised.
    """

    def __init__(self, message: str, *, limit: int, what: str):
        super().__init__(message)
        self.limit = limit
        self.what = what


def over_limit(what: str, found: int, limit: int, subject: str = "the file") -> InputTooLargeError:
    """``InputTooLargeError("the file has 9,000 rows; the limit is 5,000 rows")``."""
    return InputTooLargeError(f"{subject} has {found:,} {what}; the limit is {limit:,} {what}", limit=limit, what=what)


@dataclass(frozen=True)
class Rejected:
    """One problem of one record that could not become a master.

    ``index`` is the record's 0-based position in the file (table row, array item, card);
    ``name`` its name when one was found; ``field`` the dotted field of our schema (e.g.
    ``starters.en``) or ``"(record)"`` for the record as a whole; ``message`` what is wrong.
    A record with several problems appears once per problem.
    """

    index: int
    name: str | None
    field: str
    message: str

    def __str__(self) -> str:
        who = f"record {self.index + 1}" + (f" ({self.name!r})" if self.name else "")
        return f"{who}: field '{self.field}': {self.message}"

    def to_dict(self) -> dict:
        """JSON-ready: ``{"index", "name", "field", "message"}``."""
        return {"index": self.index, "name": self.name, "field": self.field, "message": self.message}


@dataclass
class ImportResult:
    """What an import read: valid ``masters`` (in file order) and ``rejected`` problems.

    ``format`` is the format that was read (``card``, ``lobechat``, ``nextchat``, ``yaml``,
    ``json`` or ``table``); ``notes`` are human-readable remarks (ids renamed to stay unique,
    data kept in ``extensions``, …); ``warnings`` are what the user should check before storing
    (unknown fields kept in ``extensions["unknown_fields"]``, sampling settings moved, the
    encoding a text file was read in when it was not UTF-8 …). Neither rejects anything.
    """

    masters: list[Master] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    format: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no record was rejected (the import may be stored)."""
        return not self.rejected

    def raise_for_rejected(self) -> None:
        """Raise :class:`InteropError` listing every rejected record, if there is any."""
        if self.rejected:
            bad = sorted({r.index for r in self.rejected})
            lines = [f"{len(bad)} of {len(bad) + len(self.masters)} records rejected; nothing was imported:"]
            lines += [f"  {r}" for r in self.rejected]
            raise InteropError("\n".join(lines), self.rejected)

    def to_dict(self) -> dict:
        """JSON-ready summary: format, the masters' ids and names, rejections, notes and warnings."""
        return {
            "format": self.format,
            "masters": [{"id": m.id, "name": m.name.model_dump()} for m in self.masters],
            "rejected": [r.to_dict() for r in self.rejected],
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


def check_document(value: object, where: str = "") -> None:
    """Check a parsed JSON/YAML value against the limits, without recursion.

    Raises :class:`InteropError` for a string over :data:`MAX_FIELD_CHARS` (naming its path),
    nesting deeper than :data:`MAX_DEPTH`, or more than :data:`MAX_NODES` values in all.
    """
    stack: list[tuple[object, str, int]] = [(value, where, 0)]
    seen = 0
    while stack:
        node, path, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise InputTooLargeError(f"the document holds more than {MAX_NODES:,} values; the limit is {MAX_NODES:,} values",
                                     limit=MAX_NODES, what="values")
        if depth > MAX_DEPTH:
            raise InteropError(f"the document is nested more than {MAX_DEPTH} levels deep (at {path or 'the top'})")
        if isinstance(node, str):
            if len(node) > MAX_FIELD_CHARS:
                raise InputTooLargeError(
                    f"field '{path or '(top level)'}' is {len(node):,} characters long; the limit is {MAX_FIELD_CHARS:,}",
                    limit=MAX_FIELD_CHARS, what="characters")
        elif isinstance(node, dict):
            for key, item in node.items():
                if isinstance(key, str) and len(key) > MAX_FIELD_CHARS:
                    raise InteropError(f"a key under '{path or '(top level)'}' is too long")
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                stack.append((item, f"{path}[{i}]", depth + 1))
