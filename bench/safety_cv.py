"""Cross-validated figures for the safety guard: ``python bench/safety_cv.py [--folds 5] [--extra F.jsonl ...]``.

The dev split says little once thresholds were chosen on it, and the bank's own lines would score
perfectly (each is its own nearest exemplar). Here the bank is cut into ``--folds`` parts (by a
hash of the text, so the cut is stable); each part is rated by a guard whose classifier was fitted
on the other parts, through the whole :meth:`~masterhall.safety.SafetyGuard.assess` (rules,
gates, thresholds). Printed: recall (crisis answered with help), recall with elevated turns, and
false alarms per kind and language, for the bank (out-of-fold), for the dev split (full bank), and
for any ``--extra`` set (full bank). ``--thresholds`` lists recall and false alarms of the pooled
out-of-fold and dev scores at a range of crisis thresholds. Sentence vectors are computed once per
run (about 10 s for ~2,000 texts on 2 cores).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from masterhall.finder.encoders import UseEncoder  # noqa: E402
from masterhall.safety import CrisisClassifier, Exemplar, SafetyGuard, load_bank  # noqa: E402


class MemoEncoder:
    """Wraps an encoder so every text is encoded once per run (same ``name``, same vectors)."""

    def __init__(self, inner):
        self.inner, self.name, self.memo = inner, inner.name, {}

    def warm(self, texts):
        """Encode ``texts`` not seen yet, in one batch."""
        new = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if new:
            self.memo.update(zip(new, self.inner.encode_documents(new)))

    def encode_documents(self, texts):
        """``(n, dim)`` unit rows."""
        self.warm(texts)
        return np.stack([self.memo[t] for t in texts])

    def encode_query(self, text):
        """``(dim,)`` unit row."""
        self.warm([text])
        return self.memo[text]


def _read(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"text": r["text"], "crisis": bool(r["crisis"]), "kind": r.get("kind") or "", "lang": r.get("lang") or "en"} for r in rows]


def _fold(text: str, folds: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % folds


def rate(guard: SafetyGuard, rows: list[dict]) -> list[dict]:
    """Each row with ``level`` and ``score`` added (rated alone, as a first message)."""
    out = []
    for r in rows:
        a = guard.assess([], r["text"], r["lang"])
        out.append({**r, "level": a.level, "score": a.score if a.score is not None else 0.0, "gate": a.extra.get("gate"),
                    "source": a.source})
    return out


def summary(rated: list[dict]) -> dict[str, dict]:
    """``group -> {crisis, caught, guarded, look, fa, elev}`` for all, per language and per kind."""
    groups: dict[str, dict] = defaultdict(lambda: {"crisis": 0, "caught": 0, "guarded": 0, "look": 0, "fa": 0, "elev": 0})
    for r in rated:
        for name in ("all", f"lang:{r['lang']}", f"kind:{r['kind']}"):
            g = groups[name]
            if r["crisis"]:
                g["crisis"] += 1
                g["caught"] += r["level"] == "crisis"
                g["guarded"] += r["level"] in ("crisis", "elevated")
            else:
                g["look"] += 1
                g["fa"] += r["level"] == "crisis"
                g["elev"] += r["level"] == "elevated"
    return dict(groups)


def show(title: str, rated: list[dict], errors: bool) -> None:
    """Print a summary table (and the errors)."""
    print(f"\n== {title}")
    groups = summary(rated)
    for name in sorted(groups, key=lambda n: (n != "all", not n.startswith("lang:"), n)):
        g = groups[name]
        rec = ""
        if g["crisis"]:
            rec = f"recall {g['caught']}/{g['crisis']} = {g['caught'] / g['crisis']:.3f} (+elev {g['guarded'] / g['crisis']:.3f})"
        fa = f"false alarms {g['fa']}/{g['look']} = {g['fa'] / g['look']:.3f} (elev {g['elev']})" if g["look"] else ""
        print(f"  {name:26s} {rec:44s} {fa}")
    if errors:
        for r in rated:
            if r["crisis"] and r["level"] != "crisis":
                print(f"   MISS[{r['level']}] {r['score']:.2f} {r['kind']}: {r['text']}  gate={r['gate']}")
        for r in rated:
            if not r["crisis"] and r["level"] == "crisis":
                print(f"   FA {r['score']:.2f} {r['kind']} ({r['source']}): {r['text']}")


def main(argv: list[str] | None = None) -> int:
    """Run the cross-validation; prints the tables."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--extra", nargs="*", default=[])
    p.add_argument("--errors", action="store_true")
    p.add_argument("--thresholds", action="store_true")
    p.add_argument("--no-dev", action="store_true")
    args = p.parse_args(argv)
    bank = load_bank()
    dev = [] if args.no_dev else _read(ROOT / "evalsets" / "safety-dev.jsonl")
    extras = {name: _read(Path(name)) for name in args.extra}
    enc = MemoEncoder(UseEncoder())
    enc.warm([e.text for e in bank] + [r["text"] for r in dev] + [r["text"] for rows in extras.values() for r in rows])
    oof = []
    for k in range(args.folds):
        train = [e for e in bank if _fold(e.text, args.folds) != k]
        test = [{"text": e.text, "crisis": e.crisis, "kind": e.kind, "lang": e.lang} for e in bank if _fold(e.text, args.folds) == k]
        guard = SafetyGuard(classifier=CrisisClassifier(enc, train).fit())
        oof += rate(guard, test)
    show(f"bank, {args.folds}-fold out-of-fold ({len(bank)} lines)", oof, args.errors)
    full = SafetyGuard(classifier=CrisisClassifier(enc, bank).fit())
    if dev:
        show("dev split (full bank)", rate(full, dev), args.errors)
    for name, rows in extras.items():
        show(f"{name} (full bank)", rate(full, rows), args.errors)
    if args.thresholds:
        pooled = oof + (rate(full, dev) if dev else [])
        print("\n== crisis threshold sweep (out-of-fold bank + dev; classifier-only decisions)")
        for t in np.arange(0.25, 0.71, 0.05):
            c = [r for r in pooled if r["crisis"] and r["source"] != "rule"]
            n = [r for r in pooled if not r["crisis"] and r["kind"] != "ordinary"]
            miss = sum(r["score"] < t for r in c)
            fa = sum(r["score"] >= t and not r["gate"] for r in n)
            print(f"  t={t:.2f}  non-rule crisis below t: {miss}/{len(c)}   look-alikes at/above t (ungated): {fa}/{len(n)}")
    return 0


__all__ = ["Exemplar", "MemoEncoder", "main", "rate", "summary"]

if __name__ == "__main__":
    raise SystemExit(main())
