"""Try a draft master before publishing: run all its conversation starters, or preview a chat
with full debug information (exactly what the model receives). Nothing here is stored.

Both run on the hall's :class:`~masterhall.conversations.TurnPool`, like every streamed turn,
report through a listener and return a :class:`~masterhall.conversations.Generation` to stop them.
"""

from __future__ import annotations

import threading
from typing import Sequence

from ..backends.base import ChatMessage, Usage
from ..catalog.models import Master, SamplingParams
from ..chat.engine import ChatEngine
from ..conversations.turns import Event, Generation, Listener, TurnPool


def debug_info(engine: ChatEngine, turn, master: Master, backend: str | None, params: SamplingParams | None) -> dict:
    """What a turn sends: messages with token counts, the context window, what was left out,
    the backend, model and merged sampling parameters, and the safety guard's record (``safety``:
    level, kind, rule or score, action; ``None`` for an ordinary turn)."""
    chosen, merged = engine.resolve(master, backend, params)
    info = {"backend": chosen.name, "model": chosen.model, "params": merged.model_dump(exclude_none=True),
            "safety": getattr(turn, "safety", None)}
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


class Trial:
    """Test runs of draft masters with ``engine``, on ``pool``'s threads."""

    def __init__(self, engine: ChatEngine, pool: TurnPool):
        self.engine = engine
        self.pool = pool

    def preview(
        self,
        master: Master,
        history: Sequence[ChatMessage],
        content: str,
        listener: Listener,
        *,
        backend: str | None = None,
        params: SamplingParams | None = None,
    ) -> Generation:
        """Run one preview turn with ``master`` (a draft); events to ``listener``: ``debug`` (see
        :func:`debug_info`), ``delta``, then ``done`` (text, usage) or ``error``; then ``None``."""
        gen = Generation()
        gen.on_event(listener)

        def run() -> None:
            try:
                turn = self.engine.stream(master, history, content, backend=backend, params=params)
                gen.emit(Event("debug", debug_info(self.engine, turn, master, backend, params)))
                for delta in turn:
                    gen.emit(Event("delta", {"text": delta}))
                    if gen.stopping:
                        turn.close()
                        break
                gen.emit(Event("done", {"text": turn.reply.text, "usage": _usage(turn), "notes": turn.reply.notes}))
            except Exception as exc:  # noqa: BLE001 - reported to the creator
                gen.emit(Event("error", {"message": str(exc), "code": getattr(exc, "kind", "invalid")}))
            finally:
                gen.end()

        self.pool.submit(run)
        return gen

    def run_starters(
        self,
        master: Master,
        listener: Listener,
        *,
        langs: Sequence[str] = ("zh", "en"),
        backend: str | None = None,
        params: SamplingParams | None = None,
    ) -> Generation:
        """One-click test: answer every conversation starter of ``master`` (in ``langs``) at once.

        Events carry ``index`` (position in the list sent first): ``starters``
        (``[{index, lang, text}]``), then per starter ``delta`` / ``done`` / ``error``; ``None``
        after the last one ends. The starters run concurrently on the pool; the llama.cpp backend
        batches them in its parallel slots.
        """
        items = [(lang, text) for lang in langs for text in master.starters.get(lang)]
        gen = Generation()
        gen.on_event(listener)
        lock = threading.Lock()
        left = [len(items)]

        def emit(event: Event) -> None:
            with lock:
                gen.emit(event)

        def one(index: int, text: str) -> None:
            try:
                turn = self.engine.stream(master, [], text, backend=backend, params=params)
                for delta in turn:
                    emit(Event("delta", {"index": index, "text": delta}))
                    if gen.stopping:
                        turn.close()
                        break
                emit(Event("done", {"index": index, "text": turn.reply.text, "usage": _usage(turn)}))
            except Exception as exc:  # noqa: BLE001
                emit(Event("error", {"index": index, "message": str(exc)}))
            finally:
                with lock:
                    left[0] -= 1
                    last = left[0] == 0
                if last:
                    gen.end()

        emit(Event("starters", {"starters": [{"index": i, "lang": lang, "text": text} for i, (lang, text) in enumerate(items)]}))
        if not items:
            gen.end()
        for i, (_, text) in enumerate(items):
            self.pool.submit(one, i, text)
        return gen
