"""From parsed records to validated masters: ids, categories, per-record rejections."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from ..catalog.models import Master
from .errors import ImportResult, Rejected
from .fill import DEFAULT_CATEGORY, IdAllocator, master_id_for


@dataclass
class Candidate:
    """One record of a file on its way to becoming a master.

    ``fields`` are our schema's fields (possibly invalid); ``problems`` are ``(field, message)``
    pairs that already reject the record (e.g. "not an object"); ``finish`` runs on the
    validated master (e.g. to keep the source data in ``extensions``); ``warnings`` are remarks
    the user should see (unknown fields kept, settings moved) that do not reject the record.
    """

    index: int
    name: str | None
    fields: dict = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    finish: Callable[[Master], Master] | None = None
    warnings: list[str] = field(default_factory=list)


def _name_of(fields: dict) -> str:
    name = fields.get("name")
    if isinstance(name, dict):
        name = name.get("en") or name.get("zh")
    return name if isinstance(name, str) else ""


def build_result(
    candidates: Iterable[Candidate],
    fmt: str,
    *,
    category: str | None = None,
    reserved_ids: Iterable[str] = (),
    notes: list[str] | None = None,
) -> ImportResult:
    """Validate every candidate into a :class:`Master` and collect the rejected ones.

    ``category``, when given, replaces every record's category; records without one get
    :data:`~masterhall.interop.fill.DEFAULT_CATEGORY`. Ids are slugs of the record's id or name,
    made unique within the import and distinct from ``reserved_ids`` (built-in masters) by a
    ``-2``, ``-3`` … suffix; each rename is noted. Each candidate's warnings reach
    ``result.warnings`` prefixed with the record (``record 2 ('Merlin'): …``).
    """
    result = ImportResult(format=fmt, notes=list(notes or []))
    ids = IdAllocator(reserved_ids)
    for cand in candidates:
        if cand.problems:
            result.rejected += [Rejected(cand.index, cand.name, f, m) for f, m in cand.problems]
            continue
        who = f"record {cand.index + 1}" + (f" ({cand.name!r})" if cand.name else "")
        result.warnings += [f"{who}: {w}" for w in cand.warnings]
        fields = dict(cand.fields)
        if category:
            fields["category"] = category
        elif not fields.get("category"):
            fields["category"] = DEFAULT_CATEGORY
        hint = fields.get("id") if isinstance(fields.get("id"), str) else ""
        wanted = master_id_for(hint, _name_of(fields))
        fields["id"] = ids.allocate(wanted)
        if hint and fields["id"] != hint:
            why = "a built-in master has it" if wanted in ids.reserved else "it is taken or not a valid id"
            result.notes.append(f"record {cand.index + 1}: id '{hint}' became '{fields['id']}' ({why})")
        try:
            master = Master.model_validate(fields)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(record)"
                result.rejected.append(Rejected(cand.index, cand.name or _name_of(fields) or None, where, err["msg"]))
            continue
        if cand.finish is not None:
            master = cand.finish(master)
        result.masters.append(master)
    return result
