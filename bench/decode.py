"""Decode speed through every layer, as a ratio to the llama.cpp engine called directly.

Paths, all on the same GGUF, thread count, slots, prompt and greedy sampling (temperature 0;
seed 42 where the interface takes one — greedy decoding makes it irrelevant), each engine in a
process of its own:

- ``direct``: an ``xllamacpp.Server`` called with ``handle_chat_completions`` — no MasterHall code
  on the token path (:mod:`bench.worker` ``direct``);
- ``engine``: ``ChatEngine.stream`` (:mod:`bench.worker` ``engine``) — the path of ``masterhall chat``;
- ``cli``: ``masterhall chat`` as a subprocess, timed on its stdout (a fresh process each time);
- ``sse``: ``POST /api/messages`` to ``masterhall serve`` on 127.0.0.1 (stored turns, SSE);
- ``v1``: ``POST /v1/chat/completions`` with ``stream: true`` to the same server.

The messages are the ones MasterHall builds for the master (system prompt + examples + the user
message), so every path reads the same prompt and decodes ``max_tokens`` tokens. (Greedy text can
differ by a few tokens between a cold and a cached prompt: llama.cpp's numerics differ between
batched prompt processing and one-token steps. Rates compare like with like.)

Rate = (completion tokens − 1) / (last delta − first delta), where the path's user sees the
deltas. A warm-up round runs first; then ``rounds`` rounds, each running every path once in a
rotated order; ``ratio_to_direct`` is the median of the per-round ratios (runs seconds apart share
the machine's load of the moment). On a shared machine another process can take a core for a
while, and llama.cpp's threads then wait on each other (a run drops to a few tokens/s): a run
slower than ``DISTURBED`` × the fastest run of the part is taken as disturbed and run again (at
most ``RETRIES`` passes; the count is reported as ``reruns``). A genuine overhead of a few percent
is far above that line and is never rerun away. ``delivered`` = client rate / the engine's own rate for the
same run (llama.cpp's ``predicted_per_second``): what the layers lose on the way, almost
independent of the machine's load.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time

import httpx

from .common import REPO_ROOT, Context, Stream, median, ms, post_chat_completions, post_messages, process_cpu_s, ratio, rnd, target

MASTER = "python-mentor"
MESSAGE = "Explain Python decorators step by step, with three short code examples and what each prints."
SEED = 42
PATHS = ("direct", "engine", "cli", "sse", "v1")
#: A run below this fraction of the part's fastest run counts as disturbed by other processes.
DISTURBED = 0.75
RETRIES = 3
#: Pause between runs, seconds: background work a run leaves (e.g. MasterHall's ~70 ms pre-read
#: of the next turn) ends before the next run starts, whichever process it is in.
SETTLE_S = 0.6


class Worker:
    """A :mod:`bench.worker` subprocess hosting one in-process path."""

    def __init__(self, kind: str, ctx: Context, extra: list[str] | None = None, timeout_s: float = 300.0):
        self.timeout_s = timeout_s
        self._log = open(ctx.workdir / f"worker-{kind}.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.worker", kind, *(extra or [])], env=ctx.env,
                                     cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                     text=True, bufsize=1)
        if self._line() != "ready":
            self.close()
            raise RuntimeError(f"the {kind} worker did not start; see {self._log.name}")

    def _line(self) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout_s)
        if not ready:
            raise TimeoutError(f"no answer from the worker within {self.timeout_s:.0f} s")
        return self.proc.stdout.readline().strip()

    def run(self, request: dict) -> Stream:
        """Send one request, wait (bounded) for its result."""
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self._line()
        if not line:
            return Stream(t0=time.perf_counter(), error=f"the worker exited with {self.proc.poll()}")
        data = json.loads(line)
        return Stream(t0=data["t0"], delta_times=data["delta_times"], text=data.get("text", ""), usage=data["usage"],
                      error=data["error"], cpu_s=data["cpu_s"])

    def close(self) -> None:
        """Close stdin (the worker exits), kill it if it lingers."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait()
        self._log.close()


_STATS = re.compile(r"(?P<tps>[\d.]+) tok/s · (?P<prompt>\d+) \+ (?P<completion>\d+) tokens")


def cli_stream(env: dict, max_tokens: int, master: str = MASTER, message: str = MESSAGE, timeout_s: float = 300.0) -> Stream:
    """Run ``masterhall chat MASTER MESSAGE`` and time its stdout; usage from its stats line (stderr).

    ``t0`` is the spawn, so ``ttft_s`` includes start-up and model load.
    """
    command = [sys.executable, "-m", "masterhall.cli", "chat", master, message,
               "--max-tokens", str(max_tokens), "--temperature", "0"]
    stream = Stream(t0=time.perf_counter())
    proc = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    stderr = ""
    try:
        fd = proc.stdout.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            data = os.read(fd, 65536)
            if not data:
                break
            if data.strip():
                stream.delta_times.append(time.perf_counter())
            chunks.append(data)
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        stderr = proc.stderr.read().decode(errors="replace")
    except subprocess.TimeoutExpired:
        pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stream.text = b"".join(chunks).decode(errors="replace").strip()
    match = _STATS.search(stderr)
    if match:
        stream.usage = {"completion_tokens": int(match["completion"]), "prompt_tokens": int(match["prompt"]),
                        "tokens_per_s": float(match["tps"])}
    if proc.returncode != 0 or not match:
        stream.error = f"exit {proc.returncode}: {stderr.strip()[-300:]}"
    return stream


def _server_cpu(run, pid: int):
    """Wrap an HTTP run to record the server process's CPU seconds (``Stream.cpu_s``)."""
    def timed() -> Stream:
        before = process_cpu_s(pid)
        stream = run()
        stream.cpu_s = process_cpu_s(pid) - before
        return stream

    return timed


def _settled(run):
    def settled() -> Stream:
        time.sleep(SETTLE_S)
        return run()

    return settled


def prompt_messages() -> tuple[list[dict], float | None]:
    """The messages MasterHall sends for :data:`MASTER` / :data:`MESSAGE`, and the merged ``top_p``."""
    from masterhall import FakeBackend
    from masterhall.hall import build_hall
    from masterhall.store import Store

    hall = build_hall(store=Store.in_memory())
    hall.registry.register(FakeBackend("fake"))
    _, _, merged, built, _ = hall.engine.prepare(MASTER, [], MESSAGE, backend="fake")
    return [m.to_dict() for m in built.messages], merged.top_p


def run(ctx: Context) -> dict:
    """Measure every path; the target is ``sse`` ≥ 0.97 × ``direct``."""
    from masterhall.backends.embedded import embedded_model_path

    opts = ctx.options
    max_tokens = 32 if opts.quick else opts.max_tokens
    rounds = 1 if opts.quick else opts.rounds
    messages, top_p = prompt_messages()
    server = ctx.server()
    workers: list[Worker] = []
    client = httpx.Client(base_url=server.url, timeout=300)
    try:
        direct = Worker("direct", ctx, ["--model", str(embedded_model_path()), "--threads", str(opts.threads),
                                        "--parallel", str(opts.parallel), "--context", str(opts.context_window)])
        workers.append(direct)
        engine = Worker("engine", ctx)
        workers.append(engine)
        api_body = {"master_id": MASTER, "content": MESSAGE, "temperature": 0.0, "max_tokens": max_tokens}
        v1_body = {"model": MASTER, "messages": [{"role": "user", "content": MESSAGE}], "temperature": 0.0,
                   "seed": SEED, "max_tokens": max_tokens}
        runners = {
            "direct": lambda: direct.run({"messages": messages, "max_tokens": max_tokens, "top_p": top_p}),
            "engine": lambda: engine.run({"master": MASTER, "message": MESSAGE, "max_tokens": max_tokens}),
            "cli": lambda: cli_stream(ctx.env, max_tokens),
            "sse": _server_cpu(lambda: post_messages(client, api_body), server.proc.pid),
            "v1": _server_cpu(lambda: post_chat_completions(client, v1_body), server.proc.pid),
        }
        for name in ("direct", "engine", "sse", "v1"):  # warm-up: fill the prompt caches
            runners[name]()
        runners = {name: _settled(run) for name, run in runners.items()}
        samples: dict[str, list[Stream]] = {p: [] for p in PATHS}
        for r in range(rounds):
            order = PATHS[r % len(PATHS):] + PATHS[: r % len(PATHS)]
            for name in order:
                samples[name].append(runners[name]())
        reruns = {p: 0 for p in PATHS}
        for _ in range(RETRIES):
            best = max((s.decode_tps or 0) for ss in samples.values() for s in ss)
            slow = [(name, i) for name, ss in samples.items() for i, s in enumerate(ss)
                    if s.ok and (s.decode_tps or 0) < DISTURBED * best]
            for name, i in slow:
                samples[name][i] = runners[name]()
                reruns[name] += 1
            if not slow:
                break
    finally:
        client.close()
        for worker in workers:
            worker.close()

    errors = sum(1 for ss in samples.values() for s in ss if not s.ok)
    rows = []
    for name in PATHS:
        ss = samples[name]
        per_round = [ratio(s.decode_tps, d.decode_tps) for s, d in zip(ss, samples["direct"])]
        rows.append({
            "path": name,
            "decode_tps": rnd(median(s.decode_tps for s in ss)),
            "engine_tps": rnd(median(s.usage.get("tokens_per_s") for s in ss)),
            "ratio_to_direct": median(per_round),
            "delivered": median(ratio(s.decode_tps, s.usage.get("tokens_per_s")) for s in ss),
            "ttft_ms": ms(median(s.ttft_s for s in ss)),
            "cpu_ms_per_token": median(s.summary()["cpu_ms_per_token"] for s in ss),
            "tokens": median(s.completion_tokens for s in ss),
            "errors": sum(1 for s in ss if not s.ok),
            "reruns": reruns[name],
            "rounds": [s.summary() for s in ss],
        })
    by_path = {r["path"]: r for r in rows}
    return {
        "part": "decode",
        "title": f"Decode tokens/s by path ({MASTER}, {max_tokens} tokens, {opts.threads} threads, median of {rounds} rounds)",
        "columns": ["path", "decode_tps", "engine_tps", "ratio_to_direct", "delivered", "ttft_ms", "cpu_ms_per_token",
                    "tokens", "reruns", "errors"],
        "rows": rows,
        "errors": errors,
        "targets": [target("decode via HTTP SSE / direct", by_path["sse"]["ratio_to_direct"], 0.97, ">=")],
        "notes": ["ttft of cli includes process start and model load (a fresh process each run); "
                  "cli and v1 have no engine_tps of their own (cli: the engine's figure as printed)",
                  "cpu_ms_per_token: CPU time of the process running the engine (all its threads) per reply token; "
                  "for sse and v1 it includes the request's storage and prompt building"],
    }
