"""The master library: built-in masters (read-only) plus user masters stored in the database.

Published user masters are added to the live :class:`~masterhall.catalog.Catalog`, so they appear
in the hall, the APIs, ``/v1/models`` and the Finder at once (the Finder subscribes to catalog
changes); drafts stay in the builder. Every write of user masters goes through here — the
builder's form, forks, imports (``masterhall import`` and the web's) — so the rules hold
everywhere: built-ins are read-only, masters are valid, the live catalog follows.

Ownership (:mod:`masterhall.accounts.access`): every method takes the ``caller`` it acts for
(default :data:`~masterhall.accounts.LOCAL`). A user master, its files and its drafts are its
creator's and the admins' (others get ``NotFoundError`` for drafts and files, ``ForbiddenError``
for changing a published master they can see); a published master is everyone's to chat with,
and its instructions are shown to others only when its creator makes them visible — forking or
exporting it is then refused to others (``ForbiddenError``), since both would reveal them.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from pydantic import ValidationError

from ..accounts import LOCAL, Caller
from ..accounts.access import manages, sees_instructions
from ..catalog.loader import Catalog, UnknownMasterError
from ..catalog.models import Master
from ..errors import BuiltinReadOnlyError, ConflictError, ForbiddenError, InvalidRequestError, NotFoundError, TooLargeError
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
        #: Called with the masters an import stored and the caller (the knowledge service takes
        #: their lorebooks); ``before_export(master) -> master`` adds what is stored beside a
        #: master (its lorebook entries) before it is exported.
        self.after_import: list[Callable[[Sequence[Master], Caller], None]] = []
        self.before_export: list[Callable[[Master], Master]] = []
        #: Told the ids of the user masters each write changed (the hall publishes them to the
        #: other hall processes, which :meth:`refresh` them).
        self.on_change: Callable[[list[str]], None] = lambda ids: None

    def refresh(self, master_id: str) -> None:
        """Bring the catalog in step with the stored user master ``master_id`` (changed by another
        hall process): published joins or is updated, anything else leaves."""
        if master_id in self.catalog.builtin_ids:
            return
        stored = self.repo.get(master_id)
        if stored is not None and stored.status == "published":
            self.catalog.add(stored.master)
        elif master_id in self.catalog.masters:
            self.catalog.remove(master_id)

    def load_published(self) -> int:
        """Add every published user master to the catalog (at start-up); returns how many."""
        count = 0
        for um in self.repo.list("published"):
            if um.id not in self.catalog.builtin_ids:
                self.catalog.add(um.master)
                count += 1
        return count

    def get(self, master_id: str) -> UserMaster | None:
        """A stored user master (draft or published), or ``None``, whoever owns it (for the
        hall's own use: what a caller may see goes through :meth:`mine` and :meth:`require`)."""
        return self.repo.get(master_id)

    def mine(self, master_id: str, caller: Caller = LOCAL) -> UserMaster | None:
        """A stored user master that ``caller`` manages (its creator, or an admin), else ``None``."""
        stored = self.repo.get(master_id)
        return stored if stored is not None and manages(caller, stored.owner_id) else None

    def require(self, master_id: str, caller: Caller = LOCAL) -> UserMaster:
        """A stored user master that ``caller`` manages; raises :class:`~masterhall.errors.NotFoundError`
        (also for another person's)."""
        stored = self.mine(master_id, caller)
        if stored is None:
            raise NotFoundError(f"user master {master_id} not found")
        return stored

    def list(self, status: MasterStatus | None = None, *, caller: Caller = LOCAL) -> list[UserMaster]:
        """The user masters ``caller`` manages (an admin: everyone's), newest first."""
        return self.repo.list(status) if caller.is_admin else self.repo.list(status, owner_id=caller.user_id)

    def find(self, master_id: str, caller: Caller = LOCAL) -> Master:
        """A master by id: a built-in or published one from the catalog, else a stored draft that
        ``caller`` manages.

        Raises :class:`~masterhall.catalog.UnknownMasterError` with suggestions.
        """
        master = self.catalog.masters.get(master_id) or (um.master if (um := self.mine(master_id, caller)) else None)
        if master is None:
            raise UnknownMasterError(master_id, self.catalog.suggest(master_id))
        return master

    def view(self, master_id: str, caller: Caller = LOCAL) -> dict:
        """A built-in or published master as JSON (the catalog schema) as ``caller`` may see it:
        without ``instructions`` when it is a user master whose creator hides them from others.
        Raises :class:`~masterhall.catalog.UnknownMasterError`."""
        data = self.catalog.get(master_id).model_dump()
        if not self.shows_instructions(data["id"], caller):
            data.pop("instructions", None)
        return data

    def shows_instructions(self, master_id: str, caller: Caller = LOCAL) -> bool:
        """Whether ``caller`` may read the instructions of master ``master_id``: a built-in's
        always, a user master's when ``caller`` manages it or its creator made them visible."""
        if master_id in self.catalog.builtin_ids:
            return True
        stored = self.repo.get(master_id)
        return stored is None or sees_instructions(caller, stored.owner_id, stored.instructions_visible)

    def save(self, master: Master, status: MasterStatus | None = None, forked_from: str | None = None, *,
             caller: Caller = LOCAL, instructions_visible: bool | None = None) -> UserMaster:
        """Create (owned by ``caller``) or update a user master; a published one is updated in the
        catalog at once. ``instructions_visible``: show its instructions to others, or not (kept
        when ``None``; new masters hide them).

        Raises :class:`~masterhall.errors.BuiltinReadOnlyError` (field ``id``) for a built-in id and
        :class:`~masterhall.errors.ConflictError` (``id_taken``, field ``id``) for the id of a
        master ``caller`` does not manage.
        """
        if master.id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master.id}' is a built-in master; fork it to make your own version", field="id")
        self._not_taken([master.id], caller)
        stored = self.repo.save(master, status, forked_from, owner_id=caller.user_id,
                                instructions_visible=instructions_visible)
        self._sync(stored)
        return stored

    def save_many(self, masters: Sequence[Master], status: MasterStatus = "draft", *, caller: Caller = LOCAL) -> int:
        """Store several masters in one transaction (all or nothing), each replacing any user
        master of its id; new ones are ``caller``'s, replaced ones keep their creator; published
        ones join the catalog, replaced ones now drafts leave it.

        Raises :class:`~masterhall.errors.BuiltinReadOnlyError` (nothing stored) when an id is a
        built-in's and :class:`~masterhall.errors.ConflictError` (``id_taken``) when it is a
        master ``caller`` does not manage; database errors propagate after the transaction is
        rolled back.
        """
        clash = [m.id for m in masters if m.id in self.catalog.builtin_ids]
        if clash:
            raise BuiltinReadOnlyError(f"built-in masters cannot be replaced: {', '.join(clash)}")
        self._not_taken([m.id for m in masters], caller)
        count = self.repo.save_many(list(masters), status, owner_id=caller.user_id)
        for master in masters:
            if status == "published":
                self.catalog.add(master)
            elif master.id in self.catalog.masters:
                self.catalog.remove(master.id)
        self.on_change([m.id for m in masters])
        return count

    def fork(self, source_id: str, new_id: str | None = None, *, caller: Caller = LOCAL) -> UserMaster:
        """Copy a built-in or user master into a new draft of ``caller``'s (id ``<source>-copy``,
        ``-copy-2`` … by default).

        Raises :class:`~masterhall.catalog.UnknownMasterError` for an unknown source (or another
        person's draft), :class:`~masterhall.errors.ForbiddenError` for a published master whose
        instructions ``caller`` may not read, :class:`~masterhall.errors.InvalidRequestError` for
        an unusable ``new_id`` and ``ConflictError`` for a ``new_id`` that is another's master.
        """
        source = self._readable(source_id, caller, "forked")
        new_id = new_id or self._free_id(f"{source_id}-copy")
        try:
            copy = Master.model_validate(source.model_copy(update={"id": new_id, "version": 1}).model_dump())
            return self.save(copy, "draft", forked_from=source_id, caller=caller)
        except (ValidationError, BuiltinReadOnlyError) as exc:
            raise InvalidRequestError(str(exc)) from exc

    def publish(self, master_id: str, caller: Caller = LOCAL) -> UserMaster:
        """Publish: the master joins the hall at once. Raises ``NotFoundError``, ``ForbiddenError``,
        ``BuiltinReadOnlyError`` (see :meth:`_writable`)."""
        stored = self.repo.set_status(self._writable(master_id, caller).id, "published")
        self._sync(stored)
        return stored

    def unpublish(self, master_id: str, caller: Caller = LOCAL) -> UserMaster:
        """Back to draft: the master leaves the hall at once (errors as :meth:`publish`)."""
        stored = self.repo.set_status(self._writable(master_id, caller).id, "draft")
        self._sync(stored)
        return stored

    def delete(self, master_id: str, caller: Caller = LOCAL) -> bool:
        """Delete a user master (and its files); False if there was none (or it is another
        person's draft). Built-ins raise ``BuiltinReadOnlyError``; another person's published
        master ``ForbiddenError``."""
        if master_id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master_id}' is a built-in master and cannot be deleted")
        try:
            self._writable(master_id, caller)
        except NotFoundError:
            return False
        if master_id in self.catalog.masters:
            self.catalog.remove(master_id)
        deleted = self.repo.delete(master_id)
        self.on_change([master_id])
        return deleted

    # -- import and export ---------------------------------------------------------------------
    def import_file(self, data: bytes, filename: str | None = None, *, fmt: str = "auto", category: str | None = None,
                    publish: bool = False, dry_run: bool = False, caller: Caller = LOCAL) -> dict:
        """Import masters from the bytes of a file (see :func:`masterhall.interop.import_bytes`),
        all or nothing, as ``caller``'s; ids never take a built-in's (nor another person's master).

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
            stored = self.import_result(result, publish=publish, caller=caller)
        except InteropError as exc:
            raise InvalidRequestError(str(exc), code="invalid_file") from exc
        for hook in self.after_import:
            hook(result.masters, caller)
        return {**report, "stored": stored}

    def import_result(self, result: ImportResult, *, publish: bool = False, caller: Caller = LOCAL) -> int:
        """Store an import's masters as ``caller``'s (see :func:`masterhall.interop.store_import`); returns how many."""
        return store_import(result, self, publish=publish, caller=caller)

    def export(self, master_id: str, fmt: str = "json", *, image: bytes | None = None,
               caller: Caller = LOCAL) -> tuple[bytes, str, str]:
        """``(content, content_type, filename)`` of a built-in or user master in an export format.

        Raises ``UnknownMasterError`` (also for another person's draft), ``ForbiddenError`` for a
        published master whose instructions ``caller`` may not read, and
        :class:`~masterhall.errors.InvalidRequestError` (code ``invalid_format``) for an unknown
        format or an image that is not a PNG.
        """
        master = self._readable(master_id, caller, "exported")
        for hook in self.before_export:
            master = hook(master)
        try:
            return export_master(master, fmt, image=image)
        except InteropError as exc:
            raise InvalidRequestError(str(exc), code="invalid_format") from exc

    # -- attached files ------------------------------------------------------------------------
    def add_file(self, master_id: str, filename: str | None, content: bytes,
                 content_type: str | None = None, downloadable: bool = False, *, caller: Caller = LOCAL) -> MasterFile:
        """Attach a file (its name made safe) to a user master ``caller`` manages. Raises
        ``TooLargeError``, ``NotFoundError``, ``ForbiddenError`` (see :meth:`_writable`)."""
        if len(content) > MAX_FILE_BYTES:
            raise TooLargeError(f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
        stored = self._writable(master_id, caller)
        return self.repo.add_file(stored.id, safe_filename(filename), content,
                                  content_type or "application/octet-stream", downloadable)

    def replace_file(self, file_id: str, filename: str | None, content: bytes, content_type: str | None = None,
                     caller: Caller = LOCAL) -> MasterFile:
        """Replace an attached file's content (its name made safe); for its master's creator and
        admins. Raises ``TooLargeError``, ``NotFoundError``."""
        if len(content) > MAX_FILE_BYTES:
            raise TooLargeError(f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
        found = self._own_file(file_id, caller, with_content=False)
        return self.repo.replace_file(found.id, safe_filename(filename or found.filename), content,
                                      content_type or found.content_type)

    def delete_file(self, file_id: str, caller: Caller = LOCAL) -> MasterFile:
        """Delete an attached file (its master's creator and admins); returns its metadata.
        Raises ``NotFoundError``."""
        found = self._own_file(file_id, caller, with_content=False)
        self.repo.delete_file(found.id)
        return found

    def managed(self, master_id: str, caller: Caller = LOCAL) -> UserMaster:
        """A user master ``caller`` may change (its knowledge too); errors as :meth:`_writable`."""
        return self._writable(master_id, caller)

    def files(self, master_id: str, caller: Caller = LOCAL) -> list[MasterFile]:
        """Metadata of the files of a user master ``caller`` manages, oldest first (errors as :meth:`_writable`)."""
        return self.repo.files(self._writable(master_id, caller).id)

    def set_downloadable(self, file_id: str, downloadable: bool, caller: Caller = LOCAL) -> MasterFile:
        """Let chat users download a file, or not (its master's creator and admins only). Raises
        ``NotFoundError`` (also for a file ``caller`` does not manage)."""
        return self.repo.set_downloadable(self._own_file(file_id, caller, with_content=False).id, downloadable)

    def file(self, file_id: str, caller: Caller = LOCAL) -> MasterFile:
        """A file with its content, for its master's creator and admins. Raises ``NotFoundError``."""
        return self._own_file(file_id, caller)

    def public_file(self, master_id: str, file_id: str, caller: Caller = LOCAL) -> MasterFile:
        """A file of ``master_id`` that its creator made downloadable, of a master ``caller`` sees
        (published, or a draft ``caller`` manages). Raises ``NotFoundError`` otherwise."""
        found = self.repo.file(file_id, with_content=True)
        stored = self.repo.get(master_id) if found is not None and found.master_id == master_id else None
        if stored is None or not found.downloadable or not (stored.status == "published" or manages(caller, stored.owner_id)):
            raise NotFoundError("no downloadable file here")
        return found

    # -- internals -----------------------------------------------------------------------------
    def _writable(self, master_id: str, caller: Caller = LOCAL) -> UserMaster:
        """A user master ``caller`` may change. Raises ``BuiltinReadOnlyError`` (a built-in),
        ``NotFoundError`` (none, or another person's draft) and ``ForbiddenError`` (another
        person's published master: seen, not theirs)."""
        if master_id in self.catalog.builtin_ids:
            raise BuiltinReadOnlyError(f"'{master_id}' is a built-in master; fork it to make your own version")
        stored = self.repo.get(master_id)
        if stored is None or (stored.status != "published" and not manages(caller, stored.owner_id)):
            raise NotFoundError(f"user master {master_id} not found")
        if not manages(caller, stored.owner_id):
            raise ForbiddenError(f"'{master_id}' is another person's master; fork it to make your own version")
        return stored

    def _readable(self, master_id: str, caller: Caller, what: str) -> Master:
        """A master ``caller`` may copy whole (fork, export): see :meth:`find`; raises
        ``ForbiddenError`` when its instructions are hidden from ``caller``."""
        master = self.find(master_id, caller)
        if not self.shows_instructions(master.id, caller):
            raise ForbiddenError(f"the creator of '{master_id}' keeps its instructions private: it cannot be {what}")
        return master

    def _own_file(self, file_id: str, caller: Caller, with_content: bool = True) -> MasterFile:
        found = self.repo.file(file_id, with_content=with_content)
        stored = self.repo.get(found.master_id) if found is not None else None
        if stored is None or not manages(caller, stored.owner_id):
            raise NotFoundError(f"file {file_id} not found")
        return found

    def _not_taken(self, ids: list[str], caller: Caller) -> None:
        """Raise ``ConflictError`` (``id_taken``, field ``id``) when an id is a master ``caller`` does not manage."""
        taken = [i for i in ids if (stored := self.repo.get(i)) is not None and not manages(caller, stored.owner_id)]
        if taken:
            message = f"the id '{taken[0]}' is taken by another person's master; choose another id"
            raise ConflictError(message, code="id_taken", fields=[{"field": "id", "message": message}])

    def _sync(self, stored: UserMaster) -> None:
        if stored.status == "published":
            self.catalog.add(stored.master)
        elif stored.id in self.catalog.masters:
            self.catalog.remove(stored.id)
        self.on_change([stored.id])

    def _free_id(self, base: str) -> str:
        base = re.sub(r"[^a-z0-9-]", "-", base.lower())[:56].strip("-")
        candidate, n = base, 2
        while candidate in self.catalog.masters or self.repo.get(candidate) is not None:
            candidate, n = f"{base}-{n}", n + 1
        return candidate
