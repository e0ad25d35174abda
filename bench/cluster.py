"""Several hall processes and a pool of inference servers (issue 16): ``python -m bench.cluster``.

**Chats across processes.** ``--chats`` (200) concurrent chats — each a new conversation, its
answer streamed over SSE — spread evenly over two ``masterhall serve`` processes sharing one
PostgreSQL database and one Redis, on the fake backend (no model: what is measured is the hall).
Reported: errors (a status other than 200, an ``error`` event, or no ``done``), time to first
byte of the response (p50, p95) and to the whole answer, and the same chats against one process
as the baseline measured in the same run (ratios, never absolute claims).

**The pool's spread.** The same through a pool of one, then two, emulated servers with a fixed
budget of ``--rate`` tokens/s each (no compute: how evenly the pool spreads the chats).

**Tokens/s of a pool.** ``--pool-chats`` (8) concurrent chats of ``--max-tokens`` (48) tokens
through a hall whose backend is a pool of one, then of two, llama.cpp HTTP servers (xllamacpp's
server, listening on a port, each with ``--parallel`` slots and ``--threads`` threads) on the
small embedded model: the aggregate completion tokens per second of two servers ÷ one. On one
machine both servers share its cores, so the ratio is bounded by them (on 2 cores, expect ≈ 1).

Needs PostgreSQL at 127.0.0.1:5432 (trust auth; a database is created and dropped) and Redis at
127.0.0.1:6379 (a key prefix of its own, deleted afterwards). Writes ``--json`` (default
``bench/cluster_results.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/0"
CONFIG = 'backend = "fake"\nsafety_semantic = false\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTERHALL_") or k == "MASTERHALL_CACHE_DIR"}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def start_serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """A ``masterhall serve`` process, once ``/readyz`` answers 200."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "masterhall.cli", "serve", "--port", str(port)], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited: {log.read_text()}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("serve never became ready")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def one_chat(client: httpx.AsyncClient, url: str, i: int) -> dict:
    started = time.perf_counter()
    first = None
    events = []
    try:
        async with client.stream("POST", url + "/api/messages", headers={"origin": url},
                                 json={"master_id": "socrates", "content": f"chat {i}: what is courage?"}) as response:
            async for chunk in response.aiter_text():
                if first is None:
                    first = time.perf_counter() - started
                events.extend(line[7:].strip() for line in chunk.splitlines() if line.startswith("event: "))
            ok = response.status_code == 200 and "done" in events and "error" not in events
    except httpx.HTTPError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": ok, "ttfb_s": first, "total_s": time.perf_counter() - started}


async def chats(urls: list[str], n: int) -> dict:
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(one_chat(client, urls[i % len(urls)], i) for i in range(n)))
        wall = time.perf_counter() - started
    good = [r for r in results if r["ok"]]
    ttfb = sorted(r["ttfb_s"] for r in good)
    total = sorted(r["total_s"] for r in good)

    def pct(values, q):
        return round(values[min(len(values) - 1, int(q * len(values)))], 4) if values else None

    return {"processes": len(urls), "chats": n, "errors": n - len(good), "wall_s": round(wall, 3),
            "ttfb_p50_s": pct(ttfb, 0.5), "ttfb_p95_s": pct(ttfb, 0.95), "answer_p50_s": pct(total, 0.5),
            "answer_p95_s": pct(total, 0.95), "chats_per_s": round(len(good) / wall, 1)}


def chats_across_processes(n: int, work: Path) -> dict:
    import redis
    import sqlalchemy as sa

    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    name, prefix = f"mh_bench_{uuid.uuid4().hex[:12]}", f"mhbench-{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    (work / "config.toml").write_text(CONFIG)
    env = env_for(MASTERHALL_CONFIG=str(work / "config.toml"), MASTERHALL_DATABASE_URL=f"{PG}/{name}",
                  MASTERHALL_REDIS_URL=REDIS, MASTERHALL_REDIS_PREFIX=prefix, MASTERHALL_DATA_DIR=str(work))
    procs = []
    try:
        procs = [start_serve(env, work / f"serve{i}.log") for i in range(2)]
        urls = [url for _, url in procs]
        asyncio.run(chats(urls, 10))  # warm-up
        one = asyncio.run(chats(urls[:1], n))
        two = asyncio.run(chats(urls, n))
    finally:
        for proc, _ in procs:
            stop(proc)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
    ratio = round(one["ttfb_p95_s"] / two["ttfb_p95_s"], 2) if one["ttfb_p95_s"] and two["ttfb_p95_s"] else None
    return {"one_process": one, "two_processes": two, "ttfb_p95_one_over_two": ratio}


LLAMA_SERVER = """
import sys, time
import xllamacpp as xlc
sys.path.insert(0, {src!r})
from masterhall.backends.llamacpp import engine_params
params = engine_params({model!r}, 1024, {parallel}, {threads})
params.port = {port}
server = xlc.Server(params)
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


#: An emulated inference server with a fixed budget: it emits at most ``rate`` tokens per second in
#: all (its streams take turns under one lock), as a compute-bound server on its own hardware would.
BUDGET_SERVER = """
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
RATE, LOCK = {rate}, threading.Lock()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        body = json.dumps({{"object": "list", "data": [{{"id": "bench"}}]}}).encode()
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["content-length"])))
        n = int(req.get("max_tokens") or 16)
        self.send_response(200); self.send_header("content-type", "text/event-stream"); self.send_header("connection", "close")
        self.end_headers()
        for i in range(n):
            with LOCK:
                time.sleep(1.0 / RATE)
            d = {{"choices": [{{"index": 0, "delta": {{"content": " t%d" % i}}, "finish_reason": None}}]}}
            self.wfile.write(("data: " + json.dumps(d) + "\\n\\n").encode()); self.wfile.flush()
        for d in ({{"choices": [{{"index": 0, "delta": {{}}, "finish_reason": "length"}}]}},
                  {{"choices": [], "usage": {{"prompt_tokens": 1, "completion_tokens": n}}}}):
            self.wfile.write(("data: " + json.dumps(d) + "\\n\\n").encode())
        self.wfile.write(b"data: [DONE]\\n\\n"); self.wfile.flush()
s = ThreadingHTTPServer(("127.0.0.1", {port}), H); s.daemon_threads = True
print("ready", flush=True); s.serve_forever()
"""


def start_budget(rate: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BUDGET_SERVER.format(rate=rate, port=port)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc, f"http://127.0.0.1:{port}/v1"


def pool_emulated(chats_n: int, max_tokens: int, rate: float, work: Path) -> dict:
    """The pool of one, then two, emulated servers of ``rate`` tokens/s each (no compute: what is
    measured is how the pool spreads the chats)."""
    return {"rate_per_server": rate, **_one_then_two([start_budget(rate) for _ in range(2)], chats_n, max_tokens, work)}


def _one_then_two(servers: list[tuple[subprocess.Popen, str]], chats_n: int, max_tokens: int, work: Path,
                  warm: bool = False) -> dict:
    """Tokens/s through a pool of the first server, then of both (``warm``: two short chats on each
    first); the servers are killed afterwards. ``{"one_server", "two_servers", "tokens_per_s_two_over_one"}``."""
    try:
        if warm:
            for _, url in servers:
                pool_tokens([url], 2, 8, work)  # each server's first prompts
        one = pool_tokens([servers[0][1]], chats_n, max_tokens, work)
        two = pool_tokens([s[1] for s in servers], chats_n, max_tokens, work)
    finally:
        for proc, _ in servers:
            proc.kill()
            proc.wait(10)
    return {"one_server": one, "two_servers": two,
            "tokens_per_s_two_over_one": round(two["tokens_per_s"] / one["tokens_per_s"], 2) if one["tokens_per_s"] else None}


def start_llama(model: Path, parallel: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    code = LLAMA_SERVER.format(src=str(ROOT / "src"), model=str(model), parallel=parallel, threads=threads, port=port)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/models", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("the llama.cpp server exited")
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the llama.cpp server never answered")


def pool_tokens(urls: list[str], chats_n: int, max_tokens: int, work: Path) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from masterhall.catalog.models import SamplingParams
    from masterhall.config import BackendConfig, load_settings
    from masterhall.hall import build_hall
    from masterhall.store import Store

    cfg = BackendConfig(type="openai", base_urls=urls, model="bench", context_window=1024, parallel=4)
    hall = build_hall(load_settings(backend="pool", safety_semantic=False, backends={"pool": cfg}),
                      store=Store(f"sqlite:///{work / f'pool{len(urls)}.db'}"))
    hall.start(load_model=False)
    questions = ["What is courage?", "How do I focus?", "What is a good habit?", "Why do we procrastinate?",
                 "What makes a friend?", "How should I plan a week?", "What is justice?", "How do I rest well?"]
    params = SamplingParams(max_tokens=max_tokens, temperature=0.0)

    def run(i: int):
        gen = hall.chat.send(questions[i % len(questions)] + f" ({i})", master_id="socrates", params=params)
        gen.done.wait(600)
        return gen.final.data.get("usage", {}) if gen.final else {}

    started = time.perf_counter()
    with ThreadPoolExecutor(chats_n) as ex:
        usages = list(ex.map(run, range(chats_n)))
    wall = time.perf_counter() - started
    tokens = sum(u.get("completion_tokens") or 0 for u in usages)
    hall.close()
    return {"servers": len(urls), "chats": chats_n, "completion_tokens": tokens, "wall_s": round(wall, 2),
            "tokens_per_s": round(tokens / wall, 1), "errors": sum(1 for u in usages if u.get("finish_reason") == "error")}


def pool_scaling(chats_n: int, max_tokens: int, parallel: int, threads: int, work: Path) -> dict:
    from masterhall.backends.embedded import EMBEDDED_MODELS, embedded_model_path

    small = next(m for m in EMBEDDED_MODELS if m.backend == "embedded-small")
    model = embedded_model_path(model=small)
    servers = [start_llama(model, parallel, threads) for _ in range(2)]
    return {"model": small.backend, "parallel": parallel, "threads_per_server": threads, "cpus": os.cpu_count(),
            **_one_then_two(servers, chats_n, max_tokens, work, warm=True)}


def main(argv: list[str] | None = None) -> int:
    """Run both parts; print and write the JSON report. Exit code 1 if any chat failed."""
    p = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n\n")[0])
    p.add_argument("--chats", type=int, default=200)
    p.add_argument("--pool-chats", type=int, default=8)
    p.add_argument("--max-tokens", type=int, default=48)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--threads", type=int, default=1, help="llama.cpp threads of each server (1: a core each)")
    p.add_argument("--parts", default="chats,emulated,pool")
    p.add_argument("--rate", type=float, default=100.0, help="tokens/s of each emulated server")
    p.add_argument("--json", dest="json_path", default=str(ROOT / "bench" / "cluster_results.json"))
    args = p.parse_args(argv)
    import tempfile

    report: dict = {"cpus": os.cpu_count(), "load_before": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        if "chats" in args.parts:
            report["chats"] = chats_across_processes(args.chats, work)
            print(json.dumps(report["chats"], indent=2), flush=True)
        if "emulated" in args.parts:
            report["emulated"] = pool_emulated(max(args.pool_chats, 16), args.max_tokens, args.rate, work)
            print(json.dumps(report["emulated"], indent=2), flush=True)
        if "pool" in args.parts.split(","):
            report["pool"] = pool_scaling(args.pool_chats, args.max_tokens, args.parallel, args.threads, work)
            print(json.dumps(report["pool"], indent=2), flush=True)
    Path(args.json_path).write_text(json.dumps(report, indent=2) + "\n")
    measured = report.get("chats", {})
    errors = sum(measured.get(k, {}).get("errors", 0) for k in ("one_process", "two_processes"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
