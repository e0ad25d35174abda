"""Retrieval quality on the published evaluation set (a regression floor, not a target)."""

import json
from pathlib import Path

import pytest

EVAL = Path(__file__).parents[1] / "data" / "finder-public.jsonl"
FLOOR_TOP3 = 0.90


def _rows():
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_top3_per_language_on_public_set(finder, lang):
    rows = [r for r in _rows() if r["lang"] == lang]
    assert len(rows) >= 10
    hits = 0
    misses = []
    for row in rows:
        found = [m.master_id for m in finder.match(row["query"], k=3)]
        if set(found) & set(row["relevant"]):
            hits += 1
        else:
            misses.append((row["id"], found))
    assert hits / len(rows) >= FLOOR_TOP3, f"top-3 {hits}/{len(rows)} for {lang}; misses: {misses}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我总是半夜醒来然后想很多", "sleep-coach"),
        ("想学做几道简单的家常菜", "su-dongpo"),
        ("老板总是否定我的方案，我想换个工作", "career-coach"),
        ("孩子一写作业就磨磨蹭蹭", "parenting-advisor"),
        ("I keep putting off my thesis until the night before", "focus-coach"),
        ("what is the difference between a list and a tuple in python", "python-mentor"),
        ("our app slows down when thousands of users log in at the same time", "software-architect"),
        ("I got an email asking me to confirm my password on a weird link", "security-expert"),
    ],
)
def test_everyday_needs_in_both_languages(finder, query, expected):
    found = [m.master_id for m in finder.match(query, k=3)]
    assert expected in found, found


def test_matches_are_ranked_scored_and_never_the_guide(finder):
    found = finder.match("I want to find the right master for my problem", k=10)
    assert len(found) == 10
    assert all(m.master_id != "master-finder" for m in found)
    scores = [m.score for m in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    assert len({m.master_id for m in found}) == 10
