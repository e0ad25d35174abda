"""Try a draft master before publishing: run all its conversation starters, or preview a chat
with full debug information (exactly what the model receives). Nothing here is stored."""

from __future__ import annotations

import threading
from typing import Callable, Sequence

from ..backends.base import ChatMessage, Usage
from ..catalog.models import Master, SamplingParams
from ..chat.engine import ChatEngine
from ..conversations.service import Event

Listener = Callable[[Event | None], None]


def debug_info(engine: ChatEngine, turn, master: Master, backend: str | None, params: SamplingParams | None) -> dict:
    """What a turn sends: messages with token counts, the context window, what was left out,
    the backend, model and merged sampling parameters."""
    chosen, merged = engine.resolve(master, backend, params)
    info = {"backend": chosen.name, "model": chosen.model, "params": merged.model_dump(exclude_none=True)}
    prompt = turn.prompt
    if prompt is None:
        info.update(messages=[], guard=True)
        return info
    info.update(
        messages=[{"role": m.role, "content": m.content, "tokens": t} for m, t in zip(prompt.messages, prompt.tokens)],
        prompt_tokens=prompt.prompt_tokens, context_window=prompt.context_window, reply_reserve=prompt.reply_reserve,
        dropped_turns=prompt.dropped_turns, dropped_examples=prompt.dropped_examples, notes=prompt.notes, guard=False,
    )
    return info


def _usage(turn) -> dict:
    return (turn.reply.usage if turn.reply else Usage(finish_reason="cancelled")).to_dict()


def preview(
    engine: ChatEngine,
    master: Master,
    history: Sequence[ChatMessage],
    content: str,
    listener: Listener,
    *,
    backend: str | None = None,
    params: SamplingParams | None = None,
    stop: threading.Event | None = None,
) -> threading.Thread:
    """Run one preview turn with ``master`` (a draft) in a thread; events to ``listener``:
    ``debug`` (see :func:`debug_info`), ``delta``, then ``done`` (text, usage) or ``error``; then ``None``."""

    def run() -> None:
        try:
            turn = engine.stream(master, history, content, backend=backend, params=params)
            listener(Event("debug", debug_info(engine, turn, master, backend, params)))
            for delta in turn:
                listener(Event("delta", {"text": delta}))
                if stop is not None and stop.is_set():
                    turn.close()
                    break
            listener(Event("done", {"text": turn.reply.text, "usage": _usage(turn), "notes": turn.reply.notes}))
        except Exception as exc:  # noqa: BLE001 - reported to the creator
            listener(Event("error", {"message": str(exc), "code": getattr(exc, "kind", "invalid")}))
        finally:
            listener(None)

    thread = threading.Thread(target=run, name="preview", daemon=True)
    thread.start()
    return thread


def run_starters(
    engine: ChatEngine,
    master: Master,
    listener: Listener,
    *,
    langs: Sequence[str] = ("zh", "en"),
    backend: str | None = None,
    params: SamplingParams | None = None,
    stop: threading.Event | None = None,
) -> threading.Thread:
    """One-click test: answer every conversation starter of ``master`` (in ``langs``) at once.

    Events carry ``index`` (position in the list sent first): ``starters`` (``[{index, lang, text}]``),
    then per starter ``delta`` / ``done`` / ``error``; ``None`` after the last one ends. The
    starters run concurrently; the llama.cpp backend batches them in its parallel slots.
    """
    items = [(lang, text) for lang in langs for text in master.starters.get(lang)]
    listener(Event("starters", {"starters": [{"index": i, "lang": lang, "text": text} for i, (lang, text) in enumerate(items)]}))
    lock = threading.Lock()

    def emit(event: Event) -> None:
        with lock:
            listener(event)

    def one(index: int, text: str) -> None:
        try:
            turn = engine.stream(master, [], text, backend=backend, params=params)
            for delta in turn:
                emit(Event("delta", {"index": index, "text": delta}))
                if stop is not None and stop.is_set():
                    turn.close()
                    break
            emit(Event("done", {"index": index, "text": turn.reply.text, "usage": _usage(turn)}))
        except Exception as exc:  # noqa: BLE001
            emit(Event("error", {"index": index, "message": str(exc)}))

    def run() -> None:
        workers = [threading.Thread(target=one, args=(i, text), daemon=True) for i, (_, text) in enumerate(items)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        listener(None)

    thread = threading.Thread(target=run, name="starters", daemon=True)
    thread.start()
    return thread
