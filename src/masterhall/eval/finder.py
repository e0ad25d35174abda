"""Top-1 and top-3 accuracy of the Master Finder per language, on a JSONL evaluation set.

Each line: ``{"id", "lang", "query", "relevant": [master ids]}`` (``id`` and ``lang`` optional).
A query counts at top-k when any id of its ``relevant`` list is among the first k matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..finder.query import FinderQueryError, query_language
from .sets import EvalSetError, read_jsonl

__all__ = ["EvalSetError", "FinderScores", "evaluate_finder", "read_finder_set"]


@dataclass
class FinderScores:
    """``scores``: per language (and ``all``) ``{"n", "top1", "top3"}`` (fractions, 4 decimals);
    ``misses``: ``(id, query, relevant, found)`` of the queries whose first match is not relevant."""

    scores: dict[str, dict]
    misses: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)


def read_finder_set(path: Path) -> list[dict]:
    """The evaluation lines of ``path``; raises :class:`EvalSetError` naming the file and line."""
    rows = read_jsonl(
        path,
        lambda row: isinstance(row, dict) and isinstance(row.get("query"), str) and isinstance(row.get("relevant"), list),
        'an object with "query" (text) and "relevant" (a list of master ids)',
    )
    return [row for _, row in rows]


def evaluate_finder(finder, rows: list[dict]) -> FinderScores:
    """Score ``finder`` (a :class:`~masterhall.finder.Finder`) on ``rows``.

    Raises :class:`~masterhall.finder.FinderQueryError` (with the query's id added) for a query
    the finder refuses.
    """
    stats: dict[str, dict[str, int]] = {}
    misses: list[tuple[str, str, list[str], list[str]]] = []
    for row in rows:
        lang = row.get("lang") if row.get("lang") in ("zh", "en") else None
        try:
            found = [m.master_id for m in finder.match(row["query"], k=3, lang=lang)]
        except FinderQueryError as exc:
            raise FinderQueryError(f"query {row.get('id', '?')}: {exc}") from exc
        lang = lang or query_language(row["query"])
        relevant = set(row["relevant"])
        for key in (lang, "all"):
            s = stats.setdefault(key, {"n": 0, "top1": 0, "top3": 0})
            s["n"] += 1
            s["top1"] += bool(found[:1]) and found[0] in relevant
            s["top3"] += any(i in relevant for i in found[:3])
        if not found or found[0] not in relevant:
            misses.append((str(row.get("id", "?")), row["query"], row["relevant"], found))
    scores = {
        lang: {"n": s["n"], "top1": round(s["top1"] / s["n"], 4), "top3": round(s["top3"] / s["n"], 4)}
        for lang, s in sorted(stats.items(), key=lambda kv: (kv[0] == "all", kv[0]))
    }
    return FinderScores(scores, misses)
