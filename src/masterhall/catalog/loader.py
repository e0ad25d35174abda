"""Read and validate master data files (YAML) into :class:`~masterhall.catalog.models.Master`.

Errors name the file, the field and what is wrong, e.g.::

    catalog error in data/tech/alan-turing.yaml: field 'starters.en': List should have at least 3 items
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import yaml
from pydantic import ValidationError

from ..errors import NotFoundError
from .models import CATEGORIES, CATEGORY_IDS, Category, Master

#: libyaml's safe loader when PyYAML was built with it (10x faster: 0.04 s instead of 0.4 s for the
#: built-in catalog, at every start), else the pure-Python one; both read the same YAML subset.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ValueError):
    """A master file could not be read or validated; the message names file and field."""


def load_master_file(path: Path) -> Master:
    """Load one master from a YAML file.

    Raises :class:`CatalogError` naming the file and each failing field.
    """
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"catalog error in {path}: cannot read YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"catalog error in {path}: expected a mapping of fields at the top level")
    try:
        master = Master.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(_describe(path, exc)) from exc
    if master.id != path.stem:
        raise CatalogError(f"catalog error in {path}: field 'id': {master.id!r} does not match the file name")
    return master


def _describe(path: Path, exc: ValidationError) -> str:
    lines = [f"catalog error in {path}:"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  field '{where}': {err['msg']}")
    return "\n".join(lines)


@dataclass
class Catalog:
    """The masters of a hall, by id, in catalog order (category order, then file name).

    Copy-on-write, so request threads may publish or remove masters while turn threads read:
    ``masters`` is a read-only mapping that is never changed in place; :meth:`add` and
    :meth:`remove` build a new mapping under a short lock and swap it in with one assignment
    (atomic in CPython). A reader that takes ``catalog.masters`` (or :meth:`snapshot`) once and
    iterates it sees one consistent catalog, however long it iterates.
    """

    masters: Mapping[str, Master] = field(default_factory=lambda: MappingProxyType({}))
    categories: tuple[Category, ...] = CATEGORIES
    builtin_ids: set[str] = field(default_factory=set)
    _listeners: list = field(default_factory=list, repr=False)
    _write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.masters, MappingProxyType):
            self.masters = MappingProxyType(dict(self.masters))

    def snapshot(self) -> Mapping[str, Master]:
        """The current masters, by id: an immutable view that later changes never touch."""
        return self.masters

    def subscribe(self, listener) -> None:
        """Call ``listener(master_id, master_or_None)`` after every :meth:`add` / :meth:`remove`."""
        self._listeners.append(listener)

    def add(self, master: Master) -> None:
        """Add or replace a (user) master, visible at once to everything that reads the catalog.

        Raises ``ValueError`` when ``master.id`` is a built-in master's (built-ins are read-only).
        """
        if master.id in self.builtin_ids:
            raise ValueError(f"'{master.id}' is a built-in master and cannot be replaced; fork it under a new id")
        with self._write_lock:
            self.masters = MappingProxyType({**self.masters, master.id: master})
        for listener in self._listeners:
            listener(master.id, master)

    def remove(self, master_id: str) -> bool:
        """Remove a user master; False if absent. Raises ``ValueError`` for a built-in id."""
        if master_id in self.builtin_ids:
            raise ValueError(f"'{master_id}' is a built-in master and cannot be removed")
        with self._write_lock:
            if master_id not in self.masters:
                return False
            self.masters = MappingProxyType({k: v for k, v in self.masters.items() if k != master_id})
        for listener in self._listeners:
            listener(master_id, None)
        return True

    def get(self, master_id: str) -> Master:
        """Return the master ``master_id``; raises :class:`UnknownMasterError` with suggestions."""
        try:
            return self.masters[master_id]
        except KeyError:
            raise UnknownMasterError(master_id, self.suggest(master_id)) from None

    def suggest(self, master_id: str, n: int = 3) -> list[str]:
        """Closest ids to a mistyped ``master_id`` (difflib ratio, best first)."""
        import difflib

        masters = self.masters
        ids = list(masters)
        names = {m.name.en.lower(): m.id for m in masters.values()}
        names.update({m.name.zh: m.id for m in masters.values()})
        found = difflib.get_close_matches(master_id.lower(), ids, n=n, cutoff=0.5)
        for hit in difflib.get_close_matches(master_id.lower(), list(names), n=n, cutoff=0.6):
            if names[hit] not in found:
                found.append(names[hit])
        found += [i for i in ids if master_id.lower() in i and i not in found]
        return found[:n]

    def advisors(self, category: str | None = None) -> list[Master]:
        """The advisors (every master but the guide), optionally of one category."""
        return [
            m
            for m in self.snapshot().values()
            if not m.is_guide and (category is None or m.category == category)
        ]

    def __len__(self) -> int:
        return len(self.masters)

    def __iter__(self):
        return iter(self.masters.values())

    def __contains__(self, master_id: object) -> bool:
        return master_id in self.masters


class UnknownMasterError(NotFoundError):
    """No master has this id; ``suggestions`` holds the closest ids (a ``KeyError``)."""

    code = "unknown_master"

    def __init__(self, master_id: str, suggestions: list[str]):
        self.master_id = master_id
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"Unknown master '{master_id}'.{hint}")


def builtin_data_dir() -> Path:
    """Folder of the built-in master files shipped as package data."""
    return Path(str(resources.files("masterhall.catalog") / "data"))


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """Load every ``<category>/<id>.yaml`` under ``data_dir`` (default: the built-in catalog).

    Masters come in category order (see ``CATEGORY_IDS``, guide last), then by file name.
    Raises :class:`CatalogError` on the first invalid file, or on a duplicate id or a file
    whose category folder disagrees with its ``category`` field.
    """
    root = data_dir or builtin_data_dir()
    order = {c: i for i, c in enumerate(CATEGORY_IDS)}
    files = sorted(root.glob("*/*.yaml"), key=lambda p: (order.get(p.parent.name, 99), p.name))
    masters: dict[str, Master] = {}
    for path in files:
        master = load_master_file(path)
        if master.category != path.parent.name:
            raise CatalogError(
                f"catalog error in {path}: field 'category': {master.category!r} "
                f"but the file is in folder {path.parent.name!r}"
            )
        if master.id in masters:
            raise CatalogError(f"catalog error in {path}: field 'id': duplicate id {master.id!r}")
        masters[master.id] = master
    return Catalog(masters=masters, builtin_ids=set(masters))
