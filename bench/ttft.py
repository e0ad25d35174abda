"""Time to first token, turn by turn, over a 10-turn conversation with one master.

Through ``POST /api/messages`` on ``masterhall serve`` (the history is read from the database,
the prompt rebuilt and fitted, the answer stored): TTFT is request sent → first ``delta`` event.
First, one turn with the master in another conversation puts its system prompt in the KV cache
(reported as ``cold``), so turn 1 of the measured conversations reads only its new tokens, as
every later turn should.

Two ways to talk: ``user`` — each message is sent :data:`PAUSE_S` after the previous answer
ended (the time to read it and type; people take longer), which gives MasterHall's pre-read of
the next turn's opening its chance (see ``LlamaCppBackend.prewarm``); ``script`` — each message
is sent the moment the answer ends. The ``user`` conversation runs ``repeats`` times (new
conversations, one after the other) and each turn's figure is the median over them, which keeps
a moment of load from another process on a shared machine out of the result; ``script`` runs
once. Target (``user``): TTFT(turn 10) ≤ 1.2 × TTFT(turn 1) — the history is never read again
and nothing grows with it.
"""

from __future__ import annotations

import time

import httpx

from .common import Context, median, ms, post_messages, ratio, target

MASTER = "seneca"
PRIME = "Hello Seneca, I would like your advice on how to live well."
TURNS = [
    "I waste my evenings scrolling on my phone.",
    "Why do I keep doing it even though I regret it?",
    "What would you do in my place tonight?",
    "And if I fail again tomorrow?",
    "How do I handle friends who message me all evening?",
    "Is it wrong to want some entertainment after work?",
    "How long until a new habit feels natural?",
    "What should I read instead?",
    "How do I know if I am making progress?",
    "Give me one sentence to remember all this.",
]
#: Openings of the successive conversations: each must differ from the first word on, or the
#: KV cache of an earlier conversation would serve part of a later one's first message.
OPENINGS = [
    "I waste my evenings scrolling on my phone.",
    "My evenings disappear while I scroll on my phone.",
    "Every evening I lose hours scrolling on my phone.",
    "Scrolling on my phone eats all my evenings.",
]
#: Seconds between an answer's end and the next message in the ``user`` conversations.
PAUSE_S = 1.0


def run(ctx: Context) -> dict:
    """A cold prime, then ``repeats`` conversations of 10 turns; target TTFT(10)/TTFT(1) ≤ 1.2."""
    max_tokens = 24 if ctx.options.quick else 48
    turns = TURNS[:3] if ctx.options.quick else TURNS
    repeats = 1 if ctx.options.quick else 3
    server = ctx.server()
    conversations: list[list[dict]] = []
    with httpx.Client(base_url=server.url, timeout=300) as client:
        prime = _row(post_messages(client, {"master_id": MASTER, "content": PRIME, "temperature": 0.0,
                                            "max_tokens": max_tokens}))
        for r in range(repeats):
            conversations.append(_conversation(client, [OPENINGS[r]] + turns[1:], max_tokens, PAUSE_S))
        script = _conversation(client, [OPENINGS[repeats]] + turns[1:], max_tokens, 0.0)
    table = [{"turn": "cold", **prime, "ttft_all_ms": [prime["ttft_ms"]], "script_ttft_ms": None}]
    for i in range(len(turns)):
        runs = [c[i] for c in conversations]
        table.append({
            "turn": i + 1,
            "ttft_ms": median(r["ttft_ms"] for r in runs),
            "ttft_all_ms": [r["ttft_ms"] for r in runs],
            "prompt_tokens": median(r["prompt_tokens"] for r in runs),
            "new_tokens": median(r["new_tokens"] for r in runs),
            "completion_tokens": median(r["completion_tokens"] for r in runs),
            "decode_tps": median(r["decode_tps"] for r in runs),
            "script_ttft_ms": script[i]["ttft_ms"],
            "script_new_tokens": script[i]["new_tokens"],
            "error": next((r["error"] for r in runs + [script[i]] if r["error"]), None),
        })
    first, last = table[1]["ttft_ms"], table[-1]["ttft_ms"]
    errors = int(bool(prime["error"])) + sum(1 for c in conversations + [script] for r in c if r["error"])
    return {
        "part": "ttft",
        "title": f"TTFT turn by turn ({MASTER}, {len(turns)} turns, {max_tokens} tokens a reply, via /api/messages; "
                 f"user: {PAUSE_S:g} s pause, median of {repeats} conversations; script: no pause)",
        "columns": ["turn", "ttft_ms", "ttft_all_ms", "new_tokens", "prompt_tokens", "script_ttft_ms", "script_new_tokens",
                    "decode_tps", "error"],
        "rows": table,
        "summary": {"ttft_turn1_ms": first, "ttft_last_ms": last, "ttft_cold_ms": prime["ttft_ms"],
                    "ratio_last_to_first": ratio(last, first),
                    "script_ratio_last_to_first": ratio(script[-1]["ttft_ms"], script[0]["ttft_ms"])},
        "conversations": conversations,
        "script": script,
        "errors": errors,
        "targets": [target(f"TTFT(turn {len(turns)}) / TTFT(turn 1)", ratio(last, first), 1.2, "<=")],
        "notes": ["'cold': a first turn with the master in another conversation, before the measured ones; it puts "
                  "the master's system prompt in the KV cache. ttft_ms, ttft_all_ms, new_tokens: the user conversations "
                  "(median, each); script_*: the conversation sent without pauses. new_tokens = prompt tokens not found "
                  "in the KV cache"],
    }


def _conversation(client: httpx.Client, turns: list[str], max_tokens: int, pause_s: float) -> list[dict]:
    """One new conversation of ``turns``, each sent ``pause_s`` after the previous answer ended."""
    conversation, rows = None, []
    for text in turns:
        body = {"content": text, "temperature": 0.0, "max_tokens": max_tokens}
        body.update({"conversation_id": conversation} if conversation else {"master_id": MASTER})
        time.sleep(pause_s)
        stream = post_messages(client, body)
        conversation = conversation or stream.conversation_id
        rows.append(_row(stream))
    return rows


def _row(stream) -> dict:
    s = stream.summary()
    prompt, cached = s["prompt_tokens"], s["cached_tokens"]
    return {"ttft_ms": ms(stream.ttft_s), "prompt_tokens": prompt, "cached_tokens": cached,
            "new_tokens": prompt - cached if prompt is not None and cached is not None else None,
            "completion_tokens": s["completion_tokens"], "decode_tps": s["decode_tps"], "error": s["error"]}
