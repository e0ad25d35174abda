"""Cold start: a fresh ``masterhall serve`` (new process, new database) and a fresh ``masterhall chat``.

For the server: seconds from spawn until it answers HTTP (``ready_s``), until ``/api/status``
says the model is loaded (``model_ready_s``, polled from a second connection), and until the first
token of a message sent the moment the server answered (``first_token_s``; the message waits for
the model, then reads its whole prompt). Resident memory (``/proc/PID/status``) when HTTP is ready,
after the first answer, and at its peak. For the CLI: a one-shot ``masterhall chat``, spawn to
first byte on stdout. The GGUF is already assembled and in the page cache (a warm disk cache, a
cold process).
"""

from __future__ import annotations

import threading
import time

import httpx

from .common import Context, ServerProcess, ms, post_messages, rnd
from .decode import cli_stream

MASTER = "confucius"


def run(ctx: Context) -> dict:
    """One cold server and one cold CLI run (no targets: the numbers are for the record)."""
    max_tokens = 8 if ctx.options.quick else 16
    server = ServerProcess(ctx.env, ctx.workdir / "coldstart.log", data_dir=ctx.workdir / "data-coldstart")
    server.spawn()
    model_ready: dict[str, float] = {}
    try:
        ready_s = server.wait_http()
        memory_at_ready = server.memory()

        def poll() -> None:
            try:
                model_ready["s"] = server.wait_model()
            except Exception:  # noqa: BLE001 - reported as missing
                pass

        poller = threading.Thread(target=poll, name="bench-model-poll", daemon=True)
        poller.start()
        with httpx.Client(base_url=server.url, timeout=300) as client:
            stream = post_messages(client, {"master_id": MASTER, "content": "What is the way of the gentleman?",
                                            "temperature": 0.0, "max_tokens": max_tokens})
        poller.join(timeout=120)
        time.sleep(0.2)
        memory_after = server.memory()
    finally:
        server.stop()
    first_token_s = stream.delta_times[0] - server.t_spawn if stream.delta_times else None
    cli = cli_stream(ctx.env, max_tokens)
    rows = [
        {"what": "serve: spawn → HTTP ready", "seconds": rnd(ready_s, 2), "rss_mib": memory_at_ready["rss_mib"]},
        {"what": "serve: spawn → model loaded", "seconds": rnd(model_ready.get("s"), 2)},
        {"what": "serve: spawn → first token", "seconds": rnd(first_token_s, 2),
         "rss_mib": memory_after["rss_mib"], "peak_rss_mib": memory_after["peak_rss_mib"]},
        {"what": "serve: message sent at HTTP ready → first token", "seconds": rnd(stream.ttft_s, 2)},
        {"what": "chat (CLI): spawn → first token", "seconds": rnd(cli.ttft_s, 2)},
    ]
    errors = int(not stream.ok) + int(not cli.ok)
    return {
        "part": "coldstart",
        "title": "Cold start (fresh process, GGUF in the page cache)",
        "columns": ["what", "seconds", "rss_mib", "peak_rss_mib"],
        "rows": rows,
        "summary": {"ready_s": rnd(ready_s, 3), "model_ready_s": rnd(model_ready.get("s"), 3),
                    "first_token_s": rnd(first_token_s, 3), "ttft_cold_ms": ms(stream.ttft_s),
                    "cli_first_token_s": rnd(cli.ttft_s, 3), "rss_ready_mib": memory_at_ready["rss_mib"],
                    "rss_after_first_answer_mib": memory_after["rss_mib"], "peak_rss_mib": memory_after["peak_rss_mib"],
                    "server_error": stream.error, "cli_error": cli.error},
        "errors": errors,
        "targets": [],
    }
