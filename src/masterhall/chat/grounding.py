"""What a master's knowledge gives a turn, and the cut that keeps it from being dumped.

The chat engine knows nothing of where knowledge is stored: the hall passes it a
:data:`KnowledgeContext` (see :mod:`masterhall.knowledge.answer`) that returns a
:class:`KnowledgeBrief` for a turn — the system-prompt section with the labelled passages (or
the curated answer to use first), the citations to attach to the answer and the debug record
shown in the builder's preview.

**Cite, don't dump.** :func:`leak_cut` watches the streamed answer: once it shares a verbatim
run of more than :data:`QUOTE_MAX_CHARS` characters (or :data:`QUOTE_MAX_HAN` Han characters)
with a knowledge passage or the master's instructions, the answer ends before that run, with a
short line saying why. Curated Q&A answers are not watched: they are meant to be said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from ..backends.base import ChatMessage, Usage
from ..catalog.models import Master
from .checks import EchoWatch

#: A verbatim run longer than this (characters, any script) is a dump, not a quote …
QUOTE_MAX_CHARS = 160
#: … or this many Han characters.
QUOTE_MAX_HAN = 70
#: The line that ends a cut answer, per language.
CUT_LINE = {"zh": "\n\n（此处省略：大师引用资料，但不整段照搬。）",
            "en": "\n\n(Cut here: masters cite their sources, they don't hand them out word for word.)"}
CUT_NOTE = "cut a long verbatim run of the master's knowledge or instructions"

_MARK = re.compile(r"\[(\d{1,2})\]")


@dataclass
class KnowledgeBrief:
    """What a master's knowledge gives one turn.

    ``text``: the system-prompt section (``""``: nothing to add); ``passages``: what it offers,
    in the order of their ``[n]`` labels, each ``{n, source, kind, position, snippet, text,
    score}``; ``qa_first``: the curated answer that must be used first (a passage dict) or
    ``None``; ``guarded``: texts the answer must not dump (file passages, instructions);
    ``debug``: the retrieval record for the builder's preview (candidates with their scores,
    the token budget, what was left out).
    """

    text: str = ""
    passages: list[dict] = field(default_factory=list)
    qa_first: dict | None = None
    guarded: list[str] = field(default_factory=list)
    debug: dict = field(default_factory=dict)

    def citations(self, answer: str) -> list[dict]:
        """The passages ``answer`` cites with ``[n]`` (in order of first mention); when it
        cites none, the curated answer it was told to use, else every passage offered.
        Each: ``{n, source, kind, position, snippet}``."""
        keep = ("n", "source", "kind", "position", "snippet")
        by_n = {p["n"]: p for p in self.passages}
        cited: list[dict] = []
        for mark in _MARK.findall(answer):
            p = by_n.get(int(mark))
            if p is not None and p not in cited:
                cited.append(p)
        if not cited:
            cited = [self.qa_first] if self.qa_first else list(self.passages)
        return [{k: p.get(k) for k in keep} for p in cited]


#: ``knowledge(master, history, user_message, lang) -> KnowledgeBrief | None``.
KnowledgeContext = Callable[[Master, Sequence[ChatMessage], str, str], "KnowledgeBrief | None"]


def leak_cut(stream: Iterator[str | Usage], sources: Sequence[str], notes: list[str], lang: str) -> Iterator[str | Usage]:
    """Yield ``stream``'s text until it dumps one of ``sources`` (a shared run over
    :data:`QUOTE_MAX_CHARS` / :data:`QUOTE_MAX_HAN`), then the cut line, then the usage (its
    finish reason kept as ``stop``). Text that may be the start of such a run is held back
    while it matches, so no more than a short quote is ever shown. ``notes`` gets
    :data:`CUT_NOTE` on a cut. Closing this iterator closes ``stream``."""
    watch = EchoWatch(sources, min_chars=QUOTE_MAX_CHARS + 1, min_han=QUOTE_MAX_HAN + 1)
    usage: Usage | None = None
    try:
        for item in stream:
            if isinstance(item, Usage):
                usage = item
                continue
            out = watch.feed(item)
            if out:
                yield out
            if watch.echo is not None:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
                notes.append(CUT_NOTE)
                yield CUT_LINE.get(lang, CUT_LINE["en"])
                usage = Usage(completion_tokens=usage.completion_tokens if usage else 0, finish_reason="stop",
                              ttft_s=usage.ttft_s if usage else None)
                break
        else:
            tail = watch.flush()
            if tail:
                yield tail
    except GeneratorExit:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        raise
    yield usage or Usage(finish_reason="stop")
