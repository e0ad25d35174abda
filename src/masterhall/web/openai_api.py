"""The OpenAI-compatible API under ``/v1``: every master is a model.

``model`` = a master id applies that master's instructions, examples, backend and parameters
(a client's own system messages are added after the master's, not instead of it); ``model`` = a
backend name talks to that backend with the client's messages as they are.
"""

from __future__ import annotations

import threading
import time
import uuid

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from ..backends.base import BackendError, ChatMessage, Usage
from ..catalog.models import SamplingParams
from ..chat.prompt import ContextTooLongError
from .openai_protocol import ChatCompletionRequest, ModelCard, ModelList, error_body
from .services import Hall
from .sse import ThreadBridge, guarded, sse

router = APIRouter(prefix="/v1", tags=["openai"])


def _hall(request: Request) -> Hall:
    return request.app.state.hall


def openai_error(status: int, message: str, type_: str = "invalid_request_error", code: str | None = None, param: str | None = None) -> JSONResponse:
    """A JSON error response in OpenAI's shape."""
    return JSONResponse(error_body(message, type_, code, param), status_code=status)


@router.get("/models", response_model=ModelList, summary="Every master (and raw backend) as a model")
def list_models(request: Request) -> ModelList:
    h = _hall(request)
    cards = [ModelCard(id=m.id, owned_by="masterhall", name=m.name.en, description=m.tagline.en) for m in h.catalog]
    cards += [ModelCard(id=name, owned_by="backend", name=name) for name in h.registry.names() if name not in h.catalog]
    return ModelList(data=cards)


def _split(body: ChatCompletionRequest) -> tuple[str | None, list[ChatMessage], str]:
    system = [m.text() for m in body.messages if m.role in ("system", "developer") and m.text().strip()]
    convo = [ChatMessage(m.role, m.text()) for m in body.messages if m.role in ("user", "assistant")]
    if not convo or convo[-1].role != "user" or not convo[-1].content.strip():
        raise ValueError("The last message must be a non-empty user message.")
    return ("\n\n".join(system) or None), convo[:-1], convo[-1].content


def _start(h: Hall, body: ChatCompletionRequest):
    """Return a sync iterator of deltas then Usage, for a master or a raw backend."""
    params = SamplingParams(temperature=body.temperature, top_p=body.top_p,
                            max_tokens=body.max_completion_tokens or body.max_tokens, seed=body.seed)
    client_system, history, last = _split(body)
    if body.model in h.catalog:
        turn = h.engine.stream(body.model, history, last, params=params, client_system=client_system)
        return iter(_with_usage(turn))
    backend = h.registry.get(body.model)
    messages = ([ChatMessage("system", client_system)] if client_system else []) + history + [ChatMessage("user", last)]
    return iter(backend.stream_chat(messages, h.settings.params.merged(params)))


def _with_usage(turn):
    yield from turn
    yield turn.reply.usage


def _finish_reason(usage: Usage | None) -> str:
    return "length" if usage and usage.finish_reason == "length" else "stop"


def _usage_dict(usage: Usage | None) -> dict:
    if usage is None:
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens, "total_tokens": usage.total_tokens}


def _failure(exc: Exception) -> JSONResponse:
    if isinstance(exc, ContextTooLongError):
        return openai_error(400, str(exc), code="context_length_exceeded", param="messages")
    if isinstance(exc, BackendError):
        status = {"unavailable": 503, "context_length": 400, "bad_request": 400}.get(exc.kind, 500)
        code = "context_length_exceeded" if exc.kind == "context_length" else exc.kind
        if exc.kind == "unavailable" and "Unknown backend" in str(exc):
            return openai_error(404, f"The model '{str(exc).split(chr(39))[1]}' does not exist.", code="model_not_found", param="model")
        return openai_error(status, str(exc), type_="server_error" if status >= 500 else "invalid_request_error", code=code)
    if isinstance(exc, ValueError):
        return openai_error(400, str(exc), param="messages")
    return openai_error(500, f"internal error: {exc}", type_="server_error")


@router.post("/chat/completions", summary="Chat with a master (OpenAI-compatible, streaming or not)")
async def chat_completions(request: Request, body: ChatCompletionRequest):
    h = _hall(request)
    if body.model not in h.catalog and body.model not in h.registry.names():
        return openai_error(404, f"The model '{body.model}' does not exist. GET /v1/models lists the masters.",
                            code="model_not_found", param="model")
    created = int(time.time())
    completion_id = "chatcmpl-" + uuid.uuid4().hex
    try:
        stream = await run_in_threadpool(_start, h, body)
    except Exception as exc:  # noqa: BLE001 - mapped to OpenAI's error shape
        return _failure(exc)
    if not body.stream:
        return await run_in_threadpool(_collect, stream, body.model, created, completion_id)
    return _streaming(stream, body, created, completion_id)


def _collect(stream, model: str, created: int, completion_id: str) -> JSONResponse:
    parts: list[str] = []
    usage: Usage | None = None
    for item in stream:
        if isinstance(item, Usage):
            usage = item
        else:
            parts.append(item)
    if usage is not None and usage.finish_reason == "error" and not parts:
        return openai_error(502, usage.error or "the backend failed", type_="server_error", code="backend_error")
    return JSONResponse({
        "id": completion_id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(parts)}, "finish_reason": _finish_reason(usage)}],
        "usage": _usage_dict(usage),
    })


def _streaming(stream, body: ChatCompletionRequest, created: int, completion_id: str) -> StreamingResponse:
    bridge = ThreadBridge()
    stop = threading.Event()

    def pump() -> None:
        try:
            for item in stream:
                bridge.put(item)
                if stop.is_set():
                    break
        except Exception as exc:  # noqa: BLE001
            bridge.put(Usage(finish_reason="error", error=str(exc)))
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
            bridge.put(None)

    threading.Thread(target=pump, name="v1-stream", daemon=True).start()

    def chunk(delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True) -> str:
        data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": body.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []}
        if usage is not None:
            data["usage"] = usage
        return sse(None, data)

    async def frames():
        yield chunk({"role": "assistant", "content": ""})
        usage: Usage | None = None
        async for item in bridge.items():
            if isinstance(item, Usage):
                usage = item
            else:
                yield chunk({"content": item})
        if usage is not None and usage.finish_reason == "error":
            yield sse(None, error_body(usage.error or "the backend failed", "server_error", "backend_error"))
        yield chunk({}, _finish_reason(usage))
        if body.stream_options and body.stream_options.include_usage:
            yield chunk({}, usage=_usage_dict(usage), choices=False)
        yield sse(None, "[DONE]")

    return StreamingResponse(guarded(frames(), stop.set), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
