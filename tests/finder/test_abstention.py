"""The Finder says when no master fits (calibrated fit, see masterhall.finder.fit), and only then."""

import json
from pathlib import Path

import numpy as np
import pytest

from masterhall.eval.finder import calibrate_fit, evaluate_finder
from masterhall.finder import fit as fit_module
from masterhall.finder.fit import fit_logistic, pick_threshold, strength_of
from masterhall.finder.reasons import format_reason

ROOT = Path(__file__).resolve().parents[2]
OUT_OF_SCOPE = [  # from the dev split (evalsets/finder-oos-dev.jsonl) and the issue; never the test split
    ("xyzzy qwerty", "en"),
    ("book a hotel room in Paris for three nights", "en"),
    ("my car's brakes squeal when I stop, how do I fix them", "en"),
    ("帮我订一张下周一去北京的机票", "zh"),
    ("今天上海会下雨吗", "zh"),
]
IN_SCOPE = [
    ("I can't fall asleep and I wake up at 3am every night", "en", "sleep-coach"),
    ("should we split our monolith into services?", "en", "software-architect"),
    ("我总是半夜醒来然后想很多", "zh", "sleep-coach"),
    ("孩子每天写作业都要吵一架，怎么办", "zh", "parenting-advisor"),
]


@pytest.mark.parametrize("query,lang", OUT_OF_SCOPE)
def test_no_master_fits_gibberish_and_uncovered_needs(finder, query, lang):
    result = finder.find(query, k=3, lang=lang)
    assert result.no_fit, [(m.master_id, m.fit) for m in result.matches]
    assert result.recommended == []
    assert len(result.matches) == 3  # still ranked, for tools; none is a recommendation
    assert all(m.strength is None and m.fit < fit_module.THRESHOLD for m in result.matches)
    assert not any("契合你的需要" in m.reason or "Matches your need" in m.reason for m in result.matches)


@pytest.mark.parametrize("query,lang,expected", IN_SCOPE)
def test_clear_needs_get_a_confident_master(finder, query, lang, expected):
    result = finder.find(query, k=3, lang=lang)
    assert not result.no_fit
    top = result.matches[0]
    assert top.master_id == expected and top.strength == "strong" and top.fit >= fit_module.STRONG
    assert top.reason.startswith("契合你的需要" if lang == "zh" else "Matches your need")


def test_a_master_asked_for_by_name_always_fits(finder):
    top = finder.find("苏东坡", k=1).matches[0]
    assert top.master_id == "su-dongpo" and top.strength == "strong" and top.fit == 1.0


def test_match_keeps_the_ranking_and_adds_fit(finder):
    ranked = finder.match("xyzzy qwerty", k=5)
    assert [m.master_id for m in ranked] == [m.master_id for m in finder.find("xyzzy qwerty", k=5).matches]
    assert all(0.0 <= m.fit <= 1.0 for m in ranked)


def test_weak_reasons_are_hedged(catalog):
    sleep = catalog.get("sleep-coach")
    assert format_reason(sleep, "zh", ["失眠"], named=False, confident=False) == "可能相关：失眠"
    assert format_reason(sleep, "en", ["insomnia"], named=False, confident=False) == "Might help: insomnia"
    assert format_reason(sleep, "en", ["insomnia"], named=False) == "Matches your need: insomnia"
    assert strength_of(fit_module.STRONG) == "strong"
    assert strength_of((fit_module.STRONG + fit_module.THRESHOLD) / 2) == "weak"
    assert strength_of(fit_module.THRESHOLD - 0.01) is None


def test_logistic_fit_and_threshold_pick():
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(1.0, 0.5, (80, 2)), rng.normal(-1.0, 0.5, (40, 2))]
    y = np.r_[np.ones(80), np.zeros(40)]
    weights, bias = fit_logistic(x, y, l2=0.1)
    p = 1 / (1 + np.exp(-(x @ weights + bias)))
    assert weights.min() > 0 and np.mean((p > 0.5) == (y == 1)) > 0.95
    threshold = pick_threshold(list(p[y == 1]), list(p[y == 0]), 0.05)
    assert np.mean(p[y == 1] < threshold) <= 0.05


def test_evaluation_counts_abstention(finder):
    rows = [{"id": "a", "lang": "en", "query": "xyzzy qwerty", "relevant": []},
            {"id": "b", "lang": "en", "query": IN_SCOPE[0][0], "relevant": ["sleep-coach"]}]
    scores = evaluate_finder(finder, rows).scores
    assert scores["all"] == {"n": 1, "top1": 1.0, "top3": 1.0, "false_abstention": 0.0, "n_oos": 1, "abstention_recall": 1.0}


def _rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_stored_constants_are_the_dev_calibration(finder):
    """Refitting on the dev split gives the constants in masterhall/finder/fit.py (no test split used)."""
    result = calibrate_fit(finder, _rows(ROOT / "bench" / "finder-dev.jsonl"), _rows(ROOT / "evalsets" / "finder-oos-dev.jsonl"))
    assert result.threshold == pytest.approx(fit_module.THRESHOLD, abs=0.01)
    assert result.strong == pytest.approx(fit_module.STRONG, abs=0.01)
    assert np.allclose(result.weights, fit_module.WEIGHTS, rtol=0.02)
    assert result.false_abstention <= 0.05 and result.abstention_recall >= 0.85
