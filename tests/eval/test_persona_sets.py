"""The persona benchmark sets in evalsets/ load, cover the whole hall and keep dev and test apart."""

from collections import Counter
from pathlib import Path

import pytest

from masterhall.catalog.loader import load_catalog
from masterhall.eval.personas import load_cases

SETS = Path(__file__).parents[2] / "evalsets"
CATALOG = load_catalog()
MASTERS = sorted(m for m in CATALOG.masters if m != "master-finder")


def _cases(name):
    return load_cases(SETS / name, CATALOG)


@pytest.mark.parametrize("name", ["personas-dev.jsonl", "personas-test.jsonl", "personas-multiturn.jsonl"])
def test_set_loads_with_known_masters_and_unique_ids(name):
    cases = _cases(name)
    assert len({c.id for c in cases}) == len(cases)
    assert all(c.master in MASTERS and c.lang in ("zh", "en") for c in cases)
    for case in cases:
        assert set(case.expect) <= {"items", "poem", "ends_with_question"}, case.id


def test_test_set_covers_every_master_in_both_languages():
    cases = _cases("personas-test.jsonl")
    per = Counter((c.master, c.lang) for c in cases)
    assert len(cases) >= 144
    assert [m for m in MASTERS if not (per[(m, "zh")] and per[(m, "en")])] == []


def test_dev_set_covers_every_master():
    assert {c.master for c in _cases("personas-dev.jsonl")} == set(MASTERS)


def test_no_question_is_a_starter_an_example_or_shared_between_sets():
    seen: dict[str, str] = {}
    for name in ("personas-dev.jsonl", "personas-test.jsonl", "personas-multiturn.jsonl"):
        for case in _cases(name):
            master = CATALOG.masters[case.master]
            taken = {*master.starters.zh, *master.starters.en, *(e.user for e in master.examples)}
            for turn in case.turns:
                assert turn not in taken, case.id
                assert seen.setdefault(turn, name) == name, case.id


def test_multiturn_cases_have_several_turns():
    assert all(len(c.turns) >= 2 for c in _cases("personas-multiturn.jsonl"))
