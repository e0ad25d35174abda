"""``masterhall roundtable``: several masters answer one message in turn, streamed to the terminal
(nothing stored, like ``masterhall chat``). The chair decides the order (see the README, *Round
tables*); each reply is printed under its speaker's avatar and name."""

from __future__ import annotations

import json
import queue
import sys
from typing import Optional

import typer

from ..catalog.models import SamplingParams
from ..conversations.service import InvalidMessageError
from .common import err, fail, open_hall


def roundtable(
    master_ids: str = typer.Argument(..., help="Comma-separated master ids, e.g. socrates,marcus-aurelius,aaron-beck."),
    message: str = typer.Argument(..., help="The message for the table (@name addresses a master first)."),
    rounds: int = typer.Option(1, "--rounds", min=1, max=5, help="Rounds in a row: each master may answer the others."),
    backend: Optional[str] = typer.Option(None, "--backend", "--model", "-m", help="Backend name or a .gguf path."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, max=32768),
    as_json: bool = typer.Option(False, "--json", help='Print {"replies": [{"master", "text", "usage"}...]}.'),
) -> None:
    """Seat 2–8 masters at a round table and let them answer MESSAGE in turn."""
    hall = open_hall(progress=not as_json)
    hall.close()  # the catalog is loaded; a round table in the terminal stores nothing
    ids = [i.strip() for i in master_ids.split(",") if i.strip()]
    events: queue.SimpleQueue = queue.SimpleQueue()
    try:
        gen = hall.roundtable.complete(ids, [], message, rounds=rounds, backend=backend,
                                       params=SamplingParams(max_tokens=max_tokens), listener=events.put)
    except InvalidMessageError as exc:
        fail(str(exc), 2)
    replies: list[dict] = []
    failed = stopped = False
    try:
        while (event := events.get()) is not None:
            failed |= _show(event, replies, as_json)
    except KeyboardInterrupt:
        gen.stop()
        gen.done.wait(10)
        stopped = True
        err.print("\n[yellow](stopped: the round ends here)[/]")
    if as_json:
        print(json.dumps({"replies": replies}, ensure_ascii=False, indent=2))
    if stopped:
        raise typer.Exit(130)
    if failed and not any(r["text"] for r in replies):
        raise typer.Exit(1)


def _show(event, replies: list[dict], as_json: bool) -> bool:
    """Print one event of the round (unless ``as_json``) and record the replies; True on an error."""
    data = event.data
    if event.type == "speaker":
        replies.append({"master": data["master_id"], "name": data["name"], "text": "", "usage": None})
        if not as_json:
            sys.stdout.write(("\n" if len(replies) > 1 else "") + f"{data['avatar']} {data['name']} › ")
            sys.stdout.flush()
    elif event.type == "delta" and replies:
        replies[-1]["text"] += data["text"]
        if not as_json:
            sys.stdout.write(data["text"])
            sys.stdout.flush()
    elif event.type in ("done", "error"):
        if replies:
            replies[-1]["usage"] = data.get("usage")
        if not as_json:
            sys.stdout.write("\n")
            if event.type == "error":
                err.print(f"[bold red]Error:[/] {data.get('message')}", highlight=False)
            elif (data.get("usage") or {}).get("finish_reason") == "guard":
                err.print("[dim]— safety guard answered; the round ends here[/]", highlight=False)
        return event.type == "error"
    return False


def register(app: typer.Typer) -> None:
    """Add ``roundtable`` to the ``masterhall`` app."""
    app.command("roundtable")(roundtable)
