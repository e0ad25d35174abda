"""The rules' prefilter: a pattern's needed characters are read right, and skipping changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from masterhall.safety import rules as R
from masterhall.safety.prefilter import ASCII_LETTERS, NON_ASCII, has_any, needs

ROOT = Path(__file__).resolve().parents[2]


def test_needs_reads_the_pattern():
    assert needs(re.compile(r"想(?:去)?死|自杀"), NON_ASCII)
    assert not needs(re.compile(r"想死|kms"), NON_ASCII)  # one branch is all ASCII
    assert not needs(re.compile(r"(?:自杀)?x"), NON_ASCII)  # optional
    assert needs(re.compile(r"[一-龥]+\d"), NON_ASCII) and not needs(re.compile(r"[^a]"), NON_ASCII)
    assert needs(re.compile(r"\bkill\b"), ASCII_LETTERS) and not needs(re.compile(r"\d+|."), ASCII_LETTERS)
    assert not needs(re.compile(r"kill", re.I), ASCII_LETTERS)  # case folding: not read
    assert has_any("abc 自杀", NON_ASCII) and not has_any("abc", NON_ASCII) and not has_any("自杀 1", ASCII_LETTERS)


def _reference(text: str) -> R.RuleHit | None:
    """match_rules without any prefilter: every pattern searched."""
    text = (text or "")[:20_000]
    zh = R._ZH_IDIOMS.sub("，", text)
    en = R._EN_IDIOMS.sub(" ", R._EN_NEGATED.sub(" ", R._lower(text).replace("’", "'")))
    about = bool(R._ZH_TOPIC.search(zh) or R._EN_TOPIC.search(en))
    victim = bool(R._VICTIM.search(zh) or R._VICTIM.search(en))
    for lang_rules, form, accident in ((R._ZH_RE, zh, R._ZH_ACCIDENT), (R._EN_RE, en, R._EN_ACCIDENT)):
        for rule, kind, rx in lang_rules:
            m = rx.search(form)
            if m is None or (kind == "self_harm" and accident.search(form)):
                continue
            if about and R._NOUNS.search(m.group(0)) and not (victim and kind in ("abuse", "sexual_violence")):
                continue
            return R.RuleHit(rule, kind, m.group(0))
    return None


def _texts() -> list[str]:
    texts = []
    for path in [ROOT / "evalsets" / "safety-dev.jsonl", *sorted((ROOT / "src/masterhall/safety/data").glob("*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if isinstance(item.get("text"), str):
                    texts.append(item["text"])
    return texts


def test_prefiltered_rules_fire_exactly_as_every_rule_searched():
    texts = _texts()
    assert len(texts) > 500
    fired = 0
    for text in texts + [t.upper() for t in texts] + [t + " 我想死" for t in texts[:200]] + ["", "hello", "你好"]:
        expected = _reference(text)
        assert R.match_rules(text) == expected, text
        fired += expected is not None
    assert fired > 100  # the sets hold crises: the comparison saw rules fire
