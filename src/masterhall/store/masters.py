"""User-created masters and their attached files, read and written through a repository."""

from __future__ import annotations

import builtins
import datetime as dt
import json
from dataclasses import dataclass
from types import EllipsisType
from typing import Literal

from sqlalchemy import Engine, delete, insert, select, update

from ..catalog.models import Master
from ..errors import NotFoundError
from .tables import MASTER_STATUSES, MasterFileRow, UserMasterRow, new_id, utcnow

MasterStatus = Literal["draft", "published"]
_masters = UserMasterRow.__table__
_files = MasterFileRow.__table__


@dataclass(frozen=True)
class UserMaster:
    """A stored user master: the validated ``master``, its ``status``, where it was forked from, its
    creator (``owner_id``: ``users.id``, ``None`` in a hall without accounts) and whether others
    may read its instructions once published (``instructions_visible``)."""

    master: Master
    status: MasterStatus
    forked_from: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    owner_id: int | None = None
    instructions_visible: bool = False

    @property
    def id(self) -> str:
        return self.master.id

    def to_dict(self) -> dict:
        """JSON-ready: the master's fields plus ``status``, ``forked_from``, ``owner_id``,
        ``instructions_visible`` and timestamps."""
        return {"master": self.master.model_dump(), "status": self.status, "forked_from": self.forked_from,
                "owner_id": self.owner_id, "instructions_visible": self.instructions_visible,
                "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class MasterFile:
    """A file attached to a user master (``size`` in bytes; ``content`` only when asked for).

    ``id`` is the file's public id (32 random hex digits), the only one APIs and URLs show.
    """

    id: str
    master_id: str
    filename: str
    content_type: str
    size: int
    downloadable: bool
    created_at: dt.datetime
    content: bytes | None = None

    def to_dict(self) -> dict:
        """JSON-ready metadata (never the content)."""
        return {"id": self.id, "master_id": self.master_id, "filename": self.filename, "content_type": self.content_type,
                "size": self.size, "downloadable": self.downloadable, "created_at": self.created_at.isoformat()}


def _row(row) -> UserMaster:
    return UserMaster(Master.model_validate(json.loads(row.data)), row.status, row.forked_from, row.created_at, row.updated_at,
                      row.owner_id, bool(row.instructions_visible))


#: The columns of a file's metadata, its public id as ``id``.
_FILE_META = [_files.c.public_id.label("id"), _files.c.master_id, _files.c.filename, _files.c.content_type, _files.c.size,
              _files.c.downloadable, _files.c.created_at]


class UserMasterRepo:
    """CRUD for user masters; each method commits before it returns.

    Masters are validated with the catalog schema on write (pydantic ``ValidationError``).
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, master_id: str) -> UserMaster | None:
        """The stored master, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_masters).where(_masters.c.id == master_id)).first()
        return None if row is None else _row(row)

    def list(self, status: MasterStatus | None = None, *, owner_id: int | None | EllipsisType = ...) -> builtins.list[UserMaster]:
        """All user masters (or those with ``status``; those of ``owner_id`` when given, ``None``
        meaning those without an owner), most recently updated first."""
        query = select(_masters).order_by(_masters.c.updated_at.desc())
        if status is not None:
            query = query.where(_masters.c.status == status)
        if owner_id is not ...:
            query = query.where(_masters.c.owner_id.is_(None) if owner_id is None else _masters.c.owner_id == owner_id)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def save(self, master: Master, status: MasterStatus | None = None, forked_from: str | None = None, *,
             owner_id: int | None = None, instructions_visible: bool | None = None) -> UserMaster:
        """Insert or replace ``master`` (keeping its status unless ``status`` is given; new ones are
        drafts). A new master is ``owner_id``'s; a replaced one keeps its owner.
        ``instructions_visible`` changes that flag when given (new masters: hidden)."""
        if status is not None and status not in MASTER_STATUSES:
            raise ValueError(f"status must be one of {MASTER_STATUSES}")
        data = Master.model_validate(master.model_dump()).model_dump_json()
        now = utcnow()
        with self.engine.begin() as conn:
            exists = conn.execute(select(_masters.c.id).where(_masters.c.id == master.id)).first()
            if exists:
                values = {"data": data, "updated_at": now}
                if status is not None:
                    values["status"] = status
                if instructions_visible is not None:
                    values["instructions_visible"] = instructions_visible
                conn.execute(update(_masters).where(_masters.c.id == master.id).values(**values))
            else:
                conn.execute(insert(_masters).values(id=master.id, data=data, status=status or "draft",
                                                     forked_from=forked_from, created_at=now, updated_at=now, owner_id=owner_id,
                                                     instructions_visible=bool(instructions_visible)))
        return self.get(master.id)  # type: ignore[return-value]

    def save_many(self, masters: builtins.list[Master], status: MasterStatus = "draft", *,
                  owner_id: int | None = None) -> int:
        """Insert or replace several masters in one transaction (all or nothing); returns the
        count. New ones are ``owner_id``'s; replaced ones keep their owner and instructions flag."""
        now = utcnow()
        with self.engine.begin() as conn:
            for master in masters:
                data = master.model_dump_json()
                old = conn.execute(select(_masters.c.owner_id, _masters.c.instructions_visible)
                                   .where(_masters.c.id == master.id)).first()
                conn.execute(delete(_masters).where(_masters.c.id == master.id))
                conn.execute(insert(_masters).values(id=master.id, data=data, status=status, forked_from=None,
                                                     created_at=now, updated_at=now,
                                                     owner_id=old.owner_id if old else owner_id,
                                                     instructions_visible=bool(old.instructions_visible) if old else False))
        return len(masters)

    def set_status(self, master_id: str, status: MasterStatus) -> UserMaster:
        """Publish or unpublish; raises :class:`NotFoundError`."""
        if status not in MASTER_STATUSES:
            raise ValueError(f"status must be one of {MASTER_STATUSES}")
        with self.engine.begin() as conn:
            done = conn.execute(update(_masters).where(_masters.c.id == master_id).values(status=status, updated_at=utcnow()))
        if not done.rowcount:
            raise NotFoundError(f"user master {master_id} not found")
        return self.get(master_id)  # type: ignore[return-value]

    def delete(self, master_id: str) -> bool:
        """Delete a master and its files; False if it did not exist."""
        with self.engine.begin() as conn:
            conn.execute(delete(_files).where(_files.c.master_id == master_id))
            return bool(conn.execute(delete(_masters).where(_masters.c.id == master_id)).rowcount)

    # -- attached files ------------------------------------------------------------------------
    def add_file(self, master_id: str, filename: str, content: bytes, content_type: str = "application/octet-stream",
                 downloadable: bool = False) -> MasterFile:
        """Attach a file; raises :class:`NotFoundError` for an unknown master."""
        if self.get(master_id) is None:
            raise NotFoundError(f"user master {master_id} not found")
        now, file_id = utcnow(), new_id()
        with self.engine.begin() as conn:
            conn.execute(insert(_files).values(master_id=master_id, filename=filename, content_type=content_type,
                                               size=len(content), content=content, downloadable=downloadable,
                                               created_at=now, public_id=file_id))
        return self.file(file_id)  # type: ignore[return-value]

    def files(self, master_id: str) -> builtins.list[MasterFile]:
        """Metadata of a master's files (no content), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(*_FILE_META).where(_files.c.master_id == master_id).order_by(_files.c.id))
            return [MasterFile(**r._mapping) for r in rows]

    def file(self, file_id: str, with_content: bool = False) -> MasterFile | None:
        """One file's metadata (and content when ``with_content``) by its public id, or ``None``."""
        cols = _FILE_META + [_files.c.content] if with_content else _FILE_META
        with self.engine.connect() as conn:
            row = conn.execute(select(*cols).where(_files.c.public_id == file_id)).first()
        return None if row is None else MasterFile(**row._mapping)

    def replace_file(self, file_id: str, filename: str, content: bytes, content_type: str) -> MasterFile:
        """Replace a file's name, content and type (by public id); raises :class:`NotFoundError`."""
        with self.engine.begin() as conn:
            done = conn.execute(update(_files).where(_files.c.public_id == file_id).values(
                filename=filename, content=content, content_type=content_type, size=len(content)))
        if not done.rowcount:
            raise NotFoundError(f"file {file_id} not found")
        return self.file(file_id)  # type: ignore[return-value]

    def delete_file(self, file_id: str) -> bool:
        """Delete a file (by public id); False when there was none."""
        with self.engine.begin() as conn:
            return bool(conn.execute(delete(_files).where(_files.c.public_id == file_id)).rowcount)

    def set_downloadable(self, file_id: str, downloadable: bool) -> MasterFile:
        """Let chat users download a file (by public id), or stop them; raises :class:`NotFoundError`."""
        with self.engine.begin() as conn:
            done = conn.execute(update(_files).where(_files.c.public_id == file_id).values(downloadable=downloadable))
        if not done.rowcount:
            raise NotFoundError(f"file {file_id} not found")
        return self.file(file_id)  # type: ignore[return-value]
