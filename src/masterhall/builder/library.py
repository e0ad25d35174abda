"""The master library: built-in masters (read-only) plus user masters stored in the database.

Published user masters are added to the live :class:`~masterhall.catalog.Catalog`, so they appear
in the hall, the APIs, ``/v1/models`` and the Finder at once (the Finder subscribes to catalog
changes); drafts stay in the builder. Every write of user masters goes through here — the
builder's form, forks, imports (``masterhall import`` and the web's) — so the rules hold
everywhere: built-ins are read-only, masters are valid, the live catalog follows.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from pydantic import ValidationError

from ..catalog.loader import Catalog, UnknownMasterError
from ..catalog.models import Master
from ..errors import BuiltinReadOnlyError, InvalidRequestError, NotFoundError, TooLargeError
from ..interop import ImportResult, InputTooLargeError, InteropError, export_master, import_bytes, store_import
from ..store.masters import MasterFile, MasterStatus, UserMaster, UserMasterRepo

#: Largest attached file, in bytes.
MAX_FILE_BYTES = 10 * 1024 * 1024


class InvalidMasterError(InvalidRequestError):
    """A master that does not validate; ``details["fields"]`` lists ``{field, message, type, ctx}``."""

    code = "invalid_master"


class ImportRejectedError(InvalidRequestError):
    """An import whose records were (partly) rejected: nothing was stored. ``details`` is the
    import report (``format``, ``masters``, ``rejected``, ``notes``, ``warnings``)."""

    code = "rejected_records"


def field_errors(exc: ValidationError) -> list[dict]:
    """``[{"field": "a.b.0", "message": …, "type": …, "ctx": {…}}]`` from a pydantic error.

    ``type`` (pydantic's error type, e.g. ``string_too_short``) and ``ctx`` (its plain limits, e.g.
    ``{"min_length": 40}``) let a client say the same thing in another language.
    """
    out = []
    for e in exc.errors():
        ctx = {k: v for k, v in (e.get("ctx") or {}).items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
        out.append({"field": ".".join(str(p) for p in e["loc"]) or "(master)", "message": e["msg"], "type": e["type"], "ctx": ctx})
    return out


def validate_master(data: Any) -> Master:
    """``data`` (the catalog schema as JSON) as a :class:`Master`; raises :class:`InvalidMasterError`."""
    try:
        return Master.model_validate(data)
    except ValidationError as exc:
        fields = field_errors(exc)
        raise InvalidMasterError(f"{len(fields)} field(s) need attention", fields=fields) from exc


def safe_filename(name: str | None) -> str:
    """The last path component, without control characters or quotes, at most 200 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>').strip(". ")
    return base[:200] or "file"


class MasterLibrary:
    """Create, edit, fork, publish, import and delete user masters, keeping the catalog in step;
    attach files to them; export any master."""

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

    def require(self, master_id: str) -> UserMaster:
        """A stored user master; raises :class:`~masterhall.errors.NotFoundError`."""
        stored = self.repo.get(master_id)
        if stored is None:
            raise NotFoundError(f"user master {master_id} not found")
        return stored

    def list(self, status: MasterStatus | None = None) -> list[UserMaster]:
        """Stored user masters, newest first."""
        return self.repo.list(status)

    def find(self, master_id: str) -> Master:
        """A master by id: a built-in or published one from the catalog, else a stored draft.

        Raises :class:`~masterhall.catalog.UnknownMasterError` with suggestions.
        """
        master = self.catalog.masters.get(master_id) or (um.master if (um := self.repo.get(master_id)) else None)
        if master is None:
            raise UnknownMasterError(master_id, self.catalog.suggest(master_id))
        return master

    def save(self, master: Master, status: MasterStatus | None = None, forked_from: str | None = None) -> UserMaster:
        """Create or update a user master; a published one is updated in the catalog at once.

        Raises :class:`~masterhall.errors.BuiltinReadOnlyError` (field ``id``) for a built-in id.
        """
        if master.id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master.id}' is a built-in master; fork it to make your own version", field="id")
        stored = self.repo.save(master, status, forked_from)
        self._sync(stored)
        return stored

    def save_many(self, masters: Sequence[Master], status: MasterStatus = "draft") -> int:
        """Store several masters in one transaction (all or nothing), each replacing any user
        master of its id; published ones join the catalog, replaced ones now drafts leave it.

        Raises :class:`~masterhall.errors.BuiltinReadOnlyError` (nothing stored) when an id is a
        built-in's; database errors propagate after the transaction is rolled back.
        """
        clash = [m.id for m in masters if m.id in self.catalog.builtin_ids]
        if clash:
            raise BuiltinReadOnlyError(f"built-in masters cannot be replaced: {', '.join(clash)}")
        count = self.repo.save_many(list(masters), status)
        for master in masters:
            if status == "published":
                self.catalog.add(master)
            elif master.id in self.catalog.masters:
                self.catalog.remove(master.id)
        return count

    def fork(self, source_id: str, new_id: str | None = None) -> UserMaster:
        """Copy a built-in or user master into a new draft (id ``<source>-copy``, ``-copy-2`` … by default).

        Raises :class:`~masterhall.catalog.UnknownMasterError` for an unknown source and
        :class:`~masterhall.errors.InvalidRequestError` for an unusable ``new_id``.
        """
        source = self.find(source_id)
        new_id = new_id or self._free_id(f"{source_id}-copy")
        try:
            copy = Master.model_validate(source.model_copy(update={"id": new_id, "version": 1}).model_dump())
            return self.save(copy, "draft", forked_from=source_id)
        except (ValidationError, BuiltinReadOnlyError) as exc:
            raise InvalidRequestError(str(exc)) from exc

    def publish(self, master_id: str) -> UserMaster:
        """Publish: the master joins the hall at once. Raises ``NotFoundError``, ``BuiltinReadOnlyError``."""
        stored = self.repo.set_status(self._writable(master_id).id, "published")
        self._sync(stored)
        return stored

    def unpublish(self, master_id: str) -> UserMaster:
        """Back to draft: the master leaves the hall at once."""
        stored = self.repo.set_status(self._writable(master_id).id, "draft")
        self._sync(stored)
        return stored

    def delete(self, master_id: str) -> bool:
        """Delete a user master (and its files); False if there was none. Built-ins raise ``BuiltinReadOnlyError``."""
        if master_id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master_id}' is a built-in master and cannot be deleted")
        if master_id in self.catalog.masters:
            self.catalog.remove(master_id)
        return self.repo.delete(master_id)

    # -- import and export ---------------------------------------------------------------------
    def import_file(self, data: bytes, filename: str | None = None, *, fmt: str = "auto", category: str | None = None,
                    publish: bool = False, dry_run: bool = False) -> dict:
        """Import masters from the bytes of a file (see :func:`masterhall.interop.import_bytes`),
        all or nothing; ids never take a built-in's.

        Returns the report: ``format``, ``masters`` (ids), ``rejected``, ``notes``, ``warnings``
        (unknown fields kept, settings moved, the encoding read …) and ``stored``.
        Raises :class:`~masterhall.errors.InvalidRequestError` (code ``invalid_file``) for a file
        that cannot be read, :class:`~masterhall.errors.TooLargeError` (``limit``, ``what``) for
        one over an import limit, and :class:`ImportRejectedError` when records were rejected.
        """
        try:
            result = import_bytes(data, filename, fmt=fmt, category=category, reserved_ids=set(self.catalog.builtin_ids))
        except InputTooLargeError as exc:
            raise TooLargeError(str(exc), limit=exc.limit, what=exc.what) from exc
        except InteropError as exc:
            raise InvalidRequestError(str(exc), code="invalid_file") from exc
        report = {"format": result.format, "masters": [m.id for m in result.masters],
                  "rejected": [str(r) for r in result.rejected], "notes": list(result.notes),
                  "warnings": list(result.warnings)}
        if result.rejected:
            raise ImportRejectedError(f"{len(result.rejected)} record(s) rejected; nothing was imported", **report)
        if dry_run:
            return {**report, "stored": 0}
        try:
            stored = self.import_result(result, publish=publish)
        except InteropError as exc:
            raise InvalidRequestError(str(exc), code="invalid_file") from exc
        return {**report, "stored": stored}

    def import_result(self, result: ImportResult, *, publish: bool = False) -> int:
        """Store an import's masters (see :func:`masterhall.interop.store_import`); returns how many."""
        return store_import(result, self, publish=publish)

    def export(self, master_id: str, fmt: str = "json", *, image: bytes | None = None) -> tuple[bytes, str, str]:
        """``(content, content_type, filename)`` of a built-in or user master in an export format.

        Raises ``UnknownMasterError`` and :class:`~masterhall.errors.InvalidRequestError` (code
        ``invalid_format``) for an unknown format or an image that is not a PNG.
        """
        master = self.find(master_id)
        try:
            return export_master(master, fmt, image=image)
        except InteropError as exc:
            raise InvalidRequestError(str(exc), code="invalid_format") from exc

    # -- attached files ------------------------------------------------------------------------
    def add_file(self, master_id: str, filename: str | None, content: bytes,
                 content_type: str | None = None, downloadable: bool = False) -> MasterFile:
        """Attach a file (its name made safe) to a user master. Raises ``TooLargeError``, ``NotFoundError``."""
        if len(content) > MAX_FILE_BYTES:
            raise TooLargeError(f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
        return self.repo.add_file(master_id, safe_filename(filename), content,
                                  content_type or "application/octet-stream", downloadable)

    def files(self, master_id: str) -> list[MasterFile]:
        """Metadata of a user master's files, oldest first."""
        return self.repo.files(master_id)

    def set_downloadable(self, file_id: int, downloadable: bool) -> MasterFile:
        """Let chat users download a file, or not. Raises ``NotFoundError``."""
        return self.repo.set_downloadable(file_id, downloadable)

    def file(self, file_id: int) -> MasterFile:
        """A file with its content, for its creator. Raises ``NotFoundError``."""
        found = self.repo.file(file_id, with_content=True)
        if found is None:
            raise NotFoundError(f"file {file_id} not found")
        return found

    def public_file(self, master_id: str, file_id: int) -> MasterFile:
        """A file of ``master_id`` that its creator made downloadable. Raises ``NotFoundError`` otherwise."""
        found = self.repo.file(file_id, with_content=True)
        if found is None or found.master_id != master_id or not found.downloadable:
            raise NotFoundError("no downloadable file here")
        return found

    # -- internals -----------------------------------------------------------------------------
    def _writable(self, master_id: str) -> UserMaster:
        if master_id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master_id}' is a built-in master; fork it to make your own version")
        return self.require(master_id)

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
