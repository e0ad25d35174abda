"""Round tables: how soon the second speaker starts, against one master alone.

Through ``POST /api/messages`` on ``masterhall serve``. For each question:

- *single*: a new conversation with master B alone; TTFT = request sent → first ``delta``;
- *round*: a new round table of A and B, ``@A`` in the message so that A speaks first; the second
  speaker's TTFT = its ``speaker`` event (the first reply is done and stored, the chair has moved
  on) → its first ``delta``. Its prompt holds what B's single turn holds, plus A's reply labelled
  and the chair's request (the tokens it must read that the single turn does not).

First, one turn with each master in a conversation of its own puts both system prompts in the KV
cache, as on a hall in use. Target: median second-speaker TTFT ≤ 1.5 × median single TTFT on
the embedded model (``--roundtable-backend``; ``fake`` only shows that the part runs).

The hall reads the second speaker's prompt ahead while the first one answers (``preread``). With
``--roundtable-compare`` a second server with ``MASTERHALL_ROUNDTABLE_PREREAD=false`` (speakers
strictly one after another, as before) runs the same questions, interleaved question by question,
each with its own single turn. Also recorded per round: the first speaker's decoding rate (its
``done`` usage, tokens/s; a read-ahead shares the engine with it) and the second speaker's prompt
and cached tokens.
"""

from __future__ import annotations

import json

import httpx

from .common import Context, _frames, _record, median, ms, post_messages, ratio, target

FIRST, SECOND = "socrates", "seneca"
PRIME = "Hello, I would like your advice on how to live well."
QUESTIONS = [
    "Should I quit a stable job to start my own company?",
    "How do I stay calm when my manager criticises me in public?",
    "Is it wrong to want more money than I need?",
    "How can I forgive a friend who lied to me?",
    "What should I do with my evenings to feel less empty?",
    "How do I decide between two cities to live in?",
]


VARIANTS = {"preread": {}, "sequential": {"MASTERHALL_ROUNDTABLE_PREREAD": "false"}}


def run(ctx: Context) -> dict:
    """Prime both masters, then per question one single turn and one round of two (per variant);
    the ratio of the medians is the figure."""
    backend = ctx.options.roundtable_backend
    questions = QUESTIONS[:2] if ctx.options.quick else QUESTIONS
    max_tokens = 24 if ctx.options.quick else 48
    names = list(VARIANTS) if ctx.options.roundtable_compare else ["preread"]
    servers = {name: ctx.server(backend, "" if name == "preread" else name, VARIANTS[name]) for name in names}
    clients = {name: httpx.Client(base_url=server.url, timeout=300) for name, server in servers.items()}
    rows, errors = [], 0
    try:
        for client in clients.values():
            for master in (FIRST, SECOND):
                prime = post_messages(client, {"master_id": master, "content": PRIME, "temperature": 0.0,
                                               "max_tokens": max_tokens})
                errors += int(not prime.ok)
        for question in questions:
            for name, client in clients.items():
                single = post_messages(client, {"master_id": SECOND, "content": question, "temperature": 0.0,
                                                "max_tokens": max_tokens})
                round_ = _round(client, {"master_ids": [FIRST, SECOND], "content": f"@{FIRST} {question}",
                                         "temperature": 0.0, "max_tokens": max_tokens})
                errors += int(not single.ok) + int(bool(round_["error"]))
                rows.append({"variant": name, "question": question[:40], "single_ttft_ms": ms(single.ttft_s),
                             "first_ttft_ms": round_["first_ttft_ms"], "first_tps": round_["first_tps"],
                             "second_ttft_ms": round_["second_ttft_ms"], "second_prompt": round_["second_prompt"],
                             "second_cached": round_["second_cached"], "speakers": ",".join(round_["speakers"]),
                             "error": single.error or round_["error"]})
    finally:
        for client in clients.values():
            client.close()
    summary: dict = {"backend": backend}
    for name in names:
        mine = [r for r in rows if r["variant"] == name]
        single_ms = median(r["single_ttft_ms"] for r in mine)
        second_ms = median(r["second_ttft_ms"] for r in mine)
        summary[name] = {"single_ttft_ms": single_ms, "second_ttft_ms": second_ms,
                         "ratio_second_to_single": ratio(second_ms, single_ms),
                         "first_tokens_per_s": median(r["first_tps"] for r in mine)}
    value = summary["preread"]["ratio_second_to_single"]
    summary.update(single_ttft_ms=summary["preread"]["single_ttft_ms"],
                   second_ttft_ms=summary["preread"]["second_ttft_ms"], ratio_second_to_single=value)
    return {
        "part": "roundtable",
        "title": f"Round table: the second speaker's TTFT vs one master alone ({backend}, {len(questions)} questions, "
                 f"{max_tokens} tokens a reply, via /api/messages; {' vs '.join(names)})",
        "columns": ["variant", "question", "single_ttft_ms", "first_ttft_ms", "first_tps", "second_ttft_ms",
                    "second_prompt", "second_cached", "speakers", "error"],
        "rows": rows,
        "summary": summary,
        "errors": errors,
        "targets": [target(f"round table ({backend}): 2nd speaker TTFT / single TTFT", value, 1.5, "<=")],
        "notes": ["second_ttft_ms: from the second speaker's `speaker` event to its first delta; single_ttft_ms: "
                  f"request → first delta, {SECOND} alone in a new conversation; both masters primed first",
                  "variant preread: the hall as shipped (the second speaker's prompt is read ahead while the first "
                  "answers); sequential: MASTERHALL_ROUNDTABLE_PREREAD=false; first_tps: the first speaker's "
                  "decoding rate (engine's usage); second_prompt / second_cached: the second speaker's prompt "
                  "tokens and those served from the cache"],
    }


def _round(client: httpx.Client, body: dict) -> dict:
    """One round through ``/api/messages``: each speaker's TTFT from its ``speaker`` event, the
    first speaker's decoding rate and the second speaker's prompt tokens (from their ``done``)."""
    t0, status, chunks, error_body = _record(client, "/api/messages", body, 300.0)
    out: dict = {"speakers": [], "first_ttft_ms": None, "second_ttft_ms": None, "first_tps": None,
                 "second_prompt": None, "second_cached": None, "error": None}
    if status != 200:
        out["error"] = f"HTTP {status}: {error_body[:200].decode(errors='replace')}"
        return out
    started: list[float] = []
    firsts: dict[int, float] = {}
    for t, event, data in _frames(chunks):
        payload = json.loads(data) if data and data.startswith("{") else {}
        if event == "speaker":
            out["speakers"].append(payload.get("master_id"))
            started.append(t)
        elif event == "delta" and started and len(started) - 1 not in firsts:
            firsts[len(started) - 1] = t
        elif event == "done" and started:
            usage = payload.get("usage") or {}
            if len(started) == 1:
                out["first_tps"] = round(usage["tokens_per_s"], 1) if usage.get("tokens_per_s") else None
            elif len(started) == 2:
                out["second_prompt"], out["second_cached"] = usage.get("prompt_tokens"), usage.get("cached_tokens")
        elif event == "error":
            out["error"] = f"{payload.get('code')}: {payload.get('message')}"
    if 0 in firsts:
        out["first_ttft_ms"] = ms(firsts[0] - t0)
    if 1 in firsts:
        out["second_ttft_ms"] = ms(firsts[1] - started[1])
    elif out["error"] is None:
        out["error"] = "the second speaker sent no text"
    return out
