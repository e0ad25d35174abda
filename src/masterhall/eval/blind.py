"""Blind reading of persona answers: packets for readers who must not know which variant wrote what.

Judging usefulness and persona method takes a reader. To compare variants (two models, two
prompt layouts) fairly, the answers of every variant to the same questions are pooled, shuffled
and given anonymous ids; the reader sees only the rubric (:data:`masterhall.eval.judge.RUBRIC`),
the master's method, the question and one answer at a time. A key, kept apart from the packet,
maps ids back to variants; :func:`score_packet` turns the reader's scores into means per variant.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from ..catalog.loader import Catalog
from .judge import RUBRIC, method_summary
from .sets import EvalSetError, read_jsonl


@dataclass(frozen=True)
class Packet:
    """``items``: what the reader sees (``id``, ``master``, ``method``, ``history``, ``question``,
    ``answer``), shuffled; ``key``: ``{id: {"variant", "case_id", "turn", "lang"}}``."""

    items: list[dict]
    key: dict[str, dict]

    def reader_text(self) -> str:
        """The packet as one plain text for a reader: the rubric, then every item."""
        parts = [RUBRIC, "", 'For every item, write one JSON line: {"id": "...", "persona": 0-2, "usefulness": 0-2}.', ""]
        for item in self.items:
            parts.append(f"=== {item['id']} ===\n{item['method']}")
            if item["history"]:
                parts.append("Earlier conversation:\n" + "\n".join(f"{m['role']}: {m['content']}" for m in item["history"]))
            parts.append(f"The person asked:\n{item['question']}\n\nThe master answered:\n{item['answer']}\n")
        return "\n".join(parts)


def read_saved(path: Path) -> list[dict]:
    """The answers ``masterhall eval personas --save`` wrote. Raises :class:`EvalSetError`."""
    return [row for _, row in read_jsonl(path, lambda r: isinstance(r, dict) and "answer" in r and "case_id" in r,
                                         'an answer saved by "eval personas --save"')]


def make_packet(runs: dict[str, list[dict]], catalog: Catalog, *, seed: int = 7) -> Packet:
    """Pool the saved answers of every variant in ``runs`` (``{variant: answers}``) into one packet.

    Only answers to questions every variant answered are kept, so the means compare like with like.
    """
    keys = [{(a["case_id"], a["turn"]) for a in answers} for answers in runs.values()]
    common = set.intersection(*keys) if keys else set()
    rng = random.Random(seed)
    pooled = [(variant, a) for variant, answers in runs.items() for a in answers if (a["case_id"], a["turn"]) in common]
    rng.shuffle(pooled)
    items, key = [], {}
    for number, (variant, a) in enumerate(pooled, start=1):
        item_id = f"a{number:04d}"
        master = catalog.get(a["master"])
        items.append({"id": item_id, "master": a["master"], "method": method_summary(master, a["lang"]),
                      "history": a.get("history") or [], "question": a["question"], "answer": a["answer"]})
        key[item_id] = {"variant": variant, "case_id": a["case_id"], "turn": a["turn"], "lang": a["lang"]}
    return Packet(items, key)


def score_packet(scores: list[dict], key: dict[str, dict]) -> dict[str, dict]:
    """Means of the reader's scores per variant and language: ``{variant: {group: {"n",
    "persona", "usefulness"}}}`` with groups ``all``, ``zh``, ``en``. Raises :class:`EvalSetError`
    for a score whose id is not in ``key`` or whose values are not 0, 1 or 2."""
    sums: dict[str, dict[str, list[float]]] = {}
    for row in scores:
        entry = key.get(str(row.get("id")))
        if entry is None:
            raise EvalSetError(f"score for unknown item {row.get('id')!r}")
        if row.get("persona") not in (0, 1, 2) or row.get("usefulness") not in (0, 1, 2):
            raise EvalSetError(f"item {row['id']}: persona and usefulness must be 0, 1 or 2")
        for group in ("all", entry["lang"]):
            acc = sums.setdefault(entry["variant"], {}).setdefault(group, [0, 0.0, 0.0])
            acc[0] += 1
            acc[1] += row["persona"]
            acc[2] += row["usefulness"]
    return {variant: {group: {"n": n, "persona": p / n, "usefulness": u / n} for group, (n, p, u) in groups.items()}
            for variant, groups in sums.items()}


def write_packet(packet: Packet, folder: Path) -> tuple[Path, Path]:
    """Write ``packet.txt`` (for the reader) and ``key.json`` (kept away from the reader) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    reader, key = folder / "packet.txt", folder / "key.json"
    reader.write_text(packet.reader_text(), encoding="utf-8")
    key.write_text(json.dumps(packet.key, ensure_ascii=False, indent=1), encoding="utf-8")
    return reader, key
