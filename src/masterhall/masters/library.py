"""The master library: built-in masters (read-only) plus user masters stored in the database.

Published user masters are added to the live :class:`~masterhall.catalog.Catalog`, so they appear
in the hall, the APIs, ``/v1/models`` and the Finder at once (the Finder subscribes to catalog
changes); drafts stay in the builder.
"""

from __future__ import annotations

import re

from ..catalog.loader import Catalog, UnknownMasterError
from ..catalog.models import Master
from ..store.masters_repo import MasterStatus, UserMaster, UserMasterRepo
from ..store.repos import NotFoundError


class BuiltinReadOnlyError(ValueError):
    """Built-in masters cannot be edited or deleted (fork them instead)."""


class MasterLibrary:
    """Create, edit, fork, publish and delete user masters, keeping the catalog in step."""

    def __init__(self, catalog: Catalog, repo: UserMasterRepo):
        self.catalog = catalog
        self.repo = repo

    def load_published(self) -> int:
        """Add every published user master to the catalog (at start-up); returns how many."""
        count = 0
        for um in self.repo.list("published"):
            if um.id not in self.catalog.builtin_ids:
                self.catalog.add(um.master)
                count += 1
        return count

    def get(self, master_id: str) -> UserMaster | None:
        """A stored user master (draft or published), or ``None``."""
        return self.repo.get(master_id)

    def list(self, status: MasterStatus | None = None) -> list[UserMaster]:
        """Stored user masters, newest first."""
        return self.repo.list(status)

    def save(self, master: Master, status: MasterStatus | None = None, forked_from: str | None = None) -> UserMaster:
        """Create or update a user master; a published one is updated in the catalog at once.

        Raises :class:`BuiltinReadOnlyError` for a built-in id.
        """
        if master.id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master.id}' is a built-in master; fork it to make your own version")
        stored = self.repo.save(master, status, forked_from)
        self._sync(stored)
        return stored

    def fork(self, source_id: str, new_id: str | None = None) -> UserMaster:
        """Copy a built-in or user master into a new draft (id ``<source>-copy``, ``-copy-2`` … by default).

        Raises :class:`~masterhall.catalog.UnknownMasterError` for an unknown source.
        """
        source = self.catalog.masters.get(source_id) or (um.master if (um := self.repo.get(source_id)) else None)
        if source is None:
            raise UnknownMasterError(source_id, self.catalog.suggest(source_id))
        new_id = new_id or self._free_id(f"{source_id}-copy")
        copy = source.model_copy(update={"id": new_id, "version": 1})
        return self.save(Master.model_validate(copy.model_dump()), "draft", forked_from=source_id)

    def publish(self, master_id: str) -> UserMaster:
        """Publish: the master joins the hall at once. Raises ``NotFoundError``."""
        stored = self._writable(master_id)
        stored = self.repo.set_status(stored.id, "published")
        self._sync(stored)
        return stored

    def unpublish(self, master_id: str) -> UserMaster:
        """Back to draft: the master leaves the hall at once."""
        stored = self.repo.set_status(self._writable(master_id).id, "draft")
        self._sync(stored)
        return stored

    def delete(self, master_id: str) -> bool:
        """Delete a user master (and its files); built-ins raise :class:`BuiltinReadOnlyError`."""
        if master_id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master_id}' is a built-in master and cannot be deleted")
        if master_id in self.catalog.masters:
            self.catalog.remove(master_id)
        return self.repo.delete(master_id)

    def _writable(self, master_id: str) -> UserMaster:
        if master_id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master_id}' is a built-in master; fork it to make your own version")
        stored = self.repo.get(master_id)
        if stored is None:
            raise NotFoundError(f"user master {master_id} not found")
        return stored

    def _sync(self, stored: UserMaster) -> None:
        if stored.status == "published":
            self.catalog.add(stored.master)
        elif stored.id in self.catalog.masters:
            self.catalog.remove(stored.id)

    def _free_id(self, base: str) -> str:
        base = re.sub(r"[^a-z0-9-]", "-", base.lower())[:56].strip("-")
        candidate, n = base, 2
        while candidate in self.catalog.masters or self.repo.get(candidate) is not None:
            candidate, n = f"{base}-{n}", n + 1
        return candidate


def load_hall_catalog(database_url: str | None = None) -> Catalog:
    """The built-in catalog plus the published user masters of the hall's database.

    For command-line tools (the server keeps its own live catalog). If the database cannot be
    opened, the built-in catalog is returned alone.
    """
    from ..catalog.loader import load_catalog
    from ..store.repos import Store

    catalog = load_catalog()
    try:
        store = Store(database_url)
    except Exception:  # noqa: BLE001 - the built-ins still work without a database
        return catalog
    try:
        MasterLibrary(catalog, store.masters).load_published()
    finally:
        store.close()
    return catalog
