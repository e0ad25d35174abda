"""The builder's API under ``/api/builder``: user masters (create, edit, fork, publish, delete),
validation with per-field messages, one-click test and preview with debug info (SSE), files,
import; and, under ``/api``, the public downloads and exports of masters.

A master in a request body is the catalog schema as JSON (see ``GET /api/masters/{id}``).
Validation failures answer ``422`` with ``{"error": {"code": "invalid_master", "message",
"fields": [{"field": "starters.en", "message": …}]}}``.

Every route acts for the request's caller (``CallerDep``): the services decide what it may see
and change (README, *Who sees what*). File ids are 32 random hex digits.
"""

from __future__ import annotations

from typing import Annotated, Iterable, Literal

from fastapi import APIRouter, Path, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, Field

from ...backends.base import ChatMessage
from ...builder.draft import draft_for_run
from ...builder.library import MAX_FILE_BYTES, InvalidMasterError, validate_master
from ...catalog.models import SamplingParams
from ...conversations.turns import Event
from ...errors import NotFoundError
from ...inputs import MAX_JSON_DEPTH, JsonObject, Text, check_json
from ...interop import MAX_FILE_BYTES as MAX_IMPORT_BYTES
from ..deps import CallerDep, HallDep
from ..sse import event_stream, sse
from .schemas import EventStream, errors, files, stream

router = APIRouter(prefix="/api/builder", tags=["builder"])
public_router = APIRouter(prefix="/api", tags=["api"])


class MasterBody(BaseModel):
    """A master (catalog schema) and, optionally, the status to save it with and whether people
    other than its creator (and admins) may read its instructions once published (kept when
    absent; new masters hide them)."""

    master: dict
    status: Literal["draft", "published"] | None = None
    instructions_visible: bool | None = None


#: A file's public id: 32 lower-case hex digits.
FileId = Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="The file's id (32 hex digits).")]


class ForkBody(BaseModel):
    new_id: Text | None = None


def _storable_draft(value: dict) -> dict:
    """A draft's JSON with every text storable and sendable and its ``extensions`` at most
    :data:`~masterhall.inputs.MAX_JSON_DEPTH` deep: a run sends an incomplete draft's texts as
    they are (see :mod:`~masterhall.builder.draft`), so they are checked here."""
    return check_json(value, MAX_JSON_DEPTH + 1)


#: A draft to run (preview, one-click test); saving checks the whole master instead.
DraftJson = Annotated[dict, AfterValidator(_storable_draft)]


class PreviewBody(BaseModel):
    """A preview turn: the draft, the conversation so far, the new message."""

    master: DraftJson
    history: list[JsonObject] = Field(default_factory=list, description='[{"role": "user"|"assistant", "content": …}]')
    content: Text = Field(min_length=1, max_length=32_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)


class TestBody(BaseModel):
    master: DraftJson
    langs: list[Literal["zh", "en"]] = Field(default_factory=lambda: ["zh", "en"])
    max_tokens: int | None = Field(default=None, ge=1, le=32768)


class FileFlags(BaseModel):
    downloadable: bool


def _download(f) -> Response:
    return Response(f.content, media_type=f.content_type, headers={
        "Content-Disposition": f'attachment; filename="{f.filename}"', "X-Content-Type-Options": "nosniff"})


def _checked(hall, data: dict):
    """``data`` as a master (:func:`validate_master`) whose ``model`` is not a model file path
    unless the operator configured it: requests pick backends by name (README, *Security*).
    Raises :class:`InvalidMasterError` (field ``model``) with the configured names."""
    return _model_checked(hall, validate_master(data))


def _model_checked(hall, master):
    """``master`` unchanged when its ``model`` is a configured backend (or none); else
    :class:`InvalidMasterError` (field ``model``), as in :func:`_checked`."""
    model = master.model
    if model and not hall.registry.configured(model) and (model.lower().endswith(".gguf") or "/" in model or "\\" in model):
        message = f"must name a configured backend ({', '.join(hall.registry.names())}), not a model file"
        raise InvalidMasterError("1 field(s) need attention", fields=[{"field": "model", "message": message,
                                                                      "type": "backend_not_configured", "ctx": {}}])
    return master


def _frames(event: Event) -> Iterable[str]:
    yield sse(event.type, event.data)


@router.get("/masters", summary="User masters (drafts and published)", responses=errors())
def list_user_masters(hall: HallDep, caller: CallerDep) -> list[dict]:
    return [um.to_dict() for um in hall.library.list(caller=caller)]


@router.post("/validate", summary="Validate a master without saving it", responses=errors(400))
def validate(hall: HallDep, body: MasterBody):
    _checked(hall, body.master)
    return {"ok": True}


@router.post("/masters", summary="Create or replace a user master", status_code=201, responses=errors(400, 409))
def save_master(hall: HallDep, caller: CallerDep, body: MasterBody):
    return hall.library.save(_checked(hall, body.master), body.status, caller=caller,
                             instructions_visible=body.instructions_visible).to_dict()


@router.get("/masters/{master_id}", summary="One user master", responses=errors(404))
def get_user_master(hall: HallDep, caller: CallerDep, master_id: Text):
    return hall.library.require(master_id, caller).to_dict()


@router.delete("/masters/{master_id}", status_code=204, summary="Delete a user master", responses=errors(403, 404, 409))
def delete_user_master(hall: HallDep, caller: CallerDep, master_id: Text):
    if not hall.library.delete(master_id, caller):
        raise NotFoundError(f"user master {master_id} not found")
    return Response(status_code=204)


@router.post("/masters/{master_id}/publish", summary="Publish: the master joins the hall, the APIs and the Finder",
             responses=errors(403, 404, 409))
def publish(hall: HallDep, caller: CallerDep, master_id: Text):
    return hall.library.publish(master_id, caller).to_dict()


@router.post("/masters/{master_id}/unpublish", summary="Back to draft", responses=errors(403, 404, 409))
def unpublish(hall: HallDep, caller: CallerDep, master_id: Text):
    return hall.library.unpublish(master_id, caller).to_dict()


@router.post("/fork/{source_id}", summary="Copy a built-in or user master into a new draft", status_code=201,
             responses=errors(400, 403, 404, 409))
def fork(hall: HallDep, caller: CallerDep, source_id: Text, body: ForkBody | None = None):
    return hall.library.fork(source_id, body.new_id if body else None, caller=caller).to_dict()


def _incomplete(missing: list[dict]) -> list[str]:
    """The opening ``draft`` event of a run of an incomplete draft: ``{"missing": [{field, message,
    type, ctx}]}`` (what saving would refuse; the run goes on without it, see
    :func:`~masterhall.builder.draft.draft_for_run`)."""
    return [sse("draft", {"missing": missing})] if missing else []


@router.post("/test", summary="One-click test: answer every conversation starter of a draft, even an incomplete one (SSE)",
             responses=stream(), response_class=EventStream)
async def test_starters(hall: HallDep, caller: CallerDep, body: TestBody):
    master, missing = draft_for_run(body.master)
    master = _model_checked(hall, master)
    params = SamplingParams(max_tokens=body.max_tokens)
    return await event_stream(hall.pool, lambda listener: hall.trial.run_starters(master, listener, langs=body.langs, params=params,
                                                                                          caller=caller),
                              _frames, opening=_incomplete(missing))


@router.post("/preview", summary="Chat with a draft, even an incomplete one; each turn shows exactly what the model receives (SSE)",
             responses=stream(), response_class=EventStream)
async def preview_turn(hall: HallDep, caller: CallerDep, body: PreviewBody):
    master, missing = draft_for_run(body.master)
    master = _model_checked(hall, master)
    history = [ChatMessage(m["role"], str(m.get("content", ""))) for m in body.history if m.get("role") in ("user", "assistant")]
    params = SamplingParams(temperature=body.temperature, max_tokens=body.max_tokens)
    return await event_stream(hall.pool, lambda listener: hall.trial.preview(master, history, body.content, listener, params=params,
                                                                                    caller=caller),
                              _frames, opening=_incomplete(missing))


@router.post("/masters/{master_id}/files", status_code=201,
             summary="Attach a file (private unless made downloadable); TXT, Markdown, PDF, DOCX and HTML are indexed",
             responses=errors(400, 403, 404, 409, 413))
async def upload_file(hall: HallDep, caller: CallerDep, master_id: Text, file: UploadFile, downloadable: bool = False):
    data = await file.read(MAX_FILE_BYTES + 1)
    return await run_in_threadpool(lambda: hall.knowledge.add_file(master_id, file.filename, data, file.content_type,
                                                                   downloadable, caller=caller))


@router.get("/masters/{master_id}/files", summary="Files attached to a user master (metadata)", responses=errors(403, 404))
def list_files(hall: HallDep, caller: CallerDep, master_id: Text) -> list[dict]:
    return hall.knowledge.files(master_id, caller=caller)


@router.patch("/files/{file_id}", summary="Let chat users download a file, or not", responses=errors(400, 404))
def set_file_flags(hall: HallDep, caller: CallerDep, file_id: FileId, body: FileFlags):
    return hall.library.set_downloadable(file_id, body.downloadable, caller).to_dict()


@router.get("/files/{file_id}/download", summary="The creator's download of an attached file", responses=files())
def creator_download(hall: HallDep, caller: CallerDep, file_id: FileId):
    return _download(hall.library.file(file_id, caller))


@public_router.get("/masters/{master_id}/files/{file_id}",
                   summary="A chat user's download: only files the creator made downloadable", responses=files())
def public_download(hall: HallDep, caller: CallerDep, master_id: Text, file_id: FileId):
    return _download(hall.library.public_file(master_id, file_id, caller))


@router.post("/import", summary="Import masters from a file (card JSON/PNG, LobeChat, NextChat, YAML/JSON, CSV/JSONL/Parquet)",
             responses=errors(400, 409, 413))
async def import_file(hall: HallDep, caller: CallerDep, file: UploadFile, format: Text = "auto", category: Text | None = None,
                      publish: bool = False, dry_run: bool = False):
    data = await file.read(MAX_IMPORT_BYTES + 1)
    return await run_in_threadpool(lambda: hall.library.import_file(data, file.filename, fmt=format, category=category,
                                                                    publish=publish, dry_run=dry_run, caller=caller))


@public_router.get("/masters/{master_id}/export",
                   summary="A master in another format (card-json, card-png, lobechat, nextchat, yaml, json)",
                   responses=files("application/json", "image/png", "application/yaml", codes=(400, 403, 404)))
def export(hall: HallDep, caller: CallerDep, master_id: Text, format: Text = "json"):
    content, content_type, filename = hall.library.export(master_id, format, caller=caller)
    return Response(content, media_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
