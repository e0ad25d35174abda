"""Top-1 and top-3 accuracy and abstention of the Master Finder per language, on JSONL sets;
and the calibration of its ``fit`` (see :mod:`masterhall.finder.fit`).

Each line: ``{"id", "lang", "query", "relevant": [master ids]}`` (``id`` and ``lang`` optional).
A query counts at top-k when any id of its ``relevant`` list is among the first k matches. A line
with ``"relevant": []`` is an out-of-scope need: the Finder is right when it says no master fits
(abstention recall); on the other lines saying so is a false abstention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..finder.fit import fit_logistic, pick_threshold
from ..finder.query import FinderQueryError, query_language
from .sets import EvalSetError, read_jsonl

__all__ = ["Calibration", "EvalSetError", "FinderScores", "calibrate_fit", "evaluate_finder", "read_finder_set"]


@dataclass
class FinderScores:
    """``scores``: per language (and ``all``) ``{"n", "top1", "top3", "false_abstention"}`` over
    the in-scope lines and ``{"n_oos", "abstention_recall"}`` over the out-of-scope ones (fractions,
    4 decimals; keys absent when the file has no such line); ``misses``: ``(id, query, relevant,
    found)`` of the in-scope queries whose first match is not relevant and of the out-of-scope
    ones the Finder answered (their ``relevant`` is empty)."""

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
            result = finder.find(row["query"], k=3, lang=lang)
        except FinderQueryError as exc:
            raise FinderQueryError(f"query {row.get('id', '?')}: {exc}") from exc
        found = [m.master_id for m in result.matches]
        lang = lang or query_language(row["query"])
        relevant = set(row["relevant"])
        for key in (lang, "all"):
            s = stats.setdefault(key, {"n": 0, "top1": 0, "top3": 0, "abstained": 0, "n_oos": 0, "oos_abstained": 0})
            if not relevant:
                s["n_oos"] += 1
                s["oos_abstained"] += result.no_fit
                continue
            s["n"] += 1
            s["top1"] += bool(found[:1]) and found[0] in relevant
            s["top3"] += any(i in relevant for i in found[:3])
            s["abstained"] += result.no_fit
        if (relevant and (not found or found[0] not in relevant)) or (not relevant and not result.no_fit):
            misses.append((str(row.get("id", "?")), row["query"], row["relevant"], found))
    scores = {}
    for lang, s in sorted(stats.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        entry: dict = {}
        if s["n"]:
            entry.update(n=s["n"], top1=round(s["top1"] / s["n"], 4), top3=round(s["top3"] / s["n"], 4),
                         false_abstention=round(s["abstained"] / s["n"], 4))
        if s["n_oos"]:
            entry.update(n_oos=s["n_oos"], abstention_recall=round(s["oos_abstained"] / s["n_oos"], 4))
        scores[lang] = entry
    return FinderScores(scores, misses)


@dataclass
class Calibration:
    """A fitted :mod:`~masterhall.finder.fit` model: ``weights`` (per feature, raw units),
    ``bias``, ``threshold`` and ``strong`` (fit levels), and on the calibration rows themselves
    ``false_abstention`` (in-scope) and ``abstention_recall`` (out-of-scope)."""

    weights: list[float]
    bias: float
    threshold: float
    strong: float
    false_abstention: float
    abstention_recall: float

    def as_code(self) -> str:
        """The constants as Python lines for :mod:`masterhall.finder.fit`."""
        weights = ", ".join(f"{w:.4f}" for w in self.weights)
        return (f"WEIGHTS = np.array([{weights}])\nBIAS = {self.bias:.4f}\n"
                f"THRESHOLD = {self.threshold:.4f}\nSTRONG = {self.strong:.4f}")


def calibrate_fit(finder, in_scope: list[dict], out_of_scope: list[dict], *, l2: float = 1.0,
                  max_false_abstention: float = 0.05, max_strong_oos: float = 0.02) -> Calibration:
    """Fit the Finder's ``fit`` on development rows: ``in_scope`` needs (positives) and
    ``out_of_scope`` ones (negatives); see :mod:`masterhall.finder.fit` for the method.

    Never pass a test split here. Raises ``ValueError`` when either list is empty and
    :class:`~masterhall.finder.FinderQueryError` for a query the finder refuses.
    """
    if not in_scope or not out_of_scope:
        raise ValueError("calibration needs in-scope and out-of-scope rows")

    def features(rows: list[dict]) -> np.ndarray:
        return np.array([finder.features(r["query"], r.get("lang") if r.get("lang") in ("zh", "en") else None)
                         for r in rows])

    pos, neg = features(in_scope), features(out_of_scope)
    x = np.vstack([pos, neg])
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    mean, std = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-9)
    w_std, b_std = fit_logistic((x - mean) / std, y, l2=l2)
    weights = w_std / std
    bias = float(b_std - np.dot(w_std, mean / std))

    def fits(z: np.ndarray) -> np.ndarray:
        return np.round(1.0 / (1.0 + np.exp(-(z @ weights + bias))), 4)

    fit_in, fit_out = fits(pos), fits(neg)
    threshold = pick_threshold(list(fit_in), list(fit_out), max_false_abstention)
    ordered = np.sort(fit_out)[::-1]
    strong = round(float(ordered[int(np.floor(max_strong_oos * len(ordered)))]) + 1e-4, 4)
    strong = max(strong, threshold)
    return Calibration([round(float(w), 4) for w in weights], round(bias, 4), threshold, strong,
                       round(float(np.mean(fit_in < threshold)), 4), round(float(np.mean(fit_out < threshold)), 4))
