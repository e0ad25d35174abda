"""1, 2, 4 and 8 simultaneous chats on the embedded model, through ``POST /api/messages``.

Each level starts its chats together (a barrier), one thread and one HTTP connection each, every
chat a new conversation with the same master and its own message. Reported per level:

- ``aggregate_tps``: all completion tokens / (last delta of any chat − first request);
- ``per_stream_tps``: median of each chat's own decode rate (tokens − 1) / (its last − first delta);
- ``fairness``: Jain's index over the chats' decode rates (1.0 = all equal);
- ``ttft_max_ms``: the slowest first token (chats beyond the slots wait in the queue);
- ``errors``: failed or empty chats — must be 0: requests beyond the slots queue, none is dropped.

Before the first level, ``parallel`` chats at once put the master's system prompt in every slot
(as on a server that has been answering this master for a while). Without that, each slot that
never held the master reads its system prompt once: llama.cpp shares a prefix between slots only
through its host-memory prompt cache, which gets a slot's copy once that slot is idle.
"""

from __future__ import annotations

import threading

import httpx

from .common import Context, Stream, jain, median, ms, post_messages, rnd, target

MASTER = "marcus-aurelius"
QUESTIONS = [
    "How do I stay calm when my boss criticises me?",
    "What should I do when a friend betrays me?",
    "How can I stop worrying about the future?",
    "How do I deal with a rude neighbour?",
    "What is the best way to start the morning?",
    "How do I accept things I cannot change?",
    "How do I stop comparing myself to others?",
    "What should I do when I feel lazy?",
]
#: Opening words per level, so that no chat's message is one an earlier level already put in the
#: KV cache (it would make its first token look faster than it is).
LEADS = ["Tell me:", "Please advise:", "A question:", "Honestly,", "Teacher,"]


def run_level(url: str, n: int, max_tokens: int, timeout_s: float = 600.0,
              questions: list[str] = QUESTIONS) -> list[Stream | None]:
    """Start ``n`` chats at once (chat ``i`` asks ``questions[i]``); return their streams."""
    results: list[Stream | None] = [None] * n
    errors: list[str] = [""] * n
    barrier = threading.Barrier(n)

    def chat(i: int) -> None:
        with httpx.Client(base_url=url, timeout=timeout_s) as client:
            client.get("/api/status")  # open the connection before the barrier
            barrier.wait(timeout=60)
            try:
                results[i] = post_messages(client, {"master_id": MASTER, "content": questions[i % len(questions)],
                                                    "temperature": 0.0, "max_tokens": max_tokens}, timeout_s)
            except Exception as exc:  # noqa: BLE001 - counted as an error
                errors[i] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=chat, args=(i,), name=f"bench-chat-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s + 60)
    for i, message in enumerate(errors):
        if message:
            results[i] = Stream(t0=0.0, error=message)
    return results


def run(ctx: Context) -> dict:
    """Levels 1, 2, 4, 8; targets: 0 errors and every chat produced tokens at every level."""
    max_tokens = 16 if ctx.options.quick else 48
    levels = (1, 2) if ctx.options.quick else (1, 2, 4, 8)
    server = ctx.server()
    warmup = run_level(server.url, ctx.options.parallel, 4,
                       questions=[f"Good morning, I am visitor number {i + 1}." for i in range(ctx.options.parallel)])
    rows = []
    for lead, n in zip(LEADS, levels):
        streams = run_level(server.url, n, max_tokens, questions=[f"{lead} {q}" for q in QUESTIONS])
        ok = [s for s in streams if s is not None and s.ok]
        errors = n - len(ok)
        start = min((s.t0 for s in ok), default=None)
        end = max((s.delta_times[-1] for s in ok), default=None)
        tokens = sum(s.completion_tokens for s in ok)
        rates = [s.decode_tps for s in ok]
        rows.append({
            "chats": n,
            "aggregate_tps": rnd(tokens / (end - start)) if ok and end > start else None,
            "per_stream_tps": rnd(median(rates)),
            "min_stream_tps": rnd(min((r for r in rates if r), default=None)),
            "fairness": jain(rates),
            "ttft_median_ms": ms(median(s.ttft_s for s in ok)),
            "ttft_max_ms": ms(max((s.ttft_s for s in ok), default=None)),
            "tokens": tokens,
            "errors": errors,
            "all_progressed": len(ok) == n and all(s.completion_tokens > 0 for s in ok),
            "streams": [s.summary() if s else None for s in streams],
        })
    total_errors = sum(r["errors"] for r in rows)
    top = rows[-1]
    return {
        "part": "concurrency",
        "title": f"Concurrent chats ({MASTER}, {max_tokens} tokens each, {ctx.options.parallel} slots, via /api/messages)",
        "columns": ["chats", "aggregate_tps", "per_stream_tps", "min_stream_tps", "fairness", "ttft_median_ms",
                    "ttft_max_ms", "tokens", "errors", "all_progressed"],
        "rows": rows,
        "errors": total_errors,
        "summary": {"warmup_ttft_max_ms": ms(max((w.ttft_s for w in warmup if w and w.ttft_s), default=None)),
                    "warmup_errors": sum(1 for w in warmup if w is None or not w.ok)},
        "notes": [f"warm-up: {ctx.options.parallel} chats at once first, so that every slot holds the master's "
                  "system prompt; per_stream_tps is each chat's own decode rate, fairness Jain's index over them"],
        "targets": [
            target(f"errors at {top['chats']} concurrent chats", top["errors"], 0, "=="),
            target(f"every stream progresses at {top['chats']} chats", 1 if top["all_progressed"] else 0, 1, "=="),
        ],
    }
