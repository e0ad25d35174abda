"""The builder's API under ``/api/builder``: user masters (create, edit, fork, publish, delete),
validation with per-field messages, one-click test and preview with debug info (SSE), and files.

A master in a request body is the catalog schema as JSON (see ``GET /api/masters/{id}``).
Validation failures answer ``422`` with ``{"error": {"code": "invalid_master", "message",
"fields": [{"field": "starters.en", "message": …}]}}``.
"""

from __future__ import annotations

import threading
from typing import Literal

from fastapi import APIRouter, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from ..backends.base import ChatMessage
from ..catalog.loader import UnknownMasterError
from ..catalog.models import Master, SamplingParams
from ..masters.library import BuiltinReadOnlyError
from ..masters.trial import preview, run_starters
from ..store.repos import NotFoundError
from .api import api_error
from .services import Hall
from .sse import ThreadBridge, guarded, sse

router = APIRouter(prefix="/api/builder", tags=["builder"])
#: Largest attached file, in bytes.
MAX_FILE_BYTES = 10 * 1024 * 1024


def _hall(request: Request) -> Hall:
    return request.app.state.hall




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


def _validate(data: dict) -> Master | JSONResponse:
    try:
        return Master.model_validate(data)
    except ValidationError as exc:
        fields = field_errors(exc)
        return api_error(422, "invalid_master", f"{len(fields)} field(s) need attention", fields=fields)


class MasterBody(BaseModel):
    """A master (catalog schema) and, optionally, the status to save it with."""

    master: dict
    status: Literal["draft", "published"] | None = None


class ForkBody(BaseModel):
    new_id: str | None = None


class PreviewBody(BaseModel):
    """A preview turn: the draft, the conversation so far, the new message."""

    master: dict
    history: list[dict] = Field(default_factory=list, description='[{"role": "user"|"assistant", "content": …}]')
    content: str = Field(min_length=1, max_length=32_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)


class TestBody(BaseModel):
    master: dict
    langs: list[Literal["zh", "en"]] = Field(default_factory=lambda: ["zh", "en"])
    max_tokens: int | None = Field(default=None, ge=1, le=32768)


def _safe_filename(name: str | None) -> str:
    """The last path component, without control characters or quotes, at most 200 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>').strip(". ")
    return base[:200] or "file"


def _download(f) -> Response:
    return Response(f.content, media_type=f.content_type, headers={
        "Content-Disposition": f'attachment; filename="{f.filename}"', "X-Content-Type-Options": "nosniff"})


def _stream(start) -> StreamingResponse:
    bridge = ThreadBridge()
    stop = threading.Event()
    start(bridge.put, stop)

    async def frames():
        async for event in bridge.items():
            yield sse(event.type, event.data)

    return StreamingResponse(guarded(frames(), stop.set), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/masters", summary="User masters (drafts and published)")
def list_user_masters(request: Request) -> list[dict]:
    return [um.to_dict() for um in _hall(request).library.list()]


@router.post("/validate", summary="Validate a master without saving it")
def validate(body: MasterBody):
    result = _validate(body.master)
    return result if isinstance(result, JSONResponse) else {"ok": True}


@router.post("/masters", summary="Create or replace a user master", status_code=201)
def save_master(request: Request, body: MasterBody):
    master = _validate(body.master)
    if isinstance(master, JSONResponse):
        return master
    try:
        return _hall(request).library.save(master, body.status).to_dict()
    except BuiltinReadOnlyError as exc:
        return api_error(409, "read_only", str(exc), fields=[{"field": "id", "message": str(exc)}])


@router.get("/masters/{master_id}", summary="One user master")
def get_user_master(request: Request, master_id: str):
    um = _hall(request).library.get(master_id)
    return um.to_dict() if um else api_error(404, "not_found", f"user master {master_id} not found")


@router.delete("/masters/{master_id}", status_code=204, summary="Delete a user master")
def delete_user_master(request: Request, master_id: str):
    try:
        found = _hall(request).library.delete(master_id)
    except BuiltinReadOnlyError as exc:
        return api_error(409, "read_only", str(exc))
    return Response(status_code=204) if found else api_error(404, "not_found", f"user master {master_id} not found")


@router.post("/masters/{master_id}/publish", summary="Publish: the master joins the hall, the APIs and the Finder")
def publish(request: Request, master_id: str):
    return _status_change(request, master_id, publish=True)


@router.post("/masters/{master_id}/unpublish", summary="Back to draft")
def unpublish(request: Request, master_id: str):
    return _status_change(request, master_id, publish=False)


def _status_change(request: Request, master_id: str, publish: bool):
    lib = _hall(request).library
    try:
        return (lib.publish(master_id) if publish else lib.unpublish(master_id)).to_dict()
    except BuiltinReadOnlyError as exc:
        return api_error(409, "read_only", str(exc))
    except NotFoundError as exc:
        return api_error(404, "not_found", str(exc))


@router.post("/fork/{source_id}", summary="Copy a built-in or user master into a new draft", status_code=201)
def fork(request: Request, source_id: str, body: ForkBody | None = None):
    try:
        return _hall(request).library.fork(source_id, body.new_id if body else None).to_dict()
    except UnknownMasterError as exc:
        return api_error(404, "unknown_master", str(exc))
    except (ValidationError, ValueError) as exc:
        return api_error(400, "invalid", str(exc))


@router.post("/test", summary="One-click test: answer every conversation starter of a draft (SSE)")
async def test_starters(request: Request, body: TestBody):
    master = _validate(body.master)
    if isinstance(master, JSONResponse):
        return master
    engine = _hall(request).engine
    params = SamplingParams(max_tokens=body.max_tokens)
    return _stream(lambda put, stop: run_starters(engine, master, put, langs=body.langs, params=params, stop=stop))


@router.post("/preview", summary="Chat with a draft; each turn shows exactly what the model receives (SSE)")
async def preview_turn(request: Request, body: PreviewBody):
    master = _validate(body.master)
    if isinstance(master, JSONResponse):
        return master
    history = [ChatMessage(m["role"], str(m.get("content", ""))) for m in body.history if m.get("role") in ("user", "assistant")]
    engine = _hall(request).engine
    params = SamplingParams(temperature=body.temperature, max_tokens=body.max_tokens)
    return _stream(lambda put, stop: preview(engine, master, history, body.content, put, params=params, stop=stop))


@router.post("/masters/{master_id}/files", status_code=201, summary="Attach a file (private unless made downloadable)")
async def upload_file(request: Request, master_id: str, file: UploadFile, downloadable: bool = False):
    data = await file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return api_error(413, "too_large", f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
    repo = _hall(request).store.masters
    try:
        saved = await run_in_threadpool(repo.add_file, master_id, _safe_filename(file.filename), data,
                                        file.content_type or "application/octet-stream", downloadable)
    except NotFoundError as exc:
        return api_error(404, "not_found", str(exc))
    return saved.to_dict()


@router.get("/masters/{master_id}/files", summary="Files attached to a user master (metadata)")
def list_files(request: Request, master_id: str) -> list[dict]:
    return [f.to_dict() for f in _hall(request).store.masters.files(master_id)]


class FileFlags(BaseModel):
    downloadable: bool


@router.patch("/files/{file_id}", summary="Let chat users download a file, or not")
def set_file_flags(request: Request, file_id: int, body: FileFlags):
    try:
        return _hall(request).store.masters.set_downloadable(file_id, body.downloadable).to_dict()
    except NotFoundError as exc:
        return api_error(404, "not_found", str(exc))


@router.get("/files/{file_id}/download", summary="The creator's download of an attached file")
def creator_download(request: Request, file_id: int):
    f = _hall(request).store.masters.file(file_id, with_content=True)
    if f is None:
        return api_error(404, "not_found", f"file {file_id} not found")
    return _download(f)


public_router = APIRouter(prefix="/api", tags=["api"])


@public_router.get("/masters/{master_id}/files/{file_id}", summary="A chat user's download: only files the creator made downloadable")
def public_download(request: Request, master_id: str, file_id: int):
    f = _hall(request).store.masters.file(file_id, with_content=True)
    if f is None or f.master_id != master_id or not f.downloadable:
        return api_error(404, "not_found", "no downloadable file here")
    return _download(f)


@router.post("/import", summary="Import masters from a file (card JSON/PNG, LobeChat, NextChat, YAML/JSON, CSV/JSONL/Parquet)")
async def import_file(request: Request, file: UploadFile, format: str = "auto", category: str | None = None,
                      publish: bool = False, dry_run: bool = False):
    from ..interop import MAX_FILE_BYTES as MAX_IMPORT_BYTES, InteropError, import_bytes, store_import

    data = await file.read(MAX_IMPORT_BYTES + 1)
    h = _hall(request)
    try:
        result = await run_in_threadpool(import_bytes, data, file.filename, fmt=format, category=category,
                                         reserved_ids=set(h.catalog.builtin_ids))
    except InteropError as exc:
        return api_error(400, "invalid_file", str(exc))
    report = {"format": result.format, "masters": [m.id for m in result.masters],
              "rejected": [str(r) for r in result.rejected], "notes": list(result.notes)}
    if result.rejected:
        return api_error(422, "rejected_records", f"{len(result.rejected)} record(s) rejected; nothing was imported", **report)
    if dry_run:
        return {**report, "stored": 0}
    try:
        stored = await run_in_threadpool(store_import, result, h.store.masters, publish=publish, catalog=h.catalog)
    except InteropError as exc:
        return api_error(400, "invalid_file", str(exc))
    return {**report, "stored": stored}


@public_router.get("/masters/{master_id}/export", summary="A master in another format (card-json, card-png, lobechat, nextchat, yaml, json)")
def export(request: Request, master_id: str, format: str = "json"):
    from ..interop import EXPORT_FORMATS, InteropError, export_master

    h = _hall(request)
    master = h.catalog.masters.get(master_id) or (um.master if (um := h.library.get(master_id)) else None)
    if master is None:
        return api_error(404, "unknown_master", f"Unknown master '{master_id}'.")
    if format not in EXPORT_FORMATS:
        return api_error(400, "invalid_format", f"format must be one of {', '.join(EXPORT_FORMATS)}")
    try:
        content, content_type, filename = export_master(master, format)
    except InteropError as exc:
        return api_error(400, "invalid_format", str(exc))
    return Response(content, media_type=content_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
