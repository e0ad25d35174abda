"""A process that hosts one in-process decode path, so that every path of the decode benchmark
runs its engine in a process of its own (as ``masterhall serve`` and ``masterhall chat`` do) and
the benchmark's own process (clients, bookkeeping) never shares the CPUs' caches and scheduler
slots with an engine.

``python -m bench.worker direct --model GGUF --threads N --parallel P --context C``: an
``xllamacpp.Server`` with MasterHall's own engine parameters, called with
``handle_chat_completions``, no MasterHall code on the token path.
``python -m bench.worker engine``: MasterHall's ``ChatEngine.stream`` on the ``embedded`` backend
(the settings come from the ``MASTERHALL_*`` environment), which is what ``masterhall chat`` runs.

Protocol: after loading, the worker prints ``ready``; then for each JSON request line on stdin
(``{"messages", "max_tokens", "top_p"}`` for ``direct``, ``{"master", "message", "max_tokens"}``
for ``engine``) it prints one JSON line: ``t0`` and ``delta_times`` (``time.perf_counter``, i.e.
CLOCK_MONOTONIC, comparable across processes), ``text``, ``usage``, ``cpu_s`` (this process's CPU
seconds for the request) and ``error``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

SEED = 42


class DirectEngine:
    """xllamacpp's server engine called without MasterHall on the token path, built with the
    engine parameters MasterHall runs in production (:func:`masterhall.backends.llamacpp.engine_params`:
    context, slots, threads, prompt caching, the host-memory prompt cache)."""

    def __init__(self, model_path: str, threads: int, parallel: int, context_window: int):
        import xllamacpp as xlc

        from masterhall.backends.llamacpp import engine_params

        self.server = xlc.Server(engine_params(model_path, context_window, parallel, threads))

    def stream(self, messages: list[dict], max_tokens: int, top_p: float | None = None) -> dict:
        """One streamed completion (temperature 0, seed 42); delta times taken in the callback."""
        request = {"messages": messages, "stream": True, "stream_options": {"include_usage": True},
                   "temperature": 0.0, "seed": SEED, "max_tokens": max_tokens, "cache_prompt": True}
        if top_p is not None:
            request["top_p"] = top_p
        out: dict = {"t0": time.perf_counter(), "delta_times": [], "usage": {}, "error": None}
        parts: list[str] = []

        def on_chunk(chunk) -> bool:
            now = time.perf_counter()
            if not isinstance(chunk, dict):
                return False
            if "error" in chunk:
                out["error"] = str(chunk["error"])
            for choice in chunk.get("choices") or ():
                text = (choice.get("delta") or {}).get("content")
                if text:
                    out["delta_times"].append(now)
                    parts.append(text)
            if chunk.get("usage"):
                usage = chunk["usage"]
                out["usage"] = {"completion_tokens": usage.get("completion_tokens"),
                                "prompt_tokens": usage.get("prompt_tokens"),
                                "cached_tokens": (usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
                                "tokens_per_s": (chunk.get("timings") or {}).get("predicted_per_second")}
            return False

        self.server.handle_chat_completions(request, on_chunk)
        out["text"] = "".join(parts)
        return out


class EngineHost:
    """MasterHall's chat engine on the ``embedded`` backend (from the hall, as ``masterhall chat``
    builds it), loaded up front."""

    def __init__(self):
        from masterhall.hall import build_hall
        from masterhall.store import Store

        self.engine = build_hall(store=Store.in_memory()).engine
        self.engine.registry.get().load()

    def stream(self, master: str, message: str, max_tokens: int) -> dict:
        """One turn (temperature 0, seed 42), timed as its deltas come out of ``Turn``."""
        from masterhall import SamplingParams

        out: dict = {"t0": time.perf_counter(), "delta_times": [], "usage": {}, "error": None}
        turn = self.engine.stream(master, [], message, params=SamplingParams(temperature=0.0, max_tokens=max_tokens, seed=SEED))
        for _delta in turn:
            out["delta_times"].append(time.perf_counter())
        usage = turn.reply.usage
        out["text"] = turn.reply.text
        out["usage"] = {"completion_tokens": usage.completion_tokens, "prompt_tokens": usage.prompt_tokens,
                        "cached_tokens": usage.cached_tokens, "tokens_per_s": usage.tokens_per_s}
        if usage.finish_reason == "error":
            out["error"] = usage.error
        return out


def main() -> None:
    """Load, say ``ready``, then answer one JSON line per request until stdin closes."""
    parser = argparse.ArgumentParser(description="decode-benchmark worker")
    parser.add_argument("kind", choices=["direct", "engine"])
    parser.add_argument("--model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--context", type=int, default=4096)
    args = parser.parse_args()
    host = DirectEngine(args.model, args.threads, args.parallel, args.context) if args.kind == "direct" else EngineHost()
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        cpu = time.process_time()
        try:
            if args.kind == "direct":
                out = host.stream(request["messages"], request["max_tokens"], request.get("top_p"))
            else:
                out = host.stream(request["master"], request["message"], request["max_tokens"])
        except Exception as exc:  # noqa: BLE001 - reported to the benchmark
            out = {"t0": time.perf_counter(), "delta_times": [], "usage": {}, "text": "", "error": f"{type(exc).__name__}: {exc}"}
        out["cpu_s"] = time.process_time() - cpu
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
