"""A tiny OpenAI-compatible chat server for the pool tests: ``python fake_openai.py PORT NAME``.

``POST /v1/chat/completions`` streams (SSE, ``stream: true``) the reply ``[NAME] `` followed by
``max_tokens`` words made from the last user message (each numbered: no repetition loop), one chunk every ``delay`` seconds (both from the
request's ``max_tokens`` and the ``X-Delay`` header; defaults 40 words, 0.02 s), then a usage chunk
and ``[DONE]``; ``GET /v1/models`` lists one model. It runs until killed (tests kill it with
SIGKILL to play a server that dies mid-answer).
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    name = "fake"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/v1/models":
            self.send_error(404)
            return
        body = json.dumps({"object": "list", "data": [{"id": "fake-model", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.send_error(404)
            return
        words = (next((m["content"] for m in reversed(request["messages"]) if m["role"] == "user"), "") or "x").split()
        count = int(request.get("max_tokens") or 40)
        delay = float(self.headers.get("x-delay", "0.02"))
        reply = [f"[{self.name}]"] + [f"{words[i % len(words)]}{i}" for i in range(count - 1)]  # no loop to cut
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()

        def chunk(data: dict) -> None:
            self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        for i, word in enumerate(reply):
            chunk({"choices": [{"index": 0, "delta": {"content": word if i == 0 else " " + word}, "finish_reason": None}]})
            time.sleep(delay)
        chunk({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        chunk({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": len(reply), "total_tokens": 10 + len(reply)}})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the client went away (a Stop): fine
            pass


if __name__ == "__main__":
    Handler.name = sys.argv[2] if len(sys.argv) > 2 else "fake"
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
