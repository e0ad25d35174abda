"""Scale benchmark of the Master Finder: synthetic halls of 1k, 10k and 100k masters.

Run from the repository root::

    .venv/bin/python bench/finder_bench.py [--sizes 1000,10000,100000] [--rounds 5] [--json bench/finder_results.json]

What it measures, per size (results and the machine go into ``bench/README.md``):

* **cold encoding** — real models: a sample of synthetic masters is encoded with USE and e5
  exactly as the finder does (profile passage; tags and starters), with a progress bar; the
  time per master is extrapolated to the size. This is the one-time cost of a cold cache and is
  *excluded* from the build time.
* **index build** — ``Finder(masters)`` from a warm cache (every vector already on disk, as after
  a restart): reading vectors, BM25 (bm25s) over both languages, names, sign bits.
* **memory** — the process's resident memory before and after the build, and the bytes of the
  finder's own arrays.
* **query latency** — p50 / p99 of ``Finder.match(query, k=5)`` (validation, tokenizing, BM25,
  both dense channels, name look-up, fusion, reasons) against a plain numpy brute force over one
  matrix (``M @ q`` then ``argpartition``, the USE vectors of one language), run with numpy's
  default BLAS threads and with BLAS limited to one thread; the ratio is to the faster of the
  two. (On a busy 2-core machine a multi-threaded BLAS call waits for its second thread to be
  scheduled: about 8 ms whatever the size.) Query *encoding* is in neither number (it does not
  depend on the size; reported once).
* **dense recall@10** of the finder's dense stage (sign-bit prefilter above ``exact_limit``)
  against exact search, and **top-3 by template**: a synthetic master is built from one real
  master (its "template"), so a query's result counts as right when its template is relevant.

Synthetic masters: each takes a real master as template, a random half of its tags plus a few
tags of other masters, its starters, and a numbered name. Their vectors are the template's real
vectors plus noise (cosine 0.8 to the template), written into the cache folder before the
build; the queries are the public evaluation queries, encoded once with the real models.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "tests" / "data" / "finder-public.jsonl"


# -- machine and memory ---------------------------------------------------------------------------
def machine() -> str:
    """One line describing CPU, cores, memory, Python and numpy."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024**2:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at start"
    return f"{cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}, numpy {np.__version__}{load}"


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values``."""
    return float(np.percentile(np.asarray(values), q))


# -- synthetic hall ---------------------------------------------------------------------------------
def synthetic_masters(catalog, n: int, seed: int = 0):
    """``n`` masters, each derived from a real one (returned as ``(masters, template ids)``)."""
    from masterhall import Master

    rng = np.random.default_rng(seed)
    real = catalog.advisors()
    out, templates = [], []
    for i in range(n):
        t = real[i % len(real)]
        other = real[int(rng.integers(len(real)))]
        data = t.model_dump()
        data["id"] = f"{t.id}-{i}"
        data["name"] = {"zh": f"{t.name.zh}{i}号", "en": f"{t.name.en} No. {i}"}
        for lang in ("zh", "en"):
            own = list(getattr(t.tags, lang))
            pick = [own[j] for j in sorted(rng.choice(len(own), size=max(5, len(own) // 2), replace=False))]
            extra = list(getattr(other.tags, lang))[:3]
            data["tags"][lang] = pick + [x for x in extra if x not in pick]
        out.append(Master.model_validate(data))
        templates.append(t.id)
    return out, templates


class ReplayEncoder:
    """Stands in for a real encoder at scale: answers queries with vectors computed beforehand by
    the real model, and never encodes documents (their vectors are already in the cache)."""

    def __init__(self, real, queries: dict[str, np.ndarray]):
        self.name = real.name
        self.dim = real.dim
        self._queries = queries
        self.documents = 0

    def encode_query(self, text: str) -> np.ndarray:
        return self._queries[text]

    def encode_documents(self, texts):
        self.documents += len(texts)
        rng = np.random.default_rng(len(texts))
        v = rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def brute_force(matrix: np.ndarray, queries: list[str], qvecs: dict[str, np.ndarray], rounds: int, k: int = 5) -> list[float]:
    """Milliseconds per query of the plain baseline: ``matrix @ q``, then the top ``k``."""
    times = []
    for _ in range(rounds):
        for q in queries:
            qv = qvecs[q]
            t0 = time.perf_counter()
            s = matrix @ qv
            top = np.argpartition(-s, k)[:k]
            top = top[np.argsort(-s[top])]
            times.append((time.perf_counter() - t0) * 1000)
    return times


def noisy(base: np.ndarray, rng, cos: float = 0.8) -> np.ndarray:
    """Unit vectors at cosine ``cos`` (in expectation) from the unit rows of ``base``."""
    noise = rng.standard_normal(base.shape).astype(np.float32)
    noise -= (noise * base).sum(axis=1, keepdims=True) * base  # orthogonal to base
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    out = cos * base + np.sqrt(1 - cos**2) * noise
    return out / np.linalg.norm(out, axis=1, keepdims=True)


# -- phases -----------------------------------------------------------------------------------------
def encode_sample(real_channels, masters, console) -> float:
    """Seconds per master to encode ``masters`` with the real models, as the finder does."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from masterhall.finder.text import profile_text, profile_units

    start = time.perf_counter()
    with Progress(
        TextColumn("encoding a sample with the real models"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("encode", total=len(masters))
        for m in masters:
            for ch in real_channels:
                for lang in ("zh", "en"):
                    if ch.recipe == "profile":
                        ch.encoder.encode_documents([profile_text(m, lang)])
                    else:
                        tags, starters = profile_units(m, lang)
                        ch.encoder.encode_documents(tags + starters)
            real_channels[0].encoder.encode_documents(list(m.tags.zh) + list(m.tags.en))  # reason tags
            bar.advance(task)
    return (time.perf_counter() - start) / len(masters)


def seed_cache(folder: Path, channels, masters, templates, template_vecs, tag_vecs, rng) -> None:
    """Write every vector the finder will need into the cache folder under ``folder``."""
    from masterhall.finder import tag_key, vector_key
    from masterhall.finder.vectors import VectorStore, store_folder

    for ch in channels:
        store = VectorStore(store_folder(folder, ch.encoder.name), ch.encoder.dim)
        for lang in ("zh", "en"):
            base = np.stack([template_vecs[ch.name][(t, lang)] for t in templates])
            store.put([vector_key(ch, m, lang) for m in masters], noisy(base, rng))
        if ch.name == "use" and tag_vecs:
            keys = [tag_key(ch.encoder.name, t) for t in tag_vecs]
            store.put(keys, np.stack(list(tag_vecs.values())))
        store.save()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see the module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated hall sizes")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the query set per size")
    parser.add_argument("--sample", type=int, default=24, help="synthetic masters encoded with the real models")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    sys.path.insert(0, str(ROOT / "src"))
    from rich.console import Console
    from rich.table import Table
    from threadpoolctl import ThreadpoolController

    from masterhall import load_catalog
    from masterhall.finder import DenseChannel, Finder, default_channels, vector_key
    from masterhall.finder.dense import top_indices
    from masterhall.finder.vectors import VectorStore, store_folder

    console = Console(stderr=True)
    described = machine()
    console.print(f"[bold]machine:[/] {described}")
    catalog = load_catalog()
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    queries = [r["query"] for r in rows]
    relevant = {r["query"]: set(r["relevant"]) for r in rows}

    # Real vectors: every master's (from a finder over the real catalog), every query's, every tag's.
    real_channels = default_channels()
    real = Finder(catalog, channels=real_channels)  # encodes the catalog once into the hall cache
    template_vecs = {}
    for ch in real_channels:
        store = VectorStore(store_folder(real.cache_dir, ch.encoder.name), ch.encoder.dim)
        template_vecs[ch.name] = {
            (m.id, lang): store.get(vector_key(ch, m, lang)).copy() for m in catalog.advisors() for lang in ("zh", "en")
        }
    qvecs, qtime = {}, {}
    for ch in real_channels:
        ch.encoder.encode_query("warm up")
        t0 = time.perf_counter()
        qvecs[ch.name] = {q: ch.encoder.encode_query(q) for q in queries}
        qtime[ch.name] = (time.perf_counter() - t0) / len(queries) * 1000
    tags = sorted({t for m in catalog.advisors() for t in (*m.tags.zh, *m.tags.en)})
    use = next(ch for ch in real_channels if ch.name == "use")
    tag_vecs = dict(zip(tags, use.encoder.encode_documents(tags)))

    sample, _ = synthetic_masters(catalog, args.sample, seed=99)
    per_master = encode_sample(real_channels, sample, console)

    results = []
    for n in sizes:
        console.print(f"[bold]{n:,} masters[/]")
        masters, templates = synthetic_masters(catalog, n)
        template_of = {m.id: t for m, t in zip(masters, templates)}
        channels = [DenseChannel(ch.name, ReplayEncoder(ch.encoder, qvecs[ch.name]), ch.recipe, ch.cross_lingual) for ch in real_channels]
        with tempfile.TemporaryDirectory() as tmp:
            rng = np.random.default_rng(n)
            t0 = time.perf_counter()
            seed_cache(Path(tmp), channels, masters, templates, template_vecs, tag_vecs, rng)
            seed_s = time.perf_counter() - t0
            rss0 = rss_mib()
            t0 = time.perf_counter()
            finder = Finder(masters, cache_dir=Path(tmp), channels=channels)
            build_s = time.perf_counter() - t0
            rss1 = rss_mib()
            assert finder.stats.encoded == 0, "the build encoded documents: the cache was not used"
            finder.match(queries[0])  # first query: lazy BM25 state, reason tag vectors

            lat, hits3 = [], 0
            for r in range(args.rounds):
                for q in queries:
                    t0 = time.perf_counter()
                    found = finder.match(q, k=5)
                    lat.append((time.perf_counter() - t0) * 1000)
                    if r == 0:
                        hits3 += any(template_of[m.master_id] in relevant[q] for m in found[:3])
            matrix = np.ascontiguousarray(finder.dense_index("use").vectors("en"))
            base = {"blas": brute_force(matrix, queries, qvecs["use"], args.rounds)}
            with ThreadpoolController().limit(limits=1, user_api="blas"):
                base["1 thread"] = brute_force(matrix, queries, qvecs["use"], args.rounds)
            best = min(base, key=lambda k: pct(base[k], 50))
            recall = []
            index = finder.dense_index("use")
            for q in queries:
                qv = qvecs["use"][q]
                got, _ = index.search(qv, ("zh", "en"), 10)
                exact = np.maximum(index.vectors("zh") @ qv, index.vectors("en") @ qv)
                want = top_indices(exact, 10)
                recall.append(len(set(got.tolist()) & set(want.tolist())) / 10)
            extra, _ = synthetic_masters(catalog, 1, seed=n + 1)
            edited = extra[0].model_copy(update={"id": masters[n // 2].id})
            t0 = time.perf_counter()
            finder.upsert(edited)
            finder.match(queries[1])
            upsert_ms = (time.perf_counter() - t0) * 1000
            result = {
                "masters": n,
                "cold_encoding_s_extrapolated": round(per_master * n, 1),
                "seed_cache_s": round(seed_s, 2),
                "build_s": round(build_s, 2),
                "rss_delta_mib": round(rss1 - rss0, 1),
                "index_mib": round(finder.nbytes / 2**20, 1),
                "finder_p50_ms": round(pct(lat, 50), 2),
                "finder_p99_ms": round(pct(lat, 99), 2),
                "numpy_blas_p50_ms": round(pct(base["blas"], 50), 2),
                "numpy_blas_p99_ms": round(pct(base["blas"], 99), 2),
                "numpy_1thread_p50_ms": round(pct(base["1 thread"], 50), 2),
                "numpy_1thread_p99_ms": round(pct(base["1 thread"], 99), 2),
                "baseline": best,
                "ratio_p50": round(pct(lat, 50) / pct(base[best], 50), 2),
                "dense_recall_at_10": round(float(np.mean(recall)), 3),
                "top3_by_template": round(hits3 / len(queries), 3),
                "upsert_then_query_ms": round(upsert_ms, 1),
            }
            results.append(result)
            console.print(result)
            del finder

    table = Table(title="Master Finder at scale")
    cols = [
        ("masters", "masters"),
        ("cold encode (est.)", "cold_encoding_s_extrapolated"),
        ("build s", "build_s"),
        ("RSS +MiB", "rss_delta_mib"),
        ("index MiB", "index_mib"),
        ("finder p50/p99 ms", None),
        ("numpy BLAS p50/p99", None),
        ("numpy 1-thr p50/p99", None),
        ("ratio p50", "ratio_p50"),
        ("recall@10", "dense_recall_at_10"),
        ("top-3 (template)", "top3_by_template"),
        ("upsert+query ms", "upsert_then_query_ms"),
    ]
    for title, _ in cols:
        table.add_column(title, justify="right")
    for r in results:
        table.add_row(
            f"{r['masters']:,}", f"{r['cold_encoding_s_extrapolated']:,} s", f"{r['build_s']}", f"{r['rss_delta_mib']}",
            f"{r['index_mib']}", f"{r['finder_p50_ms']} / {r['finder_p99_ms']}",
            f"{r['numpy_blas_p50_ms']} / {r['numpy_blas_p99_ms']}", f"{r['numpy_1thread_p50_ms']} / {r['numpy_1thread_p99_ms']}",
            f"{r['ratio_p50']}", f"{r['dense_recall_at_10']}", f"{r['top3_by_template']}", f"{r['upsert_then_query_ms']}",
        )
    out = Console(width=200)
    out.print(table)
    out.print(
        f"query encoding (real models, not in the latencies above): USE {qtime['use']:.1f} ms, "
        f"e5 {qtime['e5']:.1f} ms per query; cold encoding ≈ {per_master * 1000:.0f} ms per master "
        f"(sample of {args.sample})"
    )
    if hasattr(os, "getloadavg"):
        out.print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"machine": described, "query_encoding_ms": qtime, "per_master_encoding_s": per_master, "sizes": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
