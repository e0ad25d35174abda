"""``/api`` conversations: list, read, rename, delete, export, and messages streamed as SSE.

A message stream is ``text/event-stream`` with typed events: ``start`` (conversation and
message ids), ``loading`` (the model is still loading), ``context`` (``{"dropped_turns",
"notes"}``: what the prompt left out to fit the context window, before the answer; only when
something was), ``delta`` (``{"text"}``), then ``done`` (status, ``finish_reason``, usage, the
answer as sanitized ``html``) or ``error`` (``{"code", "message"}``; the partial answer is kept).
An answer whose ``finish_reason`` is ``length`` was cut at the token limit;
``…/messages/{id}/continue`` streams the rest into the same message.
"""

from __future__ import annotations

from typing import Annotated, Iterable, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field, model_validator

from ...catalog.models import SamplingParams
from ...conversations.live import follow
from ...conversations.turns import Event
from ...inputs import DbId, DbInt, Text, Title
from ..deps import CallerDep, HallDep, RenderDep
from ..guide import guide_cards
from ..render import MarkdownRenderer
from ..sse import event_stream, json_around, sse, text_frame
from .schemas import EventStream, errors, files, stream

router = APIRouter(prefix="/api", tags=["api"])


class SendMessage(BaseModel):
    """A new user message: in ``conversation_id``, or in a new conversation with ``master_id`` —
    or a new round table with ``master_ids``."""

    content: Text = Field(description="The user's message (1–32,000 characters).")
    master_id: Text | None = None
    master_ids: list[Text] | None = Field(default=None, max_length=8,
                                          description="Start a round table with these masters (2–4; it may grow to 8).")
    conversation_id: Text | None = None
    rounds: int = Field(default=1, ge=1, le=3, description="Rounds of a round table in a row (each master may speak again).")
    backend: Text | None = Field(default=None, description="Backend name (default: the master's, then the hall's).")
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)

    @model_validator(mode="after")
    def _one_way_to_name_the_masters(self) -> "SendMessage":
        if self.master_ids and self.master_id:
            raise ValueError("Send master_id (one master) or master_ids (a round table), not both.")
        return self


class ContinueAnswer(BaseModel):
    """Optional settings for continuing an answer (default: the master's and the hall's)."""

    backend: Text | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32768, description="Tokens the continuation may add.")


class Members(BaseModel):
    """The masters seated at a conversation's round table, in order (one: a plain chat again)."""

    master_ids: list[Text] = Field(min_length=1, max_length=8)


class EditMessage(BaseModel):
    """New text for the last user message of a conversation."""

    content: Text


class Rename(BaseModel):
    """A conversation's new title."""

    title: Title = Field(description="1–200 characters; whitespace is collapsed, and a blank title is refused.")


#: The frame of a delta event around its text (see :func:`~masterhall.web.sse.text_frame`).
_DELTA = json_around("delta", {"text": ""}, ("text",))


def assistant_view(hall, render: MarkdownRenderer, content: str, recommendations, guide: bool) -> dict:
    """``{"html", "cards"}`` of an assistant answer: its sanitized HTML (a guide's answer with the
    real master ids it names linked, see :mod:`..render`) and a guide's master cards (see
    :func:`~masterhall.web.guide.guide_cards`; ``None`` for other answers)."""
    return {"html": render(content, link_masters=guide), "cards": guide_cards(recommendations, hall.catalog)}


def _frames(hall, render: MarkdownRenderer):
    guide = {"on": False}

    def frames(event: Event) -> Iterable[str]:
        if event.type == "delta" and len(event.data) == 1:
            yield text_frame(_DELTA[0], event.data["text"], _DELTA[1])
            return
        if event.type == "start":
            master = hall.catalog.masters.get(event.data.get("master_id") or "")
            guide["on"] = bool(master and master.is_guide)
        if event.type == "done":
            event.data.update(assistant_view(hall, render, event.data.get("text", ""), event.data.get("recommendations"),
                                             guide["on"] or event.data.get("recommendations") is not None))
        yield sse(event.type, event.data)

    return frames


@router.get("/conversations", summary="List conversations, newest first", responses=errors())
def list_conversations(
    hall: HallDep,
    caller: CallerDep,
    q: Annotated[Text | None, Query(description="Search titles (case-insensitive).")] = None,
    master_id: Text | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: DbInt = 0,
) -> list[dict]:
    return [c.to_dict() for c in hall.chat.list(search=q, master_id=master_id, limit=limit, offset=offset, caller=caller)]


@router.get("/conversations/{conversation_id}", summary="A conversation with its messages", responses=errors(404))
def get_conversation(hall: HallDep, caller: CallerDep, render: RenderDep, conversation_id: Text):
    transcript = hall.chat.get(conversation_id, caller=caller)
    master = hall.catalog.masters.get(transcript.conversation.master_id)
    guide = bool(master and master.is_guide)
    messages = []
    for m in transcript.messages:
        data = m.to_dict()
        data.update(assistant_view(hall, render, m.content, m.recommendations, guide) if m.role == "assistant"
                    else {"html": None, "cards": None})
        messages.append(data)
    return {"conversation": transcript.conversation.to_dict(), "messages": messages, "generating": transcript.generating,
            "stopping": transcript.stopping}


@router.patch("/conversations/{conversation_id}", summary="Rename a conversation", responses=errors(400, 404))
def rename_conversation(hall: HallDep, caller: CallerDep, conversation_id: Text, body: Rename):
    return hall.chat.rename(conversation_id, body.title, caller=caller).to_dict()


@router.delete("/conversations/{conversation_id}", status_code=204, summary="Delete a conversation", responses=errors(404))
def delete_conversation(hall: HallDep, caller: CallerDep, conversation_id: Text):
    hall.chat.delete(conversation_id, caller=caller)
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/export", summary="Export as Markdown or JSON",
            responses=files("text/markdown", "application/json"))
def export_conversation(hall: HallDep, caller: CallerDep, conversation_id: Text, format: Literal["md", "json"] = "md",
                        lang: Literal["zh", "en"] = "en"):
    export = hall.chat.export(conversation_id, format, lang, caller=caller)
    headers = {"Content-Disposition": f'attachment; filename="{export.filename}"'}
    if isinstance(export.body, dict):
        return JSONResponse(export.body, headers=headers)
    return PlainTextResponse(export.body, media_type=export.media_type, headers=headers)


@router.post("/messages", summary="Send a message; the answer streams as Server-Sent Events", responses=stream(404),
             response_class=EventStream)
async def send_message(hall: HallDep, caller: CallerDep, render: RenderDep, body: SendMessage):
    params = SamplingParams(temperature=body.temperature, max_tokens=body.max_tokens)
    return await event_stream(hall.pool, lambda listener: hall.roundtable.send(
        body.content, master_id=body.master_id, master_ids=body.master_ids, conversation_id=body.conversation_id,
        backend=body.backend, params=params, listener=listener, caller=caller, rounds=body.rounds), _frames(hall, render))


@router.post("/conversations/{conversation_id}/regenerate", summary="Generate the last answer again (SSE)",
             responses=stream(404), response_class=EventStream)
async def regenerate(hall: HallDep, caller: CallerDep, render: RenderDep, conversation_id: Text):
    return await event_stream(hall.pool, lambda listener: hall.roundtable.regenerate(conversation_id, listener=listener,
                                                                                     caller=caller),
                              _frames(hall, render))


@router.post("/conversations/{conversation_id}/edit", summary="Edit the last user message and resend it (SSE)",
             responses=stream(404), response_class=EventStream)
async def edit_last(hall: HallDep, caller: CallerDep, render: RenderDep, conversation_id: Text, body: EditMessage):
    return await event_stream(hall.pool, lambda listener: hall.roundtable.regenerate(
        conversation_id, new_text=body.content, listener=listener, caller=caller), _frames(hall, render))


@router.post("/conversations/{conversation_id}/messages/{message_id}/regenerate",
             summary="Generate one reply again, in place (a round table's reply, or any answer) (SSE)",
             responses=stream(404), response_class=EventStream)
async def regenerate_reply(hall: HallDep, caller: CallerDep, render: RenderDep, conversation_id: Text, message_id: DbId):
    """The same speaker answers again in the same place, hearing the replies before it in its
    round (those after it stay): ``start``, ``speaker``, deltas, ``done``, ``round``."""
    return await event_stream(hall.pool, lambda listener: hall.roundtable.regenerate_reply(
        conversation_id, message_id, listener=listener, caller=caller), _frames(hall, render))


@router.put("/conversations/{conversation_id}/members", summary="Seat masters at a conversation's round table",
            responses=errors(400, 404))
def set_members(hall: HallDep, caller: CallerDep, conversation_id: Text, body: Members) -> dict:
    """Add or remove masters mid-conversation: ``master_ids`` is the whole table, in order. One
    master makes it a plain chat with that master again. Returns the conversation."""
    return hall.roundtable.set_members(conversation_id, body.master_ids, caller=caller).to_dict()


@router.post("/conversations/{conversation_id}/messages/{message_id}/continue",
             summary="Continue an answer cut at the length limit, in the same message (SSE)",
             responses=stream(404, 409), response_class=EventStream)
async def continue_answer(hall: HallDep, caller: CallerDep, render: RenderDep, conversation_id: Text, message_id: DbId,
                          body: ContinueAnswer | None = None):
    """The continuation streams like a new answer: ``start`` (``continued: true``), deltas (the
    new text only), then ``done`` with the whole answer. 409 ``cannot_continue`` when the message
    is not the conversation's last answer or did not end with ``finish_reason`` ``length``."""
    body = body or ContinueAnswer()
    params = SamplingParams(temperature=body.temperature, max_tokens=body.max_tokens)
    return await event_stream(hall.pool, lambda listener: hall.chat.continue_answer(
        conversation_id, message_id, backend=body.backend, params=params, listener=listener, caller=caller),
        _frames(hall, render))


@router.get("/conversations/{conversation_id}/live", summary="Follow the answer being generated (SSE), from its start",
            responses=stream(404, 409), response_class=EventStream)
async def follow_answer(hall: HallDep, caller: CallerDep, render: RenderDep, conversation_id: Text):
    """The running answer's events as ``POST /api/messages`` streams them — ``start``, deltas, then
    ``done`` or ``error`` — from its first, wherever it runs (this process or, through Redis,
    another): for a page opened, or reopened, while the answer is generated. 409
    ``not_generating`` when none is. Closing this stream does not stop the answer."""
    return await event_stream(hall.pool, lambda listener: follow(hall.chat, conversation_id, listener, caller=caller),
                              _frames(hall, render))


@router.post("/conversations/{conversation_id}/stop", summary="Stop the answer being generated", responses=errors())
def stop(hall: HallDep, caller: CallerDep, conversation_id: Text) -> dict:
    """``{"stopped": true, "message_id", "text"}``: ``text`` is the answer as it is stored (the
    deltas sent before the stop; one still in flight is dropped), for a page that closes its
    stream at once; ``{"stopped": false}`` when no answer of the caller's was being generated."""
    gen = hall.chat.stop(conversation_id, caller=caller)
    if gen is None:
        return {"stopped": False}
    return {"stopped": True, "message_id": gen.assistant_message_id, "text": gen.text}
