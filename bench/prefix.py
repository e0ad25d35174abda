"""A master's first turn with its system prompt cached vs cold, and a user alternating masters.

Through ``POST /api/messages`` on ``masterhall serve``, with two masters this run has not used
before (so their first turn is really cold), each request sent as soon as the previous one ends:

1. ``A cold``: the first conversation with master A (system prompt + examples read in full);
2. ``A cached``: a new conversation with A — only its own message should be read;
3. ``B cold``: the first conversation with master B;
4. ``alternate``: the user then alternates A, B, A, B … continuing both conversations (each turn
   should find its conversation in the KV cache although the other master ran in between);
5. ``A new, after alternating``: one more new conversation with A.

The sequence runs once per pair of masters in :data:`PAIRS` (``repeats`` pairs); each step's
figure is the median over the pairs. Target: TTFT(A cached) ≤ 0.2 × TTFT(A cold).
"""

from __future__ import annotations

import httpx

from .common import Context, median, ms, post_messages, ratio, target

PAIRS = [("socrates", "laozi"), ("zhuangzi", "carl-jung"), ("alan-turing", "peter-drucker")]
ALTERNATE = [
    ("A", "What is the first thing I should understand?"), ("B", "How should I begin?"),
    ("A", "Can you give me an example?"), ("B", "And when it goes wrong?"),
    ("A", "What would you ask me next?"), ("B", "Summarise your advice in one line."),
]
STEPS = ["A cold", "A cached (new conversation)", "B cold", "alternate A", "alternate B", "A new, after alternating"]


def run_pair(client: httpx.Client, a: str, b: str, steps: list, max_tokens: int) -> list[dict]:
    """The sequence for masters ``a`` and ``b``; one row per request."""
    rows: list[dict] = []
    conversations: dict[str, str] = {}

    def send(step: str, master: str | None, text: str, conversation: str | None = None):
        body = {"content": text, "temperature": 0.0, "max_tokens": max_tokens}
        body.update({"conversation_id": conversation} if conversation else {"master_id": master})
        stream = post_messages(client, body)
        s = stream.summary()
        rows.append({"step": step, "master": master or "", "ttft_ms": ms(stream.ttft_s), "prompt_tokens": s["prompt_tokens"],
                     "cached_tokens": s["cached_tokens"], "error": s["error"]})
        return stream

    send("A cold", a, "I would like your guidance on a difficult choice.")
    conversations["A"] = send("A cached (new conversation)", a, "What matters most in life?").conversation_id
    conversations["B"] = send("B cold", b, "How can I be at peace with my work?").conversation_id
    for who, text in steps:
        send(f"alternate {who}", None, text, conversations[who])
    send("A new, after alternating", a, "Is wisdom something one can learn?")
    return rows


def run(ctx: Context) -> dict:
    """Cold vs cached first turns and alternation; target cached/cold ≤ 0.2."""
    max_tokens = 16 if ctx.options.quick else 32
    steps = ALTERNATE[:2] if ctx.options.quick else ALTERNATE
    pairs = PAIRS[:1] if ctx.options.quick else PAIRS
    server = ctx.server()
    raw: list[dict] = []
    with httpx.Client(base_url=server.url, timeout=300) as client:
        for a, b in pairs:
            raw += [dict(r, pair=f"{a}/{b}") for r in run_pair(client, a, b, steps, max_tokens)]
    table = []
    for step in STEPS:
        rows = [r for r in raw if r["step"] == step]
        table.append({"step": step, "ttft_ms": median(r["ttft_ms"] for r in rows),
                      "ttft_min_ms": min((r["ttft_ms"] for r in rows if r["ttft_ms"] is not None), default=None),
                      "ttft_max_ms": max((r["ttft_ms"] for r in rows if r["ttft_ms"] is not None), default=None),
                      "prompt_tokens": median(r["prompt_tokens"] for r in rows),
                      "new_tokens": median(r["prompt_tokens"] - r["cached_tokens"] for r in rows
                                           if r["prompt_tokens"] is not None and r["cached_tokens"] is not None),
                      "requests": len(rows), "errors": sum(1 for r in rows if r["error"])})
    by = {r["step"]: r for r in table}
    cold, cached = by["A cold"]["ttft_ms"], by["A cached (new conversation)"]["ttft_ms"]
    alternating = median(r["ttft_ms"] for r in raw if r["step"].startswith("alternate"))
    return {
        "part": "prefix",
        "title": f"First turn: system prompt cached vs cold; alternating two masters (median over {len(pairs)} pairs, "
                 f"{max_tokens} tokens a reply, via /api/messages)",
        "columns": ["step", "ttft_ms", "ttft_min_ms", "ttft_max_ms", "prompt_tokens", "new_tokens", "requests", "errors"],
        "rows": table,
        "raw": raw,
        "summary": {"cold_ms": cold, "cached_ms": cached, "alternating_median_ms": alternating,
                    "cached_to_cold": ratio(cached, cold), "alternating_to_cold": ratio(alternating, cold)},
        "errors": sum(1 for r in raw if r["error"]),
        "targets": [
            target("first turn, system prompt cached / cold", ratio(cached, cold), 0.2, "<="),
            target("alternating two masters (median) / cold", ratio(alternating, cold), 0.2, "<="),
        ],
        "notes": [f"pairs (A/B): {', '.join(f'{a}/{b}' for a, b in pairs)}; new_tokens = prompt tokens not found in "
                  "the KV cache"],
    }
