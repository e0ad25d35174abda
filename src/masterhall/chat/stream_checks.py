"""The checks a turn's stream passes through: hold back copies, regenerate once, end loops.

:func:`checked_stream` sits between a backend's stream and the :class:`~masterhall.chat.engine.Turn`:

- **Echo.** Text that matches the master's instructions or a shown example is held back while it
  matches. If the run grows into an echo (see :mod:`masterhall.chat.checks`), the generation is
  stopped and started once more without that example; the new request continues after the text
  already shown (an assistant-message prefill, which llama.cpp, vLLM and Ollama continue). A
  second echo is let through (and noted).
- **Loop.** When the shown text ends in a repetition loop, the generation ends at once with
  ``finish_reason="loop"`` instead of running to the token limit.
"""

from __future__ import annotations

import re
import time
from typing import Callable, Iterator

from ..backends.base import Usage
from ..catalog.models import Example, Master
from .checks import EchoWatch, LoopWatch
from .prompt import BuiltPrompt
from .substrings import SubstringIndex, index_for

#: ``regenerate(echoed_example_or_None, prefix_shown) -> (new prompt, new stream)``.
Regenerate = Callable[[Example | None, str], "tuple[BuiltPrompt, Iterator[str | Usage]]"]

ECHO_NOTE = "regenerated once: the answer began to copy {what}"
ECHO_KEPT_NOTE = "the regenerated answer copies {what} too; it was kept"
LOOP_NOTE = "ended an answer that kept repeating itself"


_NAMES_A_MASTER = re.compile(r"\([a-z0-9]+(?:-[a-z0-9]+)*\)")


def echo_sources(master: Master, built: BuiltPrompt) -> tuple[list[str], list[Example | None]]:
    """The texts an answer must not copy, and for each the example it belongs to (``None``: the
    instructions or the reply recipe).

    For the guide, lines of its examples that name a master ("Name (id) — reason") are left out:
    a real answer names the same masters in the same form, which is not copying.
    """
    texts: list[str] = [master.instructions]
    owners: list[Example | None] = [None]
    if master.recipe is not None:
        texts += list(master.recipe.zh) + list(master.recipe.en)
        owners += [None] * (len(master.recipe.zh) + len(master.recipe.en))
    for ex in built.examples:
        texts += _example_texts(master, ex)
        owners += [ex, ex]
    return texts, owners


def _example_texts(master: Master, ex: Example) -> list[str]:
    answer = ex.assistant
    if master.is_guide:
        answer = "\n".join(line for line in answer.splitlines() if not _NAMES_A_MASTER.search(line))
    return [ex.user, answer]


def source_texts(master: Master) -> list[str]:
    """Every text an answer of ``master`` could be held back for copying: its instructions, reply
    recipe and all its examples (whichever a turn shows)."""
    texts = [master.instructions]
    if master.recipe is not None:
        texts += list(master.recipe.zh) + list(master.recipe.en)
    for ex in master.examples:
        texts += _example_texts(master, ex)
    return texts


def source_index(master: Master, *, wait: bool = False) -> SubstringIndex | None:
    """The substring index of :func:`source_texts` (cached). Not built yet: ``None`` (it is then
    built in the background), or with ``wait``, built now."""
    return index_for(source_texts(master), wait=wait)


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def checked_stream(
    stream: Iterator[str | Usage],
    master: Master,
    built: BuiltPrompt,
    regenerate: Regenerate,
    notes: list[str],
    *,
    shown: str = "",
) -> Iterator[str | Usage]:
    """Yield ``stream``'s text with echo and loop checks applied, then one :class:`Usage`.

    ``shown``: the start of the answer already shown (a continuation after the length limit):
    the checks read on from it, and a regeneration continues after it too. ``notes`` receives a
    line for each intervention. TTFT in the final usage is the time to the
    first *shown* text (a regenerated answer's includes the first attempt). Closing this
    iterator closes the backend's stream.
    """
    start = time.perf_counter()
    first_shown: float | None = None
    texts, owners = echo_sources(master, built)
    index = source_index(master)
    watch: EchoWatch | None = EchoWatch(texts, index=index)
    loops = LoopWatch()
    if shown:
        watch.resume(shown)
        loops.start_after(shown)
    retried = False
    usage: Usage | None = None
    shown_deltas = 0
    try:
        while True:
            echoed = None
            for item in stream:
                if isinstance(item, Usage):
                    usage = item
                    continue
                out = watch.feed(item) if watch is not None else item
                if watch is not None and watch.echo is not None:
                    if not retried:
                        echoed = watch.echo
                        break
                    what = "an example" if owners[watch.echo.source] else "the instructions"
                    notes.append(ECHO_KEPT_NOTE.format(what=what))
                    out = watch.text[watch.released:]
                    watch = None
                if not out:
                    continue
                if first_shown is None:
                    first_shown = time.perf_counter()
                shown_deltas += 1
                yield out
                if loops.feed(out) is not None:
                    _close(stream)
                    notes.append(LOOP_NOTE)
                    usage = Usage(completion_tokens=shown_deltas, finish_reason="loop",
                                  ttft_s=first_shown - start)
                    break
            if echoed is None:
                break
            _close(stream)
            retried = True
            example = owners[echoed.source]
            notes.append(ECHO_NOTE.format(what="an example" if example else "the instructions"))
            prefix = watch.shown
            again, stream = regenerate(example, prefix)
            texts, owners = echo_sources(master, again)
            watch = EchoWatch(texts, index=index)
            watch.resume(prefix)
            usage = None
        if watch is not None and (usage is None or usage.finish_reason != "loop") and (tail := watch.flush()):
            if first_shown is None:
                first_shown = time.perf_counter()
            yield tail
    except GeneratorExit:
        _close(stream)
        raise
    usage = usage or Usage(completion_tokens=shown_deltas, finish_reason="stop")
    if retried and first_shown is not None:
        usage.ttft_s = first_shown - start
    yield usage
