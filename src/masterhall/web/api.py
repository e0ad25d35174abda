"""The native JSON API under ``/api``: masters, conversations, and messages streamed as SSE.

A message stream is ``text/event-stream`` with typed events: ``start`` (conversation and
message ids), ``loading`` (the model is still loading), ``delta`` (``{"text"}``), then ``done``
(status, usage) or ``error`` (``{"code", "message"}``; the partial answer is kept).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from ..catalog.loader import UnknownMasterError
from ..catalog.models import SamplingParams
from ..conversations.export import to_json, to_markdown
from ..conversations.service import InvalidMessageError
from ..store.repos import NotFoundError
from .services import Hall
from .sse import ThreadBridge, guarded, sse

router = APIRouter(prefix="/api", tags=["api"])


def hall(request: Request) -> Hall:
    return request.app.state.hall


class ApiError(BaseModel):
    """``{"error": {"code", "message"}}``"""

    error: dict


class SendMessage(BaseModel):
    """A new user message: in ``conversation_id``, or in a new conversation with ``master_id``."""

    content: str = Field(description="The user's message (1–32,000 characters).")
    master_id: str | None = None
    conversation_id: str | None = None
    backend: str | None = Field(default=None, description="Backend name (default: the master's, then the hall's).")
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)


class EditMessage(BaseModel):
    """New text for the last user message of a conversation."""

    content: str


class Rename(BaseModel):
    """A conversation's new title."""

    title: str = Field(min_length=1, max_length=200)


def api_error(status: int, code: str, message: str, **extra) -> JSONResponse:
    """The /api error shape: ``{"error": {"code", "message", …extra}}`` with ``status``."""
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)



async def _stream(request: Request, start) -> Response:
    """Start a generation (storing the user's message first) with its events bridged to SSE."""
    bridge = ThreadBridge()
    h = hall(request)
    try:
        gen = await run_in_threadpool(start, bridge.put)
    except InvalidMessageError as exc:
        return api_error(400, "invalid_message", str(exc))
    except NotFoundError as exc:
        return api_error(404, "not_found", str(exc))

    async def frames():
        async for event in bridge.items():
            if event.type == "done":
                event.data["html"] = h.render(event.data.get("text", ""))
            yield sse(event.type, event.data)

    def abort() -> None:
        if not gen.done.is_set():
            gen.stop("the client disconnected")

    return StreamingResponse(guarded(frames(), abort), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _params(body: SendMessage) -> SamplingParams:
    return SamplingParams(temperature=body.temperature, max_tokens=body.max_tokens)


@router.get("/status", summary="Server and model status")
def status(request: Request) -> dict:
    h = hall(request)
    return {"model": h.loader.to_dict(), "backend": h.registry.default_name}


@router.get("/masters", summary="List the masters")
def list_masters(request: Request, category: str | None = None) -> list[dict]:
    return [
        m.model_dump(include={"id", "category", "avatar", "name", "tagline", "tags"})
        for m in hall(request).catalog.advisors(category)
    ]


@router.get("/masters/{master_id}", summary="One master, all fields", responses={404: {"model": ApiError}})
def get_master(request: Request, master_id: str):
    try:
        return hall(request).catalog.get(master_id).model_dump()
    except UnknownMasterError as exc:
        return api_error(404, "unknown_master", str(exc))


class MatchQuery(BaseModel):
    """A free-text need for the Master Finder."""

    q: str = Field(description="What the person needs, in any language (at most 10,000 characters).")
    k: int = Field(default=5, ge=1, le=20)
    lang: Literal["zh", "en"] | None = None


def _match(request: Request, body: MatchQuery):
    from ..finder import FinderQueryError

    h = hall(request)
    try:
        matches = h.finder.get().match(body.q, k=body.k, lang=body.lang)
    except FinderQueryError as exc:
        return api_error(400, "invalid_query", str(exc))
    out = []
    for m in matches:
        master = h.catalog.masters.get(m.master_id)
        if master is None:
            continue
        out.append({**m.to_dict(), "id": m.master_id, "avatar": master.avatar, "tagline": master.tagline.get(m.lang),
                    "category": master.category})
    return {"query": body.q, "matches": out}


@router.get("/match", summary="Master Finder: the masters who fit a need, best first, each with a reason",
            responses={400: {"model": ApiError}})
def match_get(request: Request, q: str = Query("", description="The need, free text."), k: int = Query(5, ge=1, le=20),
              lang: Literal["zh", "en"] | None = None):
    return _match(request, MatchQuery(q=q, k=k, lang=lang))


@router.post("/match", summary="Master Finder for long needs (same answer as GET)", responses={400: {"model": ApiError}})
def match_post(request: Request, body: MatchQuery):
    return _match(request, body)


@router.get("/conversations", summary="List conversations, newest first")
def list_conversations(
    request: Request,
    q: str | None = Query(None, description="Search titles (case-insensitive)."),
    master_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict]:
    return [c.to_dict() for c in hall(request).store.conversations.list(search=q, master_id=master_id, limit=limit, offset=offset)]


@router.get("/conversations/{conversation_id}", summary="A conversation with its messages", responses={404: {"model": ApiError}})
def get_conversation(request: Request, conversation_id: str):
    h = hall(request)
    conv = h.store.conversations.get(conversation_id)
    if conv is None:
        return api_error(404, "not_found", f"conversation {conversation_id} not found")
    messages = []
    for m in h.store.conversations.messages(conversation_id):
        data = m.to_dict()
        data["html"] = h.render(m.content) if m.role == "assistant" else None
        messages.append(data)
    active = h.chat.active(conversation_id)
    return {"conversation": conv.to_dict(), "messages": messages, "generating": active is not None}


@router.patch("/conversations/{conversation_id}", summary="Rename a conversation", responses={404: {"model": ApiError}})
def rename_conversation(request: Request, conversation_id: str, body: Rename):
    try:
        return hall(request).store.conversations.rename(conversation_id, body.title).to_dict()
    except NotFoundError as exc:
        return api_error(404, "not_found", str(exc))


@router.delete("/conversations/{conversation_id}", status_code=204, summary="Delete a conversation", responses={404: {"model": ApiError}})
def delete_conversation(request: Request, conversation_id: str):
    h = hall(request)
    h.chat.stop(conversation_id)
    if not h.store.conversations.delete(conversation_id):
        return api_error(404, "not_found", f"conversation {conversation_id} not found")
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/export", summary="Export as Markdown or JSON", responses={404: {"model": ApiError}})
def export_conversation(request: Request, conversation_id: str, format: Literal["md", "json"] = "md", lang: Literal["zh", "en"] = "en"):
    h = hall(request)
    conv = h.store.conversations.get(conversation_id)
    if conv is None:
        return api_error(404, "not_found", f"conversation {conversation_id} not found")
    messages = h.store.conversations.messages(conversation_id)
    master = h.catalog.masters.get(conv.master_id)
    name = f"masterhall-{conv.master_id}-{conv.id[:8]}"
    if format == "json":
        return JSONResponse(to_json(conv, messages, master), headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    return PlainTextResponse(to_markdown(conv, messages, master, lang), media_type="text/markdown; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}.md"'})


@router.post("/messages", summary="Send a message; the answer streams as Server-Sent Events",
             responses={200: {"content": {"text/event-stream": {}}}, 400: {"model": ApiError}, 404: {"model": ApiError}})
async def send_message(request: Request, body: SendMessage):
    chat = hall(request).chat
    return await _stream(request, lambda listener: chat.send(
        body.content, master_id=body.master_id, conversation_id=body.conversation_id,
        backend=body.backend, params=_params(body), listener=listener))


@router.post("/conversations/{conversation_id}/regenerate", summary="Generate the last answer again (SSE)",
             responses={200: {"content": {"text/event-stream": {}}}, 400: {"model": ApiError}, 404: {"model": ApiError}})
async def regenerate(request: Request, conversation_id: str):
    chat = hall(request).chat
    return await _stream(request, lambda listener: chat.regenerate(conversation_id, listener=listener))


@router.post("/conversations/{conversation_id}/edit", summary="Edit the last user message and resend it (SSE)",
             responses={200: {"content": {"text/event-stream": {}}}, 400: {"model": ApiError}, 404: {"model": ApiError}})
async def edit_last(request: Request, conversation_id: str, body: EditMessage):
    chat = hall(request).chat
    return await _stream(request, lambda listener: chat.edit_last(conversation_id, body.content, listener=listener))


@router.post("/conversations/{conversation_id}/stop", summary="Stop the answer being generated")
def stop(request: Request, conversation_id: str) -> dict:
    return {"stopped": hall(request).chat.stop(conversation_id)}


