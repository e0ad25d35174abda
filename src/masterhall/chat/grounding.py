"""What a master's knowledge gives a turn, and the cut that keeps it from being dumped.

The chat engine knows nothing of where knowledge is stored: the hall passes it a
:data:`KnowledgeContext` (see :mod:`masterhall.knowledge.answer`) that returns a
:class:`KnowledgeBrief` for a turn — the system-prompt section with the labelled passages (or
the curated answer to use first), the citations to attach to the answer and the debug record
shown in the builder's preview.

**Cite, don't dump.** :func:`leak_cut` watches the streamed answer: once the verbatim runs it
shares with the knowledge passages or the master's instructions add up to more than a short
quote (:data:`QUOTE_MAX_CHARS` characters, or :data:`QUOTE_MAX_HAN` Han characters), the answer
ends before the run in progress, with a short line saying why. Curated Q&A answers are not
watched: they are meant to be said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from ..backends.base import ChatMessage, Usage
from ..catalog.models import Master
from .checks import han_count

#: A verbatim run longer than this (characters, any script) is a dump, not a quote …
QUOTE_MAX_CHARS = 160
#: … or this many Han characters.
QUOTE_MAX_HAN = 70
#: Shorter shared stretches are not copies (common words and phrases) …
MIN_COPY_CHARS = 25
#: … nor fewer shared Han characters than this.
MIN_COPY_HAN = 10
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


class LeakWatch:
    """Measures how much of a streamed answer is copied from ``sources``.

    A *copied run* is a stretch of the answer found verbatim in a source, at least
    :data:`MIN_COPY_CHARS` characters long (shorter shared stretches are common words). Each
    run weighs its length, Han characters counting ``QUOTE_MAX_CHARS / QUOTE_MAX_HAN`` each.
    :meth:`feed` returns where to cut (an offset in the answer) once the runs so far — the one
    in progress included — weigh more than ``limit`` (default :data:`QUOTE_MAX_CHARS`): a dump
    of one long passage and a dump of many short ones are both cut, a quote of a sentence or two
    is not.
    """

    def __init__(self, sources: Sequence[str], limit: float = QUOTE_MAX_CHARS):
        self.limit = limit
        self._joined = "\u0000".join(s for s in sources if s)
        self.text = ""
        self.copied = 0.0
        self._run_start = 0

    @staticmethod
    def weight(run: str) -> float:
        """A run's weight: its length, Han characters counted as ``QUOTE_MAX_CHARS / QUOTE_MAX_HAN``."""
        return len(run) + han_count(run) * (QUOTE_MAX_CHARS / QUOTE_MAX_HAN - 1)

    def _counted(self, run: str) -> float:
        return self.weight(run) if len(run.strip()) >= MIN_COPY_CHARS or han_count(run) >= MIN_COPY_HAN else 0.0

    def feed(self, delta: str) -> int | None:
        """Add ``delta``; the offset to cut the answer at once it copies too much, else ``None``."""
        if not self._joined:
            self.text += delta
            return None
        text = self.text + delta
        start = self._run_start
        for end in range(len(self.text) + 1, len(text) + 1):
            if "\u0000" in text[start:end] or text[start:end] not in self._joined:
                self.copied += self._counted(text[start:end - 1])
                start = end - 1
                while start < end and text[start:end] not in self._joined:
                    start += 1
            if self.copied + self._counted(text[start:end]) > self.limit:
                self.text, self._run_start = text, start
                return start if self._counted(text[start:end]) else end
        self.text, self._run_start = text, start
        return None


def quote_limit(passages: Sequence[str]) -> float:
    """How much of the knowledge an answer may copy: a short quote (:data:`QUOTE_MAX_CHARS`), and
    never more than half of the passages it was given (a small file is not dumped piece by piece),
    but at least two copied runs' worth."""
    given = sum(LeakWatch.weight(p) for p in passages)
    return min(QUOTE_MAX_CHARS, max(2 * MIN_COPY_CHARS, given / 2)) if given else QUOTE_MAX_CHARS


def leak_cut(stream: Iterator[str | Usage], sources: Sequence[str], notes: list[str], lang: str,
             passages: Sequence[str] = ()) -> Iterator[str | Usage]:
    """Yield ``stream``'s text until it copies too much of ``sources`` and ``passages`` (see
    :class:`LeakWatch`; the limit is :func:`quote_limit` of ``passages``),
    then the cut line, then the usage (finish reason ``stop``). The cut falls before the run in
    progress, so what was shown of the sources is at most about a short quote. ``notes`` gets
    :data:`CUT_NOTE` on a cut. Closing this iterator closes ``stream``."""
    watch = LeakWatch([*passages, *sources], quote_limit(passages))
    usage: Usage | None = None
    shown = 0
    try:
        for item in stream:
            if isinstance(item, Usage):
                usage = item
                continue
            cut = watch.feed(item)
            if cut is None:
                shown += len(item)
                yield item
                continue
            if cut > shown:
                yield watch.text[shown:cut]
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            notes.append(CUT_NOTE)
            yield CUT_LINE.get(lang, CUT_LINE["en"])
            usage = Usage(completion_tokens=usage.completion_tokens if usage else 0, finish_reason="stop")
            break
    except GeneratorExit:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        raise
    yield usage or Usage(finish_reason="stop")
