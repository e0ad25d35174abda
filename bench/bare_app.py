"""The baseline of the API-overhead benchmark: a bare FastAPI app that streams the same SSE.

``POST /api/messages`` and ``POST /v1/chat/completions`` accept the same JSON bodies as
MasterHall's endpoints and stream the same events with the same fake reply
(``[fake] You said: …`` in word-sized deltas) — with no catalog, prompt building, storage, threads
or Markdown rendering. What MasterHall costs on top of this is its API overhead.

``POST /stored/api/messages`` is the same plus the rows a stored turn writes, in MasterHall's own
tables (created by its migrations when the baseline starts, so the same columns, indexes, CHECK and
foreign-key constraints): the conversation, the user's message, the answer started (empty,
``streaming``), then the answer finished (its text, status, usage) with the conversation's
``updated_at`` moved — four commits of plain ``sqlite3`` (WAL mode, SQLite's default
``synchronous``, ``foreign_keys`` on, as MasterHall's connections), the storage cost alone, for
comparison. ``POST /small/api/messages`` writes four rows of five columns into a table of its own
(no index, no constraint; the baseline before 2026-12-01), for reference.

Run: ``python -m bench.bare_app --port PORT --db FILE`` (uvicorn on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timezone

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel


class SendMessage(BaseModel):
    """The body of ``/api/messages`` (as MasterHall's)."""

    content: str
    master_id: str | None = None
    conversation_id: str | None = None
    backend: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


class Message(BaseModel):
    """One OpenAI chat message."""

    role: str
    content: str


class ChatRequest(BaseModel):
    """The parts of an OpenAI chat request the baseline reads."""

    model: str
    messages: list[Message]
    stream: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    stream_options: dict | None = None


def pieces(text: str) -> list[str]:
    """Word-sized deltas, each word with its leading space (like the fake backend)."""
    words = text.split(" ")
    return [words[0]] + [" " + w for w in words[1:]]


def sse(event: str | None, data) -> str:
    """One SSE frame."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


app = FastAPI(title="bare baseline")
_db: dict = {}


def _connection() -> sqlite3.Connection:
    """One SQLite connection per thread on the file given with ``--db``."""
    local = _db.setdefault("local", threading.local())
    if not hasattr(local, "conn"):
        local.conn = sqlite3.connect(_db["path"], timeout=30, isolation_level=None)
        local.conn.execute("PRAGMA journal_mode=WAL")
        local.conn.execute("PRAGMA foreign_keys=ON")
        local.conn.execute("CREATE TABLE IF NOT EXISTS small (id INTEGER PRIMARY KEY, conv TEXT, role TEXT, "
                           "content TEXT, status TEXT)")
    return local.conn


def _commit(*statements: tuple[str, tuple]) -> int:
    """Run ``statements`` in one transaction, committed; the last row id."""
    conn = _connection()
    conn.execute("BEGIN")
    for sql, args in statements:
        cur = conn.execute(sql, args)
    conn.execute("COMMIT")
    return cur.lastrowid


def _now() -> str:
    """A timestamp as MasterHall's SQLite rows hold it (UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


#: MasterHall's rows of a turn (``conversations`` and ``messages``, every column); JSON columns
#: hold ``null`` as SQLAlchemy's JSON type writes ``None``.
INSERT_CONVERSATION = ("INSERT INTO conversations (id, master_id, title, model, created_at, updated_at, owner_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, NULL)")
INSERT_MESSAGE = ("INSERT INTO messages (conversation_id, role, content, status, error, prompt_tokens, completion_tokens, "
                  "ttft_s, tokens_per_s, created_at, updated_at, finish_reason, safety, notes, recommendations) "
                  "VALUES (?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?, ?, NULL, 'null', 'null', 'null')")
FINISH_MESSAGE = ("UPDATE messages SET content = ?, status = 'complete', error = NULL, prompt_tokens = ?, "
                  "completion_tokens = ?, ttft_s = ?, tokens_per_s = ?, finish_reason = 'stop', safety = 'null', "
                  "notes = 'null', recommendations = 'null', updated_at = ? WHERE id = ?")
TOUCH_CONVERSATION = "UPDATE conversations SET updated_at = ? WHERE id = ?"


@app.get("/api/status")
def status() -> dict:
    return {"model": {"state": "ready", "message": "bare"}}


@app.post("/api/messages")
async def messages(body: SendMessage):
    reply = pieces(f"[fake] You said: {body.content}")

    async def frames():
        yield sse("start", {"conversation_id": uuid.uuid4().hex, "message_id": 1, "title": body.content[:40]})
        for piece in reply:
            yield sse("delta", {"text": piece})
        yield sse("done", {"status": "complete", "text": "".join(reply),
                           "usage": {"completion_tokens": len(reply), "prompt_tokens": 0}})

    return StreamingResponse(frames(), media_type="text/event-stream")


@app.post("/stored/api/messages")
async def stored_messages(body: SendMessage):
    reply = pieces(f"[fake] You said: {body.content}")
    conv, title, now = uuid.uuid4().hex, body.content[:40], _now()
    await run_in_threadpool(_commit, (INSERT_CONVERSATION, (conv, body.master_id or "", title, "fake:fake", now, now)))
    await run_in_threadpool(_commit, (INSERT_MESSAGE, (conv, "user", body.content, "complete", now, now)))
    message_id = await run_in_threadpool(_commit, (INSERT_MESSAGE, (conv, "assistant", "", "streaming", now, now)))

    async def frames():
        yield sse("start", {"conversation_id": conv, "message_id": message_id, "title": title})
        for piece in reply:
            yield sse("delta", {"text": piece})
        end = _now()
        await run_in_threadpool(_commit, (FINISH_MESSAGE, ("".join(reply), 0, len(reply), 0.0, 0.0, end, message_id)),
                                (TOUCH_CONVERSATION, (end, conv)))
        yield sse("done", {"status": "complete", "text": "".join(reply),
                           "usage": {"completion_tokens": len(reply), "prompt_tokens": 0}})

    return StreamingResponse(frames(), media_type="text/event-stream")


@app.post("/small/api/messages")
async def small_messages(body: SendMessage):
    reply = pieces(f"[fake] You said: {body.content}")
    conv = uuid.uuid4().hex
    insert = "INSERT INTO small (conv, role, content, status) VALUES (?, ?, ?, ?)"
    await run_in_threadpool(_commit, (insert, (conv, "conversation", "", "created")))
    await run_in_threadpool(_commit, (insert, (conv, "user", body.content, "complete")))
    message_id = await run_in_threadpool(_commit, (insert, (conv, "assistant", "", "streaming")))

    async def frames():
        yield sse("start", {"conversation_id": conv, "message_id": message_id, "title": body.content[:40]})
        for piece in reply:
            yield sse("delta", {"text": piece})
        await run_in_threadpool(_commit, ("UPDATE small SET content = ?, status = 'complete' WHERE id = ?",
                                          ("".join(reply), message_id)))
        yield sse("done", {"status": "complete", "text": "".join(reply),
                           "usage": {"completion_tokens": len(reply), "prompt_tokens": 0}})

    return StreamingResponse(frames(), media_type="text/event-stream")


@app.post("/v1/chat/completions")
async def chat_completions(body: ChatRequest):
    reply = pieces(f"[fake] You said: {body.messages[-1].content}")
    cid, created = "chatcmpl-" + uuid.uuid4().hex, int(time.time())

    def chunk(delta: dict, finish: str | None = None) -> str:
        return sse(None, {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model,
                          "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    async def frames():
        yield chunk({"role": "assistant", "content": ""})
        for piece in reply:
            yield chunk({"content": piece})
        yield chunk({}, "stop")
        yield sse(None, {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model,
                         "choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": len(reply),
                                                  "total_tokens": len(reply)}})
        yield sse(None, "[DONE]")

    return StreamingResponse(frames(), media_type="text/event-stream")


def main() -> None:
    """Serve the baseline on 127.0.0.1."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file of /stored/api/messages")
    args = parser.parse_args()
    _db["path"] = args.db
    from masterhall.store.db import Store

    Store(f"sqlite:///{args.db}").close()  # MasterHall's tables, by its migrations (before serving)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
