"""API overhead with the fake backend: MasterHall's endpoints vs a bare FastAPI endpoint.

Two servers on 127.0.0.1, each its own uvicorn process: ``masterhall serve --backend fake`` and
:mod:`bench.bare_app` (same request bodies, same SSE events, same fake reply, nothing else).
For each endpoint (``/api/messages``: a new stored conversation per request; ``/v1/chat/completions``
streaming with a master), ``requests`` requests are sent one after another on a keep-alive
connection after a warm-up — interleaved request by request with the other series, so that all
see the same load of a shared machine — then as many from 4 clients at once (in blocks that
alternate between the series). Latency = request sent →
last byte of the stream. Reported: requests/s, p50/p95 latency, the latency MasterHall adds per
request, and the ratio of mean latencies to the bare endpoint doing the same storage (target ≤ 1.3).

``/api/messages`` stores the turn durably (SQLite in WAL mode, default ``synchronous``: a commit is
an fsync), so its baseline is ``bare+sqlite``: the bare endpoint plus the same rows (conversation,
user message, answer started, answer finished) in MasterHall's own tables, in four plain ``sqlite3``
commits, one per row. MasterHall stores the same rows in two (the turn's start in one transaction,
its end in another). ``bare+small`` (four rows of five columns in a table without index or
constraint, the baseline before 2026-12-01) is reported for reference.
``/v1/chat/completions`` stores nothing, and its baseline is the bare endpoint.

The hall runs with the safety guard's rules but without its semantic layer
(``MASTERHALL_SAFETY_SEMANTIC=false``): the bare endpoint does no crisis check, and the guard's
own cost per turn (a sentence encoding and a classifier, target ≤ 30 ms) is measured apart, in
:mod:`bench.safety`.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

import httpx

from .common import Context, ServerProcess, Stream, ms, post_chat_completions, post_messages, rnd, target

MASTER = "socrates"
CONTENT = "Tell me in a few words what you think about the weather today and tomorrow"
CLIENTS = 4


def _bodies(endpoint: str, prefix: str = "") -> tuple:
    if endpoint == "/api/messages":
        return (lambda client, body: post_messages(client, body, path=prefix + endpoint)), {"master_id": MASTER, "content": CONTENT}
    return post_chat_completions, {"model": MASTER, "messages": [{"role": "user", "content": CONTENT}]}


def _sequential(series: list[tuple], n: int, warmup: int) -> list[tuple[list[Stream], float]]:
    """``n`` requests per series, one at a time, interleaved request by request across the series
    (each on its own keep-alive connection) so that every series sees the same machine load.
    The wall time of a series is the sum of its requests' latencies."""
    clients = [httpx.Client(base_url=server.url, timeout=60) for _, server, _, _ in series]
    sends = [_bodies(endpoint, prefix) for _, _, endpoint, prefix in series]
    try:
        for client, (send, body) in zip(clients, sends):
            for _ in range(warmup):
                send(client, body)
        streams: list[list[Stream]] = [[] for _ in series]
        for _ in range(n):
            for i, (client, (send, body)) in enumerate(zip(clients, sends)):
                streams[i].append(send(client, body))
    finally:
        for client in clients:
            client.close()
    return [(ss, sum(_latencies(ss)) or 1e-9) for ss in streams]


def _concurrent(url: str, endpoint: str, n: int, prefix: str = "") -> tuple[list[Stream], float]:
    """``n`` requests from :data:`CLIENTS` clients at once; wall time from start to the last end."""
    send, body = _bodies(endpoint, prefix)
    per_client = max(1, n // CLIENTS)
    results: list[list[Stream]] = [[] for _ in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS + 1)

    def worker(i: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            send(client, body)
            barrier.wait(timeout=60)
            results[i] = [send(client, body) for _ in range(per_client)]

    threads = [threading.Thread(target=worker, args=(i,), name=f"bench-api-{i}") for i in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    start = time.perf_counter()
    for t in threads:
        t.join(300)
    return [s for r in results for s in r], time.perf_counter() - start


def _latencies(streams: list[Stream]) -> list[float]:
    return [s.t_end - s.t0 for s in streams if s.ok and s.t_end is not None]


def _row(server: str, endpoint: str, mode: str, streams: list[Stream], wall_s: float) -> dict:
    lat = sorted(_latencies(streams))
    return {
        "server": server, "endpoint": endpoint, "mode": mode, "requests": len(streams),
        "rps": rnd(len(streams) / wall_s) if wall_s > 0 else None,
        "p50_ms": ms(statistics.median(lat)) if lat else None,
        "p95_ms": ms(lat[min(len(lat) - 1, int(0.95 * len(lat)))]) if lat else None,
        "mean_ms": ms(statistics.fmean(lat)) if lat else None,
        "mean_exact_ms": statistics.fmean(lat) * 1000 if lat else None,  # ratios: not from means rounded to 0.1 ms
        "errors": sum(1 for s in streams if not s.ok),
    }


def run(ctx: Context) -> dict:
    """Both servers, both endpoints, sequential and 4 clients; targets: mean latency ≤ 1.3 × the
    bare endpoint doing the same storage (``bare+sqlite`` for ``/api/messages``, ``bare`` for ``/v1``)."""
    n = 5 if ctx.options.quick else ctx.options.requests
    warmup = 2 if ctx.options.quick else 20
    bare = ServerProcess(ctx.env, ctx.workdir / "bare.log",
                         command=[sys.executable, "-m", "bench.bare_app", "--port", "{port}",
                                  "--db", str(ctx.workdir / "bare.db")])
    env = {**ctx.env, "MASTERHALL_SAFETY_SEMANTIC": "false"}  # the guard's cost: bench/safety.py
    hall = ServerProcess(env, ctx.workdir / "serve-fake-api.log", backend="fake", data_dir=ctx.workdir / "data-api")
    rows = []
    try:
        bare.start(wait_model=False)
        hall.start(wait_model=True)
        series = [("bare", bare, "/api/messages", ""), ("bare+sqlite", bare, "/api/messages", "/stored"),
                  ("bare+small", bare, "/api/messages", "/small"), ("masterhall", hall, "/api/messages", ""),
                  ("bare", bare, "/v1/chat/completions", ""), ("masterhall", hall, "/v1/chat/completions", "")]
        for (name, _, endpoint, _), (streams, wall) in zip(series, _sequential(series, n, warmup)):
            rows.append(_row(name, endpoint, "sequential", streams, wall))
        blocks = 1 if ctx.options.quick else 4  # alternate the series in blocks: load drifts hit all
        parts: dict[int, list] = {i: [[], 0.0] for i in range(len(series))}
        for _ in range(blocks):
            for i, (name, server, endpoint, prefix) in enumerate(series):
                streams, wall = _concurrent(server.url, endpoint, max(CLIENTS, n // blocks), prefix)
                parts[i][0] += streams
                parts[i][1] += wall
        for i, (name, _, endpoint, _) in enumerate(series):
            rows.append(_row(name, endpoint, f"{CLIENTS} clients", parts[i][0], parts[i][1]))
    finally:
        hall.stop()
        bare.stop()

    def pick(server: str, endpoint: str, mode: str = "sequential") -> dict:
        return next(r for r in rows if r["server"] == server and r["endpoint"] == endpoint and r["mode"] == mode)

    def ratio(a: dict, b: dict) -> float | None:
        return round(a["mean_exact_ms"] / b["mean_exact_ms"], 3) if a["mean_exact_ms"] and b["mean_exact_ms"] else None

    def added(a: dict, b: dict) -> float | None:
        return rnd(a["mean_exact_ms"] - b["mean_exact_ms"], 2) if a["mean_exact_ms"] and b["mean_exact_ms"] else None

    summary = {}
    for endpoint in ("/api/messages", "/v1/chat/completions"):
        b, h = pick("bare", endpoint), pick("masterhall", endpoint)
        key = endpoint.strip("/").replace("/", "_")
        summary[key] = {"rps_bare": b["rps"], "rps_masterhall": h["rps"], "added_ms_per_request": added(h, b),
                        "latency_ratio": ratio(h, b)}
    stored, hall_api = pick("bare+sqlite", "/api/messages"), pick("masterhall", "/api/messages")
    summary["api_messages"]["latency_ratio_to_bare_sqlite"] = ratio(hall_api, stored)
    summary["api_messages"]["latency_ratio_to_bare_small"] = ratio(hall_api, pick("bare+small", "/api/messages"))
    summary["api_messages"]["sqlite_commits_ms"] = added(stored, pick("bare", "/api/messages"))
    for row in rows:
        if row["server"] != "bare":
            row["ratio_to_bare"] = ratio(row, pick("bare", row["endpoint"], row["mode"]))
    errors = sum(r["errors"] for r in rows)
    return {
        "part": "api",
        "title": f"API overhead, fake backend ({n} requests each, latency = request → end of stream)",
        "columns": ["server", "endpoint", "mode", "requests", "rps", "p50_ms", "p95_ms", "mean_ms", "ratio_to_bare", "errors"],
        "rows": rows,
        "summary": summary,
        "errors": errors,
        "targets": [
            target("/v1/chat/completions latency / bare FastAPI", summary["v1_chat_completions"]["latency_ratio"], 1.3, "<="),
            target("/api/messages latency / bare FastAPI storing the same rows (same tables, 4 SQLite commits)",
                   summary["api_messages"]["latency_ratio_to_bare_sqlite"], 1.3, "<="),
        ],
    }
