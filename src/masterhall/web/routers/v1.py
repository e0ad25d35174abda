"""The OpenAI-compatible API under ``/v1``: every master is a model.

``model`` = a master id applies that master's instructions, examples, backend and parameters
(a client's own system messages are added after the master's, not instead of it); ``model`` = a
backend name talks to that backend with the client's messages as they are. Turns run through
the chat service like every other turn (not stored), streamed with the same SSE helper.

``finish_reason`` is OpenAI's: ``length`` when the answer stopped at ``max_tokens`` (it is cut,
not complete), else ``stop``. The hall's own reasons, which OpenAI clients do not know — ``loop``
(the hall ended an answer that kept repeating itself), ``guard`` (the safety guard answered),
``error``, ``cancelled`` — go out as ``stop``, with the real one in the extension field
``native_finish_reason`` of the choice (the name OpenRouter uses for the same thing) and, for a
response that is not streamed, in the header ``X-MasterHall-Finish-Reason``.

``model`` = ``roundtable:ID,ID,...`` seats those masters at a round table (nothing stored): each
speaker's reply comes in turn in the one assistant message, each opened by a label line with the
speaker's name in bold (``**Socrates** 🏛️``); usage adds up every reply, and the non-streaming
body's ``masterhall.speakers`` lists ``{"master", "text", "usage"}`` per reply.

When earlier messages are left out to fit the master's context window, the response says so:
the header ``X-MasterHall-History-Dropped: N`` (on every master response, ``0`` when nothing was
left out) and a ``masterhall`` object (``{"history_dropped": N, "notes": [...]}``) in the
non-streaming body and in the first chunk of a stream (see the README, *OpenAI-compatible API*).
"""

from __future__ import annotations

import time
import uuid
from typing import Iterable

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ...backends.base import ChatMessage
from ...catalog.models import SamplingParams
from ...conversations.turns import Event, Generation, Listener
from ...errors import InvalidRequestError
from ..deps import HallDep
from ..errors import openai_backend_error
from ..openai_protocol import ChatCompletionRequest, ModelCard, ModelList, error_body
from ..sse import event_stream, json_around, sse, text_frame
from .schemas import OPENAI_ERRORS, SSE_EVENT_SCHEMA

router = APIRouter(prefix="/v1", tags=["openai"])

#: Response header: how many of the client's earlier messages were left out to fit the context window.
DROPPED_HEADER = "X-MasterHall-History-Dropped"


def _context_headers(gen: Generation) -> dict[str, str]:
    return {DROPPED_HEADER: str(gen.context.get("dropped_turns", 0))}


def _extension(gen: Generation) -> dict:
    """The ``masterhall`` object of a response: what the prompt left out."""
    return {"history_dropped": gen.context.get("dropped_turns", 0), "notes": list(gen.context.get("notes", []))}


@router.get("/models", response_model=ModelList, summary="Every master (and raw backend) as a model")
def list_models(hall: HallDep) -> ModelList:
    cards = [ModelCard(id=m.id, owned_by="masterhall", name=m.name.en, description=m.tagline.en) for m in hall.catalog]
    cards += [ModelCard(id=name, owned_by="backend", name=name) for name in hall.registry.names() if name not in hall.catalog]
    return ModelList(data=cards)


def _split(body: ChatCompletionRequest) -> tuple[str | None, list[ChatMessage], str]:
    system = [m.text() for m in body.messages if m.role in ("system", "developer") and m.text().strip()]
    convo = [ChatMessage(m.role, m.text()) for m in body.messages if m.role in ("user", "assistant")]
    if not convo or convo[-1].role != "user":
        raise InvalidRequestError("The last message must be a non-empty user message.")
    return ("\n\n".join(system) or None), convo[:-1], convo[-1].content


#: The ``model`` prefix of a round table: ``roundtable:socrates,laozi``.
ROUNDTABLE = "roundtable:"


def _start(hall, body: ChatCompletionRequest):
    params = SamplingParams(temperature=body.temperature, top_p=body.top_p,
                            max_tokens=body.max_completion_tokens or body.max_tokens, seed=body.seed,
                            stop=body.stop_sequences(), frequency_penalty=body.frequency_penalty,
                            presence_penalty=body.presence_penalty)
    client_system, history, last = _split(body)
    table = body.model.startswith(ROUNDTABLE)
    if table:
        ids = [i.strip() for i in body.model[len(ROUNDTABLE):].split(",") if i.strip()]
        try:  # a bad table is a bad model: said about `model`, before anything starts
            hall.roundtable.seat(ids)
        except InvalidRequestError as exc:
            raise InvalidRequestError(str(exc), code="invalid_model", param="model") from exc

    def start(listener: Listener) -> Generation:
        if table:
            return hall.roundtable.complete(ids, history, last, params=params, listener=listener,
                                            client_system=client_system)
        return hall.chat.complete(body.model, history, last, client_system=client_system, params=params, listener=listener)

    return start


def _label(data: dict, first: bool) -> str:
    """The line that opens a speaker's reply in a round table's one message."""
    return ("" if first else "\n\n") + f"**{data['name']}** {data.get('avatar') or ''}".rstrip() + "\n\n"


class _Round:
    """Adds up a round table's replies for the one completion: the text with each speaker's label,
    the usage of every reply, and ``speakers`` (``{"master", "text", "usage"}``)."""

    def __init__(self):
        self.parts: list[str] = []
        self.speakers: list[dict] = []
        self.errors: list[Event] = []

    def add(self, event: Event) -> str | None:
        """Take ``event``; returns the label text to send when it opens a speaker's reply."""
        if event.type == "speaker":
            label = _label(event.data, not self.speakers)
            self.speakers.append({"master": event.data["master_id"], "text": "", "usage": None})
            self.parts.append(label)
            return label
        if event.type == "delta" and self.speakers:
            self.parts.append(event.data["text"])
            self.speakers[-1]["text"] += event.data["text"]
        elif event.type in ("done", "error") and self.speakers:
            self.speakers[-1]["usage"] = event.data.get("usage")
            if event.type == "error":
                self.errors.append(event)
        elif event.type == "error":
            self.errors.append(event)
        return None

    def final(self) -> Event:
        """One ``done`` (or ``error`` when nothing came back) with the whole text and summed usage."""
        usage: dict = {"prompt_tokens": 0, "completion_tokens": 0, "finish_reason": "stop"}
        for spoke in self.speakers:
            u = spoke["usage"] or {}
            usage["prompt_tokens"] += u.get("prompt_tokens") or 0
            usage["completion_tokens"] += u.get("completion_tokens") or 0
            if u.get("finish_reason") not in (None, "stop"):
                usage["finish_reason"] = u["finish_reason"]
        text = "".join(self.parts)
        if self.errors and not any(s["text"] for s in self.speakers):
            return Event("error", {**self.errors[-1].data, "usage": usage, "text": text})
        return Event("done", {"text": text, "usage": usage})


class _Started:
    """Remembers the generation a start function returned (for the stream's first chunk)."""

    def __init__(self, start):
        self._start = start
        self.gen: Generation | None = None

    def __call__(self, listener: Listener) -> Generation:
        self.gen = self._start(listener)
        return self.gen


def _usage(usage: dict | None) -> dict:
    usage = usage or {}
    prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _outcome(final: Event | None) -> tuple[dict | None, str | None]:
    """The usage of a finished turn and its error message (``None`` when it did not fail)."""
    if final is None:
        return None, None
    usage = final.data.get("usage")
    if final.type == "error":
        return usage, final.data.get("message") or "the backend failed"
    if usage and usage.get("finish_reason") == "error":
        return usage, usage.get("error") or "the backend failed"
    return usage, None


#: Header of a non-streamed completion with the hall's own finish reason.
FINISH_HEADER = "X-MasterHall-Finish-Reason"


def _finish_reason(usage: dict | None) -> str:
    """OpenAI's ``finish_reason``: ``length`` passes through, every other reason is ``stop``."""
    return "length" if _native_reason(usage) == "length" else "stop"


def _native_reason(usage: dict | None) -> str:
    """The hall's own finish reason (``stop``, ``length``, ``loop``, ``guard``, ``error``, ``cancelled``)."""
    return (usage or {}).get("finish_reason") or "stop"


@router.post("/chat/completions", summary="Chat with a master (OpenAI-compatible, streaming or not)", responses={
    200: {"content": {"application/json": {}, "text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
          "description": "The completion, or its chunks as Server-Sent Events when `stream` is true"},
    **OPENAI_ERRORS})
async def chat_completions(hall: HallDep, body: ChatCompletionRequest):
    created = int(time.time())
    completion_id = "chatcmpl-" + uuid.uuid4().hex
    start = _Started(_start(hall, body))
    if not body.stream:
        return await run_in_threadpool(_collect, start, body.model, created, completion_id)

    def chunk(delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True,
              native: str | None = None, extension: dict | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, **({"native_finish_reason": native} if native else {})}
        data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": body.model,
                "choices": [choice] if choices else []}
        if usage is not None:
            data["usage"] = usage
        if extension is not None:
            data["masterhall"] = extension
        return sse(None, data)

    def opening() -> Iterable[str]:  # read once the turn has started: its prompt is known
        yield chunk({"role": "assistant", "content": ""}, extension=_extension(start.gen))

    final: list[Event] = []
    table = _Round() if body.model.startswith(ROUNDTABLE) else None
    around = json_around(None, {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": body.model,
                                "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": None}]},
                         ("choices", 0, "delta", "content"))

    def frames(event: Event) -> Iterable[str]:
        label = table.add(event) if table is not None else None
        if label:
            yield text_frame(around[0], label, around[1])
        if event.type == "delta":
            yield text_frame(around[0], event.data["text"], around[1])
        elif event.type in ("done", "error") and table is None:
            final.append(event)
        elif event.type == "round" and table is not None:
            final.append(table.final())

    def closing() -> Iterable[str]:
        usage, error = _outcome(final[-1] if final else None)
        if error is not None:
            yield sse(None, error_body(error, "server_error", "backend_error"))
        yield chunk({}, _finish_reason(usage), native=_native_reason(usage))
        if body.stream_options and body.stream_options.include_usage:
            yield chunk({}, usage=_usage(usage), choices=False)
        yield sse(None, "[DONE]")

    return await event_stream(hall.pool, start, frames, opening=opening(), closing=closing, headers=_context_headers)


def _collect(start, model: str, created: int, completion_id: str) -> JSONResponse:
    table = _Round() if model.startswith(ROUNDTABLE) else None
    gen = start(lambda event: table.add(event) if table is not None and event is not None else None)
    gen.done.wait()
    last = table.final() if table is not None else gen.final
    usage, error = _outcome(last)
    text = (last.data.get("text") if last is not None else None) or ""
    if error is not None and not text:  # the backend failed before any text: an HTTP error, by its kind
        return openai_backend_error(error, last.data.get("code", "internal") if last is not None else "internal")
    extension = _extension(gen)
    if table is not None:
        extension["speakers"] = table.speakers
    return JSONResponse({
        "id": completion_id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": _finish_reason(usage),
                     "native_finish_reason": _native_reason(usage)}],
        "usage": _usage(usage),
        "masterhall": extension,
    }, headers={FINISH_HEADER: _native_reason(usage), **_context_headers(gen)})
