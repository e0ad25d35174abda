"""The persona benchmark: ask masters realistic questions, measure what can be measured.

Input: JSON lines ``{"id", "master", "lang", "question"}`` (optionally ``"expect"``, see
:mod:`masterhall.eval.formats`) or multi-turn ``{"id", "master", "lang", "turns": [...]}``.
Per answer: language match, echo of the master's instructions or examples (≥ 25 characters or ≥
12 Han characters shared), repetition loop, cut at the token limit (and cut mid-sentence),
identity slip, format compliance where the request is checkable (Socrates always ends on a
question), TTFT and tokens/s; with a judge backend, a rubric score (persona method 0–2,
usefulness 0–2). :func:`summarize` turns the results into rates per language.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..backends.base import ChatMessage
from ..catalog.loader import Catalog
from ..catalog.models import Master, SamplingParams
from ..chat.checks import find_echo, find_loop
from ..chat.engine import ChatEngine
from ..chat.language import detect_language
from .formats import FormatCheck, check_expect, ends_with_question, identity_slip
from .sets import EvalSetError, read_jsonl

#: Masters whose method is to end on a question, checked on every answer.
SOCRATIC = frozenset({"socrates"})
_SENTENCE_END = re.compile(r"[.!?。！？…」』”\"')）*`]\s*$")


@dataclass(frozen=True)
class PersonaCase:
    """One benchmark case: a question (or several turns) for one master."""

    id: str
    master: str
    lang: str
    turns: tuple[str, ...]
    expect: dict = field(default_factory=dict)


def _valid_case(row: object) -> bool:
    if not isinstance(row, dict) or not isinstance(row.get("master"), str):
        return False
    turns = [row["question"]] if isinstance(row.get("question"), str) else row.get("turns")
    return isinstance(turns, list) and bool(turns) and all(isinstance(t, str) and t.strip() for t in turns)


def load_cases(path: Path, catalog: Catalog | None = None) -> list[PersonaCase]:
    """Read a JSONL file of cases. Raises :class:`~masterhall.eval.sets.EvalSetError` naming the
    bad line (bad JSON, missing fields, a master not in ``catalog``)."""
    cases: list[PersonaCase] = []
    for number, row in read_jsonl(path, _valid_case, '{"master", "lang", "question"} or {"master", "lang", "turns": [...]}'):
        turns = [row["question"]] if isinstance(row.get("question"), str) else row["turns"]
        if catalog is not None and row["master"] not in catalog.masters:
            raise EvalSetError(f"{path}:{number}: unknown master {row['master']!r}")
        lang = row.get("lang") if row.get("lang") in ("zh", "en") else detect_language(turns[-1])
        cases.append(PersonaCase(str(row.get("id", number)), row["master"], lang, tuple(turns), row.get("expect") or {}))
    return cases


def first_per_master(cases: Iterable[PersonaCase], k: int) -> list[PersonaCase]:
    """The first ``k`` cases of each master, in file order: a stratified subset for quick runs."""
    taken: dict[str, int] = {}
    kept = []
    for case in cases:
        if taken.get(case.master, 0) < k:
            taken[case.master] = taken.get(case.master, 0) + 1
            kept.append(case)
    return kept


@dataclass
class AnswerResult:
    """What one answer scored. ``echo`` is the copied run (``None``: no echo); ``formats`` the
    format checks that applied; ``judge`` the rubric scores when a judge ran."""

    case_id: str
    master: str
    lang: str
    question: str
    answer: str
    turn: int
    finish_reason: str
    language_ok: bool
    echo: str | None
    loop: bool
    length_cut: bool
    cut_mid_sentence: bool
    identity_slip: str | None
    formats: list[FormatCheck]
    ttft_s: float | None
    tokens_per_s: float | None
    completion_tokens: int
    notes: list[str]
    history: list[dict] = field(default_factory=list)
    judge: dict | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def echo_sources(master: Master) -> list[str]:
    """Everything of the master's an answer must not copy: instructions, recipe, every example."""
    sources = [master.instructions]
    if master.recipe is not None:
        sources += list(master.recipe.zh) + list(master.recipe.en)
    for ex in master.examples:
        sources += [ex.user, ex.assistant]
    return sources


def score_answer(case: PersonaCase, master: Master, turn: int, answer: str, finish_reason: str) -> dict:
    """The reader-free checks of one answer (a dict of :class:`AnswerResult` fields)."""
    echo = find_echo(answer, echo_sources(master))
    length_cut = finish_reason == "length"
    expect = dict(case.expect) if turn == len(case.turns) - 1 else {}
    if case.master in SOCRATIC:
        expect.setdefault("ends_with_question", True)
    return {
        "language_ok": detect_language(answer) == case.lang if answer.strip() else False,
        "echo": echo.run if echo else None,
        "loop": finish_reason == "loop" or find_loop(answer) is not None,
        "length_cut": length_cut,
        "cut_mid_sentence": length_cut and not _SENTENCE_END.search(answer),
        "identity_slip": identity_slip(answer),
        "formats": check_expect(answer, expect),
    }


def run_case(engine: ChatEngine, case: PersonaCase, *, backend: str | None = None,
             params: SamplingParams | None = None) -> list[AnswerResult]:
    """Run every turn of ``case`` as a conversation; one result per answer."""
    master = engine.catalog.get(case.master)
    history: list[ChatMessage] = []
    results = []
    for index, question in enumerate(case.turns):
        reply = engine.stream(master, history, question, backend=backend, params=params).collect()
        usage = reply.usage
        results.append(AnswerResult(
            case_id=case.id, master=case.master, lang=case.lang, question=question, answer=reply.text, turn=index,
            finish_reason=usage.finish_reason, ttft_s=usage.ttft_s, tokens_per_s=usage.tokens_per_s,
            completion_tokens=usage.completion_tokens, notes=list(reply.notes),
            history=[m.to_dict() for m in history],
            **score_answer(case, master, index, reply.text, usage.finish_reason),
        ))
        history += [ChatMessage("user", question), ChatMessage("assistant", reply.text)]
    return results


def run_personas(engine: ChatEngine, cases: Iterable[PersonaCase], *, backend: str | None = None,
                 params: SamplingParams | None = None, parallel: int = 1,
                 progress: Callable[[AnswerResult], None] | None = None) -> list[AnswerResult]:
    """Run all ``cases`` (``parallel`` at once, sharing the backend's slots); results in case order."""
    cases = list(cases)

    def one(case: PersonaCase) -> list[AnswerResult]:
        out = run_case(engine, case, backend=backend, params=params)
        if progress:
            for result in out:
                progress(result)
        return out

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return [r for chunk in pool.map(one, cases) for r in chunk]


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(results: list[AnswerResult]) -> dict:
    """Rates per language and overall: ``{"all": {...}, "zh": {...}, "en": {...}}``.

    Keys: ``answers``, ``language`` (share in the right language), ``echo``, ``loops``,
    ``length_cut``, ``cut_mid_sentence``, ``identity_slips``, ``format`` (share of format checks
    met) and ``format_checks`` (how many applied), ``ends_with_question`` (Socratic answers),
    ``ttft_s`` and ``tokens_per_s`` (medians), and with a judge ``persona`` and ``usefulness``
    (means, 0–2).
    """
    groups: dict[str, list[AnswerResult]] = {"all": results}
    for r in results:
        groups.setdefault(r.lang, []).append(r)
    out = {}
    for key, rows in groups.items():
        checks = [c for r in rows for c in r.formats]
        judged = [r.judge for r in rows if r.judge]
        summary = {
            "answers": len(rows),
            "language": _rate([r.language_ok for r in rows]),
            "echo": _rate([r.echo is not None for r in rows]),
            "loops": _rate([r.loop for r in rows]),
            "length_cut": _rate([r.length_cut for r in rows]),
            "cut_mid_sentence": _rate([r.cut_mid_sentence for r in rows]),
            "identity_slips": _rate([r.identity_slip is not None for r in rows]),
            "format": _rate([c.ok for c in checks]),
            "format_checks": len(checks),
            "ttft_s": _median([r.ttft_s for r in rows]),
            "tokens_per_s": _median([r.tokens_per_s for r in rows]),
        }
        if judged:
            summary["persona"] = round(sum(j["persona"] for j in judged) / len(judged), 3)
            summary["usefulness"] = round(sum(j["usefulness"] for j in judged) / len(judged), 3)
            summary["judged"] = len(judged)
        out[key] = summary
    return out


def _median(values: list[float | None]) -> float | None:
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return round(xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2, 3)


__all__ = [
    "AnswerResult",
    "EvalSetError",
    "PersonaCase",
    "ends_with_question",
    "load_cases",
    "run_case",
    "run_personas",
    "score_answer",
    "summarize",
]
