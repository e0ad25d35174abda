"""Checks on what a model writes: repetition loops, echoes of the prompt, degenerate answers.

Small models fall into loops ("尊重和牺牲、尊重和牺牲、…", "I understand. I understand. …") and
copy their few-shot examples or instructions word for word. These checks are pure functions over
text (and one small streaming class), so the engine can end a loop as it starts, hold back a
copied run before anyone sees it, and keep degenerate answers out of later prompts.

Echo definition (issue "Advice worth asking for"): an answer *echoes* a source when they share a
run of at least :data:`ECHO_MIN_CHARS` characters, or of at least :data:`ECHO_MIN_HAN` Han
characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .substrings import SubstringIndex

#: Shared characters that make an echo (any script).
ECHO_MIN_CHARS = 25
#: Shared Han characters that make an echo (Chinese packs more meaning per character).
ECHO_MIN_HAN = 12

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s+")
#: Joins the sources of an :class:`EchoWatch` (text that contains it is searched source by source).
_SEP = "\u0000"


def han_count(text: str) -> int:
    """Number of Han (CJK ideograph) characters in ``text``."""
    return len(_HAN.findall(text))


def is_echo_run(run: str) -> bool:
    """True when a shared run is long enough to count as an echo (see module docstring)."""
    return len(run) >= ECHO_MIN_CHARS or (len(run) >= ECHO_MIN_HAN and han_count(run) >= ECHO_MIN_HAN)


@dataclass(frozen=True)
class Echo:
    """A run of an answer found in a source: ``source`` is its index in the sources given,
    ``run`` the shared text, ``start`` where it begins in the answer."""

    source: int
    run: str
    start: int


def find_echo(answer: str, sources: Sequence[str]) -> Echo | None:
    """The first run of ``answer`` that echoes one of ``sources``, or ``None``.

    Scans the answer left to right, extending a window while it stays a substring of some
    source (``str.__contains__``, so O(len(answer) × window) substring tests over short texts).
    The run reported is the longest one starting at the first echo position.
    """
    sources = [s for s in sources if s]
    if not answer or not sources:
        return None
    start, end = 0, 0
    while start < len(answer):
        end = max(end, start)
        while end < len(answer) and any(answer[start:end + 1] in s for s in sources):
            end += 1
        run = answer[start:end]
        if run and is_echo_run(run):
            source = next(i for i, s in enumerate(sources) if run in s)
            return Echo(source, run, start)
        start += 1
    return None


class EchoWatch:
    """Follows a streamed answer and holds back text that may be a copy of a source.

    ``min_chars`` / ``min_han``: how long a shared run must be to count (default: an echo, see
    :func:`is_echo_run`; the knowledge leak cut uses longer ones). :meth:`feed` takes each delta
    and returns the text that is safe to show now; a suffix that
    matches some source is held until it stops matching (then released) or grows into an echo
    (then :attr:`echo` is set and nothing of the run is released). :meth:`flush` releases what is
    held at the end. Typical hold-back is a few characters (common words match briefly).

    ``index``: a :class:`~masterhall.chat.substrings.SubstringIndex` holding every source (it may
    hold more texts; only ``sources`` count): the run is then followed one character at a time
    in constant time, with the same results. Without one (or when a source is not in it), the
    cost per character is about two substring searches in the sources joined by NUL (one C-level
    search instead of one per source), at most one of them failing (a failed search reads every
    source; successful ones for short runs stop early). Either way a run shorter than
    :data:`ECHO_MIN_HAN` characters is never counted for Han characters.
    """

    def __init__(self, sources: Sequence[str], *, min_chars: int = ECHO_MIN_CHARS, min_han: int = ECHO_MIN_HAN,
                 index: SubstringIndex | None = None):
        self.min_chars, self.min_han = min_chars, min_han
        self.sources = [s for s in sources if s]
        self._joined = _SEP.join(self.sources)
        self.text = ""
        self.released = 0
        self.echo: Echo | None = None
        self._run_start = 0  # start of the longest suffix of ``text`` found in a source
        # With an index of the sources (see :mod:`.substrings`): that suffix as a state of it
        self._index = index
        self._mask = index.mask_of(self.sources) if index is not None else None
        self._state = self._size = 0

    def _is_run(self, run: str) -> bool:
        """A run long enough to count (see :func:`is_echo_run`; this watch's own thresholds)."""
        return len(run) >= self.min_chars or (len(run) >= self.min_han and han_count(run) >= self.min_han)

    def _in_sources(self, piece: str) -> int | None:
        for i, source in enumerate(self.sources):
            if piece in source:
                return i
        return None

    def _found(self, piece: str) -> bool:
        """``_in_sources(piece) is not None``, by one search in the joined sources (a piece with
        the separator in it is looked up source by source)."""
        if _SEP in piece:
            return self._in_sources(piece) is not None
        return piece in self._joined

    def feed(self, delta: str) -> str:
        """Add ``delta``; return the text that can be shown now ('' while holding or after an echo)."""
        if self.echo is not None:
            return ""
        if self._mask is not None:
            return self._feed_indexed(delta)
        text = self.text + delta
        run_start = self._run_start
        for end in range(len(self.text) + 1, len(text) + 1):
            if not self._found(text[run_start:end]):
                # The run no longer matches: its longest suffix that does, found from the shortest up
                # (a suffix of a match matches, so the first miss ends it: one failed search, not one
                # per character dropped — a failed search reads all the sources).
                kept = 0
                while kept < end - run_start - 1 and self._found(text[end - kept - 1:end]):
                    kept += 1
                run_start = end - kept
            if end - run_start >= min(self.min_chars, self.min_han) and self._is_run(text[run_start:end]):
                run = text[run_start:end]
                self.echo = Echo(self._in_sources(run) or 0, run, run_start)
                break  # the rest of the delta is kept (unchecked) in case the caller lets the copy through
        self.text, self._run_start = text, run_start
        out = text[self.released:run_start] if run_start > self.released else ""
        self.released = max(self.released, run_start)
        return out

    def resume(self, shown: str) -> None:
        """Start over after ``shown`` (text already shown, e.g. before a regeneration)."""
        self.text = shown
        self.released = self._run_start = len(shown)
        self.echo = None
        self._state = self._size = 0

    def _feed_indexed(self, delta: str) -> str:
        """:meth:`feed` on the index: the same run, followed one character at a time."""
        walk, mask, shortest = self._index.walk, self._mask, min(self.min_chars, self.min_han)
        state, size = self._state, self._size
        text = self.text + delta
        end = len(self.text)
        while end < len(text):
            state, size, read = walk(state, size, text[end:], mask, shortest)
            end += read
            if size >= shortest and self._is_run(text[end - size:end]):
                run = text[end - size:end]
                self.echo = Echo(self._in_sources(run) or 0, run, end - size)
                break  # the rest of the delta is kept (unchecked) in case the caller lets the copy through
        run_start = end - size
        self.text, self._run_start, self._state, self._size = text, run_start, state, size
        out = text[self.released:run_start] if run_start > self.released else ""
        self.released = max(self.released, run_start)
        return out

    def flush(self) -> str:
        """Release everything held (end of a stream without an echo)."""
        if self.echo is not None:
            return ""
        out = self.text[self.released:]
        self.released = len(self.text)
        return out

    @property
    def shown(self) -> str:
        """The text released so far."""
        return self.text[:self.released]


# -- loops ------------------------------------------------------------------------------------
#: A tail made of one unit repeated: at least this many characters in all…
LOOP_MIN_SPAN = 24
#: …and at least this many copies of a short unit (< ``LOOP_LONG_UNIT`` characters)…
LOOP_MIN_COPIES_SHORT = 4
#: …or this many copies of a long one (a sentence said three times running).
LOOP_MIN_COPIES_LONG = 3
LOOP_LONG_UNIT = 12
#: Longest repeated unit looked for, in characters.
LOOP_MAX_UNIT = 200
#: The same line (at least ``LOOP_LINE_MIN`` characters) this many times in one answer.
LOOP_LINE_REPEATS = 3
LOOP_LINE_MIN = 8


@dataclass(frozen=True)
class Loop:
    """A repetition loop: the text should end at ``keep`` (after the first copy of the unit)."""

    unit: str
    copies: int
    keep: int


def _periodic_tail(text: str) -> Loop | None:
    n = len(text)
    for p in range(1, min(LOOP_MAX_UNIT, n // 2) + 1):
        if text[n - 1] != text[n - 1 - p]:
            continue
        # Length of the tail that repeats with period p.
        k = 0
        while k < n - p and text[n - 1 - k] == text[n - 1 - k - p]:
            k += 1
        span = k + p
        copies = span // p
        needed = LOOP_MIN_COPIES_LONG if p >= LOOP_LONG_UNIT else LOOP_MIN_COPIES_SHORT
        if copies >= needed and span >= LOOP_MIN_SPAN and text[n - p:].strip():
            begin = n - span
            return Loop(text[n - p:], copies, begin + p)
    return None


def _repeated_line(text: str) -> Loop | None:
    seen: dict[str, int] = {}
    first_end: dict[str, int] = {}
    pos = 0
    in_code = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()  # the key's start: spaces only collapse inside it
        pos += len(line)
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if in_code or len(stripped) < LOOP_LINE_MIN or not line.endswith("\n"):
            continue
        key = _SPACE.sub(" ", stripped)
        if len(key) < LOOP_LINE_MIN:
            continue
        seen[key] = seen.get(key, 0) + 1
        first_end.setdefault(key, pos)
        if seen[key] >= LOOP_LINE_REPEATS:
            return Loop(key, seen[key], first_end[key])
    return None


def find_loop(text: str) -> Loop | None:
    """A repetition loop at the end of ``text`` (or a line said three times), or ``None``.

    Two shapes: the tail is one unit repeated (≥ 4 copies of a unit under 12 characters or ≥ 3
    of a longer one, ≥ 24 characters in all: "尊重和牺牲、尊重和牺牲、…", "I see. I see. I see."),
    or the same line of ≥ 8 characters appears three times outside code blocks. Markdown rules
    and table borders are not loops (their unit is only punctuation, see :func:`_meaningful`).
    """
    loop = _periodic_tail(text)
    if loop is not None and _meaningful(loop.unit):
        return loop
    loop = _repeated_line(text)
    if loop is not None and _meaningful(loop.unit):
        return loop
    return None


_PUNCT_ONLY = re.compile(r"^[\W_]*$")


def _meaningful(unit: str) -> bool:
    """A repeated unit made only of punctuation or spaces (rules, table borders) is not a loop."""
    return not _PUNCT_ONLY.match(unit)


class LoopWatch:
    """Checks a streamed answer for a loop, cheaply: at most every ``every`` characters."""

    def __init__(self, every: int = 16):
        self.text = ""
        self.every = every
        self._checked = 0
        self.loop: Loop | None = None

    def start_after(self, text: str) -> None:
        """Read on after ``text`` (an answer's start, already checked): a loop found later may
        begin in it."""
        self.text = text[-4 * LOOP_MAX_UNIT:]
        self._checked = len(self.text)

    def feed(self, delta: str) -> Loop | None:
        """Add ``delta``; return the :class:`Loop` once one is found."""
        self.text += delta
        if self.loop is None and len(self.text) - self._checked >= self.every:
            self._checked = len(self.text)
            self.loop = find_loop(self.text[-4 * LOOP_MAX_UNIT:]) if len(self.text) >= LOOP_MIN_SPAN else None
            if self.loop is not None:
                offset = max(0, len(self.text) - 4 * LOOP_MAX_UNIT)
                self.loop = Loop(self.loop.unit, self.loop.copies, self.loop.keep + offset)
        return self.loop


# -- degenerate answers (kept out of later prompts) -------------------------------------------
def repeats_user(answer: str, user_message: str) -> bool:
    """True when ``answer`` mostly repeats the user's message back (≥ 60% of the answer's
    characters lie in runs shared with the message, or the answer is contained in it)."""
    a = _SPACE.sub(" ", answer).strip()
    u = _SPACE.sub(" ", user_message).strip()
    if not a or not u:
        return False
    if a in u:
        return True
    covered = 0
    i = 0
    while i < len(a):
        j = i
        while j < len(a) and a[i:j + 1] in u:
            j += 1
        if j - i >= 8:
            covered += j - i
            i = j
        else:
            i += 1
    return covered >= 0.6 * len(a)


def is_degenerate(answer: str, user_message: str) -> bool:
    """An answer that should not be fed back as history: empty, a loop, or the user's words back."""
    if not answer.strip():
        return True
    return find_loop(answer) is not None or repeats_user(answer, user_message)
