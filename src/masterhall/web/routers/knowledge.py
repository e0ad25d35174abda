"""The builder's knowledge API under ``/api/builder``: a user master's indexed files (replace,
delete), its chunks, its curated Q&A pairs and lorebook entries, and the "what would be
retrieved for…" look-up. Thin: :class:`~masterhall.knowledge.KnowledgeService` decides who may
do what (a master's creator and the admins; others get ``404`` for drafts, ``403`` for a
published master they see). Attaching and listing files stay on the builder router's routes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ...builder.library import MAX_FILE_BYTES
from ...inputs import Text
from ..deps import CallerDep, HallDep
from .schemas import errors

router = APIRouter(prefix="/api/builder", tags=["knowledge"])

#: A file's or entry's public id: 32 lower-case hex digits.
PublicId = Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="The id (32 hex digits).")]
#: Largest Q&A file, in bytes.
MAX_PAIRS_BYTES = 4 * 1024 * 1024


class PairBody(BaseModel):
    """A curated Q&A pair (``title`` defaults to the question in citations)."""

    question: Text = Field(min_length=1, max_length=20_000)
    answer: Text = Field(min_length=1, max_length=20_000)
    title: Text = Field(default="", max_length=1_000)


class EntryPatch(BaseModel):
    """Fields of an entry to change (absent: kept); ``keys``: a lorebook entry's trigger words."""

    question: Text | None = Field(default=None, max_length=20_000)
    answer: Text | None = Field(default=None, max_length=20_000)
    title: Text | None = Field(default=None, max_length=1_000)
    keys: list[Text] | None = Field(default=None, max_length=100)


class LookupBody(BaseModel):
    q: Text = Field(min_length=1, max_length=4_000)


@router.put("/files/{file_id}", summary="Replace an attached file's content and re-index it",
            responses=errors(400, 404, 413))
async def replace_file(hall: HallDep, caller: CallerDep, file_id: PublicId, file: UploadFile):
    data = await file.read(MAX_FILE_BYTES + 1)
    return await run_in_threadpool(lambda: hall.knowledge.replace_file(file_id, file.filename, data, file.content_type,
                                                                       caller=caller))


@router.delete("/files/{file_id}", status_code=204, summary="Delete an attached file and its chunks", responses=errors(404))
def delete_file(hall: HallDep, caller: CallerDep, file_id: PublicId):
    hall.knowledge.delete_file(file_id, caller=caller)
    return Response(status_code=204)


@router.get("/masters/{master_id}/chunks", summary="A master's indexed chunks (of one source)", responses=errors(403, 404))
def chunks(hall: HallDep, caller: CallerDep, master_id: Text, source_id: Text | None = None) -> list[dict]:
    return hall.knowledge.chunks(master_id, source_id, caller=caller)


@router.get("/masters/{master_id}/entries", summary="A master's curated Q&A pairs and lorebook entries",
            responses=errors(403, 404))
def entries(hall: HallDep, caller: CallerDep, master_id: Text, kind: Literal["qa", "lore"] | None = None) -> list[dict]:
    return [e.to_dict() for e in hall.knowledge.entries(master_id, kind, caller=caller)]


@router.post("/masters/{master_id}/entries", status_code=201, summary="Add a curated Q&A pair",
             responses=errors(400, 403, 404))
def add_pair(hall: HallDep, caller: CallerDep, master_id: Text, body: PairBody):
    return hall.knowledge.add_pair(master_id, body.question, body.answer, body.title, caller=caller).to_dict()


@router.post("/masters/{master_id}/entries/import", status_code=201, summary="Add the Q&A pairs of a CSV or JSON-lines file",
             responses=errors(400, 403, 404, 413))
async def import_pairs(hall: HallDep, caller: CallerDep, master_id: Text, file: UploadFile) -> list[dict]:
    data = await file.read(MAX_PAIRS_BYTES + 1)
    if len(data) > MAX_PAIRS_BYTES:
        from ...errors import TooLargeError

        raise TooLargeError(f"Q&A files are limited to {MAX_PAIRS_BYTES // (1024 * 1024)} MB")
    found = await run_in_threadpool(lambda: hall.knowledge.import_pairs(master_id, data, file.filename or "", caller=caller))
    return [e.to_dict() for e in found]


@router.patch("/entries/{entry_id}", summary="Edit a Q&A pair or lorebook entry", responses=errors(400, 404))
def update_entry(hall: HallDep, caller: CallerDep, entry_id: PublicId, body: EntryPatch):
    return hall.knowledge.update_entry(entry_id, caller=caller, **body.model_dump(exclude_none=True)).to_dict()


@router.delete("/entries/{entry_id}", status_code=204, summary="Delete a Q&A pair or lorebook entry", responses=errors(404))
def delete_entry(hall: HallDep, caller: CallerDep, entry_id: PublicId):
    hall.knowledge.delete_entry(entry_id, caller=caller)
    return Response(status_code=204)


@router.post("/masters/{master_id}/retrieve", summary="What a turn would retrieve for a question (scores, sources)",
             responses=errors(400, 403, 404))
def retrieve(hall: HallDep, caller: CallerDep, master_id: Text, body: LookupBody):
    return hall.knowledge.search(master_id, body.q, caller=caller)
