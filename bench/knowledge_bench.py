"""Retrieval latency of a master's knowledge at 10,000 chunks (issue 14, target p50 ≤ 20 ms).

Run from the repository root::

    .venv/bin/python bench/knowledge_bench.py [--chunks 10000] [--queries 60] [--json bench/knowledge_results.json]

What one turn's retrieval costs, measured with :meth:`KnowledgeService.brief_for` on a SQLite
file holding ``--chunks`` chunks of one master: the store's change check (two small SQL
queries), encoding the question with the real USE encoder, BM25 (bm25s) over every chunk, the
exact dense search over every chunk's vector, fusion, the Q&A match and the prompt section.

Chunks: sentences built from the evaluation set's sources (``evalsets/knowledge``) with numbered
variations, so BM25 sees a realistic vocabulary; their vectors are random unit vectors written
straight into the store (encoding 10,000 passages is the one-time cost of indexing, not of a turn,
and is reported separately for a sample). The in-memory index is built once before timing (as
after a server's first turn with that master).

Baseline, measured in the same run: the same questions through the bare pieces a turn cannot do
without — USE encoding of the question plus ``M @ q`` and ``argpartition`` over the 10,000 × 512
matrix. The ratio says what the hall adds on top (BM25, fusion, the change check, the brief).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _sentences() -> list[str]:
    from masterhall.knowledge.parse import file_format, parse_file

    out = []
    for path in sorted((ROOT / "evalsets" / "knowledge").iterdir()):
        if file_format(path.name) and not path.name.startswith("questions"):
            for section in parse_file(path.read_bytes(), path.name):
                out += [line for line in section.text.splitlines() if line.strip()]
    return out


def _questions() -> list[str]:
    rows = []
    for name in ("questions-dev.jsonl", "questions-test.jsonl"):
        rows += [json.loads(line)["question"] for line in (ROOT / "evalsets" / "knowledge" / name).read_text().splitlines()]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from masterhall.builder.library import MasterLibrary
    from masterhall.catalog import load_catalog
    from masterhall.finder.dense import top_indices
    from masterhall.finder.encoders import UseEncoder
    from masterhall.knowledge.chunk import text_hash
    from masterhall.knowledge.service import KnowledgeService
    from masterhall.store import Store
    from masterhall.store.knowledge import NewChunk

    rng = np.random.default_rng(14)
    use = UseEncoder()
    sentences = _sentences()
    questions = (_questions() * (args.queries // 52 + 1))[: args.queries]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        catalog = load_catalog()
        library = MasterLibrary(catalog, store.masters)
        master = library.save(catalog.get("socrates").model_copy(update={"id": "bench-master"}), "published").master
        service = KnowledgeService(library, store.knowledge, [use])
        t0 = time.perf_counter()
        sample = use.encode_documents(sentences[:64])
        encode_per_chunk_ms = (time.perf_counter() - t0) * 1000 / len(sample)
        vectors = rng.normal(size=(args.chunks, use.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        per_file = 500
        for f in range(0, args.chunks, per_file):
            rows = []
            for i in range(f, min(f + per_file, args.chunks)):
                text = f"{sentences[i % len(sentences)]} (note {i}, variant {i // len(sentences)})"
                rows.append(NewChunk(text, f"Section {i % 40}", i - f, text_hash(text), vectors[i].tobytes()))
            store.knowledge.replace_chunks(master.id, f"{f:032x}", "file", f"file-{f // per_file}.md", rows, service.encoder_key)
        t0 = time.perf_counter()
        service.brief_for(master.id, [], "warm up")
        build_s = time.perf_counter() - t0
        for q in questions[:5]:
            service.brief_for(master.id, [], q)
            use.encode_query(q)

        hall_ms, base_ms, encode_ms = [], [], []
        for q in questions:
            t0 = time.perf_counter()
            brief = service.brief_for(master.id, [], q)
            hall_ms.append((time.perf_counter() - t0) * 1000)
            assert brief is not None and brief.passages
            t0 = time.perf_counter()
            qv = use.encode_query(q)
            encode_ms.append((time.perf_counter() - t0) * 1000)
            top_indices(vectors @ qv, 8)
            base_ms.append((time.perf_counter() - t0) * 1000)
        store.close()

    def p(values, q):
        return round(float(np.percentile(values, q)), 2)

    report = {
        "load_avg": " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "",
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}, numpy {np.__version__}",
        "chunks": args.chunks, "queries": len(questions), "index_build_s": round(build_s, 2),
        "encode_passage_ms": round(encode_per_chunk_ms, 2),
        "hall_p50_ms": p(hall_ms, 50), "hall_p95_ms": p(hall_ms, 95),
        "baseline_p50_ms": p(base_ms, 50), "query_encode_p50_ms": p(encode_ms, 50),
        "ratio_p50": round(statistics.median(hall_ms) / statistics.median(base_ms), 2),
        "hall_minus_encode_p50_ms": round(statistics.median(hall_ms) - statistics.median(encode_ms), 2),
        "target_p50_ms": 20.0,
    }
    report["target_met"] = report["hall_p50_ms"] <= report["target_p50_ms"]
    for key, value in report.items():
        print(f"{key:>22}: {value}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
