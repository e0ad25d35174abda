"""Loss-free round trips through formats that hold less than a master (or other things).

A foreign document (a character card, a LobeChat agent, a NextChat mask) maps onto our fields
in *groups*: the card's ``system_prompt``, ``description``, ``personality``, ``scenario`` and
``post_history_instructions`` together become our ``instructions``, and so on. Exporting the
resulting master gives back a document of that format, but not necessarily the same one.

To lose nothing, the import keeps, in ``master.extensions[<format>]``:

* ``source``: the foreign values of each group whose plain export would differ from the file
  (paths like ``"data.first_mes"`` → value), and ``absent``: that group's paths the file lacked;
* ``unmapped``: everything of the document that no group maps (e.g. a card's ``extensions``,
  ``character_book``, ``creator``), minus what the plain export writes identically, and
  ``omit``: the paths the plain export adds that the document did not have.

The export writes the plain mapping of the master, merges ``unmapped`` back, and puts a
group's ``source`` values back only while the master's fields of that group still equal what
the import made of them — an edited field is exported from the master, never from the stale
source. Paths are dotted keys of nested mappings (no list indices).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..catalog.models import Master

#: Marker of a path that is not in a document.
ABSENT: Any = object()


def get_path(doc: Any, path: str) -> Any:
    """The value at dotted ``path`` in nested mappings, or :data:`ABSENT`."""
    node = doc
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return ABSENT
        node = node[key]
    return node


def set_path(doc: dict, path: str, value: Any) -> None:
    """Set dotted ``path`` to ``value`` (creating mappings on the way); :data:`ABSENT` deletes it."""
    keys = path.split(".")
    node = doc
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            if value is ABSENT:
                return
            node[key] = {}
        node = node[key]
    if value is ABSENT:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value


def deep_merge(base: dict, extra: dict) -> dict:
    """A copy of ``base`` with ``extra`` merged in: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _prune(doc: dict, plain: Any) -> dict:
    """The parts of ``doc`` that differ from ``plain`` (mappings compared key by key)."""
    out: dict = {}
    for key, value in doc.items():
        theirs = plain.get(key, ABSENT) if isinstance(plain, dict) else ABSENT
        if isinstance(value, dict) and isinstance(theirs, dict):
            sub = _prune(value, theirs)
            if sub:
                out[key] = sub
        elif theirs is ABSENT or theirs != value or type(theirs) is not type(value):
            out[key] = copy.deepcopy(value)
    return out


def _added(plain: dict, doc: Any, mapped: tuple[str, ...], prefix: str = "") -> list[str]:
    """Paths the plain export writes that ``doc`` lacks, outside the mapped paths."""
    out: list[str] = []
    for key, value in plain.items():
        path = f"{prefix}{key}"
        if path in mapped:
            continue
        inner = any(m.startswith(path + ".") for m in mapped)
        theirs = doc.get(key, ABSENT) if isinstance(doc, dict) else ABSENT
        if theirs is ABSENT and not inner:
            out.append(path)
        elif isinstance(value, dict) and (inner or isinstance(theirs, dict)):
            out += _added(value, theirs, mapped, path + ".")
    return out


@dataclass(frozen=True)
class Group:
    """Foreign ``paths`` that together map onto our ``fields`` (names of :class:`Master` fields)."""

    paths: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Codec:
    """How one foreign format maps onto masters.

    ``key``: the key in ``Master.extensions``; ``groups``: the mapping; ``fixed``: paths the
    export always writes itself (never kept as unmapped); ``to_fields(doc)`` gives our fields for
    every group (complete values, deterministic); ``from_master(master)`` the plain export.
    """

    key: str
    groups: tuple[Group, ...]
    fixed: tuple[str, ...]
    to_fields: Callable[[dict], dict]
    from_master: Callable[[Master], dict]
    mapped: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mapped", tuple(p for g in self.groups for p in g.paths) + self.fixed)


def without_entry(master: Master, key: str) -> Master:
    """``master`` without ``extensions[key]`` (a copy; the master itself is unchanged)."""
    if key not in master.extensions:
        return master
    ext = {k: v for k, v in master.extensions.items() if k != key}
    return master.model_copy(update={"extensions": ext})


def remember(codec: Codec, doc: dict, master: Master) -> Master:
    """``master`` with ``extensions[codec.key]`` holding what its plain export would lose of ``doc``.

    The entry is left out when nothing would be lost.
    """
    base = without_entry(master, codec.key)
    plain = codec.from_master(base)
    entry: dict = {}
    source: dict = {}
    absent: list[str] = []
    for group in codec.groups:
        if any(get_path(doc, p) != get_path(plain, p) for p in group.paths):
            for p in group.paths:
                value = get_path(doc, p)
                if value is ABSENT:
                    absent.append(p)
                else:
                    source[p] = copy.deepcopy(value)
    rest = copy.deepcopy(doc)
    for p in codec.mapped:
        set_path(rest, p, ABSENT)
    unmapped = _prune(rest, plain)
    omit = _added(plain, doc, codec.mapped)
    if omit:
        entry["omit"] = omit
    if source:
        entry["source"] = source
    if absent:
        entry["absent"] = absent
    if unmapped:
        entry["unmapped"] = unmapped
    if not entry:
        return base
    return base.model_copy(update={"extensions": {**base.extensions, codec.key: entry}})


def _matches(master: Master, fields: dict, names: tuple[str, ...]) -> bool:
    if any(fields.get(n) is None for n in names):
        return False
    candidate = master.model_dump()
    candidate.update({n: fields[n] for n in names})
    try:
        other = Master.model_validate(candidate)
    except ValidationError:
        return False
    return all(getattr(other, n) == getattr(master, n) for n in names)


def restore(codec: Codec, master: Master) -> dict:
    """The document of ``codec``'s format for ``master``: plain export + kept data (see module doc)."""
    entry = master.extensions.get(codec.key)
    plain = codec.from_master(without_entry(master, codec.key))
    if not isinstance(entry, dict):
        return plain
    unmapped = entry.get("unmapped")
    doc = copy.deepcopy(plain)
    if isinstance(unmapped, dict):
        doc = deep_merge(plain, unmapped)
        for p in codec.fixed:  # what the export writes itself wins over kept data
            value = get_path(plain, p)
            set_path(doc, p, value if value is ABSENT else copy.deepcopy(value))
    for p in entry.get("omit") or []:
        if isinstance(p, str) and p not in codec.fixed:
            set_path(doc, p, ABSENT)
    source = entry.get("source") if isinstance(entry.get("source"), dict) else {}
    absent = [p for p in entry.get("absent") or [] if isinstance(p, str)]
    if not source and not absent:
        return doc
    trial = copy.deepcopy(doc)
    for p, value in source.items():
        set_path(trial, p, copy.deepcopy(value))
    for p in absent:
        set_path(trial, p, ABSENT)
    try:
        fields = codec.to_fields(trial)
    except Exception:  # noqa: BLE001 - stale or hand-edited kept data: export the master as it is
        return doc
    for group in codec.groups:
        if not any(p in source or p in absent for p in group.paths):
            continue
        if _matches(master, fields, group.fields):
            for p in group.paths:
                set_path(doc, p, copy.deepcopy(source[p]) if p in source else ABSENT)
    return doc
