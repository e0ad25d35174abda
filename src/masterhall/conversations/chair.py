"""The chair of a round table: who speaks in a round, and what each speaker is shown.

Pure rules, no storage and no HTTP (:mod:`.roundtable` runs the rounds):

- :func:`mentions` finds the masters a message addresses with ``@`` (by id, or by name in either
  language: ``@Socrates``, ``@苏格拉底``, ``@socrates``), in the order they appear;
- :func:`wants_summary` tells a request for a closing synthesis ("sum up", "总结一下");
- :class:`Chair` plans a round: the masters mentioned come first, then the other members by
  relevance to the message (the Finder's score; ties keep the order they joined), at most
  ``max_speakers``; the master who spoke last never opens the next round unless addressed;
- :func:`speaker_history` and :func:`round_addendum` lay out what a speaker sees: its own
  earlier answers as its own, every other master's labelled with their name as part of the
  conversation it hears, never as its own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from ..backends.base import ChatMessage

#: Default most speakers in one round (the setting ``roundtable_speakers``).
DEFAULT_MAX_SPEAKERS = 3

#: ``relevance(message, member_ids) -> {master_id: score}`` (scores in [0, 1], higher is more
#: relevant; a missing id counts as 0). The hall passes the Finder's score for the message.
Relevance = Callable[[str, Sequence[str]], Mapping[str, float]]

_SUMMARY = re.compile(
    r"(总结一下|总结|小结|归纳一下|\bsum(?:marise|marize|mary)?\s*(?:it\s+)?up\b|\bsummari[sz]e\b|\bwrap\s+(?:it\s+)?up\b)",
    re.IGNORECASE,
)


def wants_summary(message: str) -> bool:
    """True when ``message`` asks for a closing synthesis: "sum up", "summarize", "wrap up",
    "总结一下", "总结", "小结", "归纳一下" (anywhere in the message, any case)."""
    return bool(_SUMMARY.search(message))


def mentions(message: str, names: Mapping[str, Sequence[str]]) -> list[str]:
    """The master ids ``message`` addresses with ``@``, in order of first appearance, each once.

    ``names``: every master that may be addressed, ``{id: [id, English name, Chinese name, …]}``;
    a mention is ``@`` followed by one of them (case-insensitive; the longest name wins, so
    ``@Marcus Aurelius`` is not read as a shorter name). Plain names without ``@`` are not
    mentions (a question about Socrates does not seat him), nor is an ASCII ``@`` inside a word
    or an e-mail address (``me@socrates.example``); right after Chinese text it is (``请问@苏格拉底``),
    and a full-width ``＠`` is one wherever it stands."""
    lowered = message.casefold()
    spelled = sorted(((n.casefold(), mid) for mid, ns in names.items() for n in ns if n and n.strip()),
                     key=lambda item: -len(item[0]))
    found: list[tuple[int, str]] = []
    for at in (i for i, ch in enumerate(lowered) if ch in "@＠"):
        if lowered[at] == "@" and at and (_word(lowered[at - 1]) or lowered[at - 1] in "._+-"):
            continue  # inside a word or an e-mail address (a full-width ＠ is never one)
        rest = lowered[at + 1:]
        for name, mid in spelled:
            if not rest.startswith(name):
                continue
            after = rest[len(name):len(name) + 1]
            if after and _word(after) and _word(name[-1]):  # "@socratesX" names nobody
                continue
            found.append((at, mid))
            break
    seen: list[str] = []
    for _, mid in sorted(found):
        if mid not in seen:
            seen.append(mid)
    return seen


def _word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True)
class RoundPlan:
    """What the chair decided for one round: ``speakers`` in order (master ids), ``mentioned``
    (addressed with ``@``), ``joined`` (mentioned masters who were not yet members: they take a
    seat), ``members`` (the table after they joined) and ``summary`` (the one speaker gives a
    closing synthesis)."""

    speakers: list[str]
    members: list[str]
    mentioned: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    summary: bool = False


class Chair:
    """Decides who speaks in each round of a round table.

    ``relevance``: scores members for a message (see :data:`Relevance`; ``None``: every member
    scores the same, so they speak in the order they joined). ``max_speakers``: most speakers in a
    round (mentioned masters included).
    """

    def __init__(self, relevance: Relevance | None = None, max_speakers: int = DEFAULT_MAX_SPEAKERS):
        if max_speakers < 1:
            raise ValueError("max_speakers must be at least 1")
        self.relevance = relevance
        self.max_speakers = max_speakers

    def scores(self, message: str, members: Sequence[str]) -> dict[str, float]:
        """Each member's relevance to ``message`` (0 when unknown or when scoring fails)."""
        if self.relevance is None:
            return {}
        try:
            return {k: float(v) for k, v in self.relevance(message, list(members)).items()}
        except Exception:  # noqa: BLE001 - a Finder that cannot answer leaves the order of joining
            return {}

    def plan(self, message: str, members: Sequence[str], names: Mapping[str, Sequence[str]], *,
             last_speaker: str | None = None, max_speakers: int | None = None) -> RoundPlan:
        """Plan one round for ``message`` at a table of ``members`` (ids, in the order they joined).

        ``names``: the masters that may be addressed (see :func:`mentions`); ``last_speaker``: who
        spoke last in the conversation (not first again unless mentioned). A summary request
        (:func:`wants_summary`) gets one speaker: the first mentioned, else the most relevant
        member who did not speak last.
        """
        limit = max_speakers or self.max_speakers
        mentioned = mentions(message, names)
        joined = [m for m in mentioned if m not in members]
        table = list(members) + joined
        rest = [m for m in table if m not in mentioned]
        # the Finder is asked only when it decides something: who of several speaks first
        scores = self.scores(message, table) if len(rest) > 1 and len(mentioned) < limit else {}
        others = sorted((m for m in table if m not in mentioned), key=lambda m: (-scores.get(m, 0.0), table.index(m)))
        order = mentioned + others
        if len(order) > 1 and order[0] == last_speaker and last_speaker not in mentioned:
            order[0], order[1] = order[1], order[0]
        summary = wants_summary(message)
        speakers = order[:1] if summary else order[:limit]
        return RoundPlan(speakers, table, mentioned, joined, summary)


def speaker_history(messages: Sequence[tuple[str, str | None, str]], speaker: str, label: Callable[[str], str],
                    lang: str) -> list[ChatMessage]:
    """The history ``speaker`` sees, from stored ``(role, master_id, content)`` messages (oldest
    first, before the message being answered): the person's messages and the speaker's own answers
    as they are; another master's answer becomes part of the person's side, labelled with that
    master's name (``label(master_id)``), so no speaker ever reads another's words as its own.
    Consecutive messages of one side are joined (chat templates expect turns to alternate)."""
    out: list[ChatMessage] = []
    for role, master_id, content in messages:
        if not content.strip() or role not in ("user", "assistant"):
            continue
        if role == "assistant" and master_id not in (None, speaker):
            role, content = "user", _labelled(label(master_id), content, lang)
        if out and out[-1].role == role:
            out[-1] = ChatMessage(role, f"{out[-1].content}\n\n{content}")
        else:
            out.append(ChatMessage(role, content))
    return out


def _labelled(name: str, content: str, lang: str) -> str:
    return f"【{name}】说：\n{content}" if lang == "zh" else f"[{name}] said:\n{content}"


def round_addendum(earlier: Sequence[tuple[str, str]], lang: str, *, summary: bool = False,
                   partial: bool = False) -> str:
    """Text added after the person's message for a speaker: the chair's request — respond to the
    others briefly (agree, disagree, build on), or, for a ``summary``, a closing synthesis naming
    who said what — then the replies of this round's earlier speakers (``(name, text)``), labelled,
    and a one-line reminder to answer as oneself. Empty for the first speaker of an ordinary round.
    Not rated by the safety guard (it rates the person's own words).

    The replies come last but for the reminder, so that everything before a reply is known while
    it is still being written: ``partial=True`` (the last reply is not finished) leaves the
    reminder out, and the result is then a prefix of the final addendum as long as that reply only
    grows (what a round table reads ahead for the next speaker)."""
    heard = "\n\n".join(_labelled(name, text, lang) for name, text in earlier if text.strip())
    end = "" if partial else ("\n\n（请以你自己的身份回答。）" if lang == "zh" else "\n\n(Now answer as yourself.)")
    if lang == "zh":
        if summary:
            return ("\n\n---\n（圆桌主持人：请以你自己的身份为这场圆桌做一个简短的总结，"
                    "点名说明每位大师的观点——谁说了什么、哪里一致、哪里不同——最后给提问者一句建议。）"
                    + (f"\n\n本轮发言：\n{heard}{end}" if heard else ""))
        if not heard:
            return ""
        return ("\n\n---\n（圆桌主持人：圆桌上其他大师刚才发言如下。请以你自己的身份简短回应他们——"
                f"同意、反对或补充——并回答提问者。不要替他们说话。）\n\n{heard}{end}")
    if summary:
        return ("\n\n---\n(The chair of this round table asks you, as yourself, for a brief closing synthesis: "
                "name each master and what they said, where they agree and differ, then one line of advice.)"
                + (f"\n\nSaid in this round:\n{heard}{end}" if heard else ""))
    if not heard:
        return ""
    return ("\n\n---\n(The chair: other masters at this round table have just answered, below. Speak as yourself: "
            "respond to them briefly — agree, disagree or build on what they said — and answer the person. "
            f"Do not speak for them.)\n\n{heard}{end}")
