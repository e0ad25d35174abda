"""What the safety guard costs a turn: ``python bench/safety.py [--turns 120] [--json out.json]``.

Both series run in one process, interleaved turn by turn so they see the same machine load:

* *baseline*: a turn with the fake backend (instant reply) through ``ChatEngine.stream`` with a
  guard that rates nothing (the rest of the turn: prompt building, stream checks);
* *guarded*: the same turn with the hall's guard (rules, USE sentence vector, classifier,
  conversation signal over a 3-turn history whose scores are cached, as in a live conversation);
* *guarded, cold history*: the score cache cleared before every turn, so the earlier user
  messages are encoded again too (the first turn after a restart).

Messages are the dev split's texts (every one new to the guard, so each is encoded). Printed: the
start-up cost (USE load, bank encoding and fit), p50 / p95 / mean per series, the time the guard
adds (mean guarded − mean baseline) against the target of 30 ms, and the ratio guarded / baseline.
The mean process CPU time per turn is printed too: on a shared machine it is steadier than the
wall-clock time (a turn's encoding uses one core).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from masterhall import BackendRegistry, ChatEngine, ChatMessage, FakeBackend, load_catalog, load_settings, paths  # noqa: E402
from masterhall.finder.encoders import UseEncoder  # noqa: E402
from masterhall.safety import Assessment, SafetyGuard  # noqa: E402

TARGET_MS = 30.0


class NoGuard(SafetyGuard):
    """Rates every turn ``none`` without looking at it (the baseline)."""

    def assess(self, history, message, lang="en"):
        return Assessment(lang=lang, region="US")


def _engine(catalog, guard) -> tuple[ChatEngine, FakeBackend]:
    fake = FakeBackend("fake")
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(fake)
    return ChatEngine(catalog, registry, safety=guard), fake


CPU: dict[str, list[float]] = {}


def _turn(engine, history, text, series: str = "") -> float:
    start, cpu = time.perf_counter(), time.process_time()
    engine.stream("socrates", history, text).collect()
    CPU.setdefault(series, []).append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - start) * 1000


def _stats(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(ordered[int(0.95 * (len(ms) - 1))], 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0 when the guard adds at most :data:`TARGET_MS` on average."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--turns", type=int, default=120)
    p.add_argument("--json", dest="json_path")
    args = p.parse_args(argv)
    rows = [json.loads(line) for line in (ROOT / "evalsets" / "safety-dev.jsonl").read_text(encoding="utf-8").splitlines() if line]
    texts = [r["text"] for r in rows][: args.turns]
    catalog = load_catalog()
    t0 = time.perf_counter()
    encoder = UseEncoder()
    encoder.encode_query("warm up")
    load_s = time.perf_counter() - t0
    guard = SafetyGuard(encoder, cache_dir=paths.cache_dir())  # a fit kept from an earlier run is reused
    t1 = time.perf_counter()
    guard.prepare()
    prepare_s = time.perf_counter() - t1
    base_engine, base_fake = _engine(catalog, NoGuard())
    guarded_engine, guarded_fake = _engine(catalog, guard)
    history = [ChatMessage("user", "I have had a long week at work"), ChatMessage("assistant", "Tell me more."),
               ChatMessage("user", "My manager keeps moving deadlines"), ChatMessage("assistant", "That sounds tiring."),
               ChatMessage("user", "I don't know what to do about it"), ChatMessage("assistant", "Let's think it through.")]
    for text in texts[:5]:  # warm-up: imports, first allocations
        _turn(base_engine, history, "warm " + text)
        _turn(guarded_engine, history, "warm " + text)
    series: dict[str, list[float]] = {"baseline": [], "guarded": [], "guarded_cold_history": []}
    for i, text in enumerate(texts):
        series["baseline"].append(_turn(base_engine, history, text, "baseline"))
        series["guarded"].append(_turn(guarded_engine, history, text, "guarded"))
        guard._scores.clear()
        series["guarded_cold_history"].append(_turn(guarded_engine, history, f"{text} ({i})", "guarded_cold_history"))
    out = {name: {**_stats(ms), "cpu_mean_ms": round(statistics.fmean(CPU[name]), 2)} for name, ms in series.items()}
    added = out["guarded"]["mean_ms"] - out["baseline"]["mean_ms"]
    added_cold = out["guarded_cold_history"]["mean_ms"] - out["baseline"]["mean_ms"]
    report = {
        "machine": {"cpus": len(os.sched_getaffinity(0)), "load_avg": os.getloadavg()},
        "startup": {"use_load_s": round(load_s, 2), "bank_encode_and_fit_s": round(prepare_s, 2), "bank_size": len(guard.classifier.bank)},
        "series": out,
        "added_ms": round(added, 2),
        "added_cold_history_ms": round(added_cold, 2),
        "ratio": round(out["guarded"]["mean_ms"] / out["baseline"]["mean_ms"], 2),
        "target_ms": TARGET_MS,
    }
    print(f"start-up: USE load {load_s:.2f} s, bank of {len(guard.classifier.bank)} encoded and fitted in {prepare_s:.2f} s")
    for name, s in out.items():
        print(f"{name:22s} p50 {s['p50_ms']:7.2f} ms   p95 {s['p95_ms']:7.2f} ms   mean {s['mean_ms']:7.2f} ms   "
              f"CPU {s['cpu_mean_ms']:7.2f} ms")
    print(f"guard adds {added:.2f} ms a turn (cold history {added_cold:.2f} ms); ratio guarded/baseline {report['ratio']:.2f}; "
          f"target ≤ {TARGET_MS:.0f} ms: {'met' if added <= TARGET_MS else 'NOT met'}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0 if added <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
