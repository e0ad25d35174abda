"""``masterhall chat``: talk with a master, one-shot or interactive, streamed to the terminal."""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from ..backends.base import BackendError, ChatMessage
from ..backends.embedded import EmbeddedModelError
from ..catalog.loader import UnknownMasterError
from ..catalog.models import SamplingParams
from ..chat.engine import ChatEngine, Turn
from ..chat.prompt import ContextTooLongError
from .common import err, fail, open_hall, out

#: The line under an answer that stopped at the token limit (it is not complete).
CUT_NOTE = "cut at the length limit (--max-tokens allows more)"
#: What stops a turn before it streams: reported, then the command ends (one-shot) or goes on.
TURN_ERRORS = (BackendError, ContextTooLongError, EmbeddedModelError)


def stream_turn(turn: Turn) -> bool:
    """Print a turn's deltas as they come; Ctrl-C stops the answer. Returns False if stopped."""
    try:
        for delta in turn:
            sys.stdout.write(delta)
            sys.stdout.flush()
    except KeyboardInterrupt:
        turn.close()
        sys.stdout.write("\n")
        err.print("[yellow](stopped)[/]")
        return False
    sys.stdout.write("\n")
    sys.stdout.flush()
    return True


def print_stats(turn: Turn) -> None:
    """One dim line under an answer: backend, TTFT, speed, tokens, how it ended (an answer cut at
    the token limit says so, :data:`CUT_NOTE`; one ended for repeating itself has the hall's note),
    the hall's notes."""
    reply = turn.reply
    if reply is None:
        return
    u = reply.usage
    bits = [reply.backend]
    if u.finish_reason == "guard":
        bits.append("safety guard answered")
    if u.ttft_s is not None and u.finish_reason != "guard":
        bits.append(f"TTFT {u.ttft_s:.2f} s")
    if u.tokens_per_s:
        bits.append(f"{u.tokens_per_s:.1f} tok/s")
    if u.completion_tokens:
        bits.append(f"{u.prompt_tokens} + {u.completion_tokens} tokens")
    if u.finish_reason == "length":
        err.print(f"[dim]— {CUT_NOTE}[/]", highlight=False)
    elif u.finish_reason in ("error", "cancelled"):
        bits.append(f"finish: {u.finish_reason}" + (f" ({u.error})" if u.error else ""))
    bits += reply.notes
    err.print("[dim]— " + " · ".join(bits) + "[/]", highlight=False)


def chat(
    master_id: str = typer.Argument(..., help="Master id, e.g. socrates."),
    message: Optional[str] = typer.Argument(None, help="One-shot message; omitted: read stdin if piped, else interactive."),
    backend: Optional[str] = typer.Option(None, "--backend", "--model", "-m", help="Backend name or a .gguf path."),
    temperature: Optional[float] = typer.Option(None, "--temperature", "-t", min=0.0, max=2.0),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, max=32768),
    as_json: bool = typer.Option(False, "--json", help="Print the reply and its usage as JSON (one-shot)."),
) -> None:
    """Talk with a master: one-shot with MESSAGE (or piped stdin), interactive otherwise."""
    hall = open_hall(progress=True)
    hall.close()  # the catalog is loaded; a chat in the terminal stores nothing
    try:
        master = hall.catalog.get(master_id)
    except UnknownMasterError as exc:
        fail(str(exc), 2)
    if message is None and not sys.stdin.isatty():
        message = sys.stdin.read().strip()
        if not message:
            fail("Nothing to send: stdin was empty.", 2)
    params = SamplingParams(temperature=temperature, max_tokens=max_tokens)
    if message is not None:
        one_shot(hall.engine, master.id, message, backend, params, as_json)
    else:
        interactive(hall.engine, master, backend, params)


def one_shot(engine: ChatEngine, master_id: str, message: str, backend, params, as_json: bool) -> None:
    """Answer one message; exit code 1 when the backend failed, 130 when stopped."""
    if not message.strip():
        fail("The message is empty.", 2)
    try:
        turn = engine.stream(master_id, [], message, backend=backend, params=params)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    except TURN_ERRORS as exc:
        fail(str(exc))
    if as_json:
        reply = turn.collect()
        print(json.dumps(reply.to_dict(), ensure_ascii=False, indent=2))
    else:
        if not stream_turn(turn):
            raise typer.Exit(130)
        print_stats(turn)
    if turn.reply and turn.reply.usage.finish_reason == "error":
        raise typer.Exit(1)


def interactive(engine: ChatEngine, master, backend, params) -> None:
    """A conversation in the terminal: ``/reset`` starts over, ``/exit`` quits, Ctrl-C stops an answer."""
    out.print(f"{master.avatar}  [bold]{master.name.zh} · {master.name.en}[/]")
    out.print(master.greeting.zh + "\n" + master.greeting.en)
    out.print("[dim]/reset starts over · /exit quits · Ctrl-C stops an answer[/]\n")
    history: list[ChatMessage] = []
    while True:
        try:
            line = input("you › ")
        except EOFError:
            out.print()
            return
        except KeyboardInterrupt:
            out.print("\n[dim](type /exit to quit)[/]")
            continue
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            return
        if text == "/reset":
            history.clear()
            out.print("[dim](conversation cleared)[/]")
            continue
        try:
            turn = engine.stream(master.id, history, text, backend=backend, params=params)
        except KeyboardInterrupt:
            err.print("[yellow](stopped)[/]")
            continue
        except TURN_ERRORS as exc:
            err.print(f"[bold red]Error:[/] {exc}", highlight=False)
            continue
        sys.stdout.write(f"{master.avatar} › ")
        stream_turn(turn)
        print_stats(turn)
        reply = turn.reply
        history.append(ChatMessage("user", text))
        if reply and reply.text:
            history.append(ChatMessage("assistant", reply.text))


def register(app: typer.Typer) -> None:
    """Add ``chat`` to the ``masterhall`` app."""
    app.command("chat")(chat)
