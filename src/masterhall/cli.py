"""The ``masterhall`` command line: a thin Typer shell over the catalog and the chat engine."""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from .backends.base import BackendError, ChatMessage
from .backends.embedded import EmbeddedModelError
from .backends.registry import BackendRegistry
from .catalog.loader import Catalog, UnknownMasterError
from .catalog.models import CATEGORIES, CATEGORY_IDS, SamplingParams
from .chat.engine import ChatEngine, Turn
from .chat.prompt import ContextTooLongError
from .config import load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="MasterHall — a hall of AI masters, offline.")
out = Console()
err = Console(stderr=True)

LangOpt = typer.Option("en", "--lang", "-l", help="Display language: zh or en.")

from . import cli_finder
cli_finder.register(app)
from . import cli_interop
cli_interop.register(app)
from . import cli_bench
cli_bench.register(app)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]Error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _catalog() -> Catalog:
    """Built-in masters plus the published user masters of the hall's database."""
    from .masters.library import load_hall_catalog

    return load_hall_catalog(load_settings().database_url)


def _assembly_progress():
    """A rich progress bar for the one-time assembly of the embedded model."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    state: dict = {}

    def progress(done: int, total: int) -> None:
        if "bar" not in state:
            bar = Progress(TextColumn("Preparing the embedded model"), BarColumn(), DownloadColumn(), console=err)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("assemble", total=total)
        state["bar"].update(state["task"], completed=done)
        if done >= total:
            state.pop("bar").stop()

    return progress


@app.command()
def masters(
    category: Optional[str] = typer.Option(None, "--category", "-c", help=f"One of: {', '.join(CATEGORY_IDS)}."),
    lang: str = LangOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the masters of the hall, by category."""
    catalog = _catalog()
    if category is not None and category not in CATEGORY_IDS:
        _fail(f"Unknown category '{category}'. Choose one of: {', '.join(CATEGORY_IDS)}.", 2)
    rows = catalog.advisors(category)
    if as_json:
        print(json.dumps([m.model_dump(include={"id", "category", "avatar", "name", "tagline"}) for m in rows], ensure_ascii=False, indent=2))
        return
    names = {c.id: c.name.get(lang) for c in CATEGORIES}
    table = Table(title=f"MasterHall · {len(rows)} masters")
    for col in ("", "id", "name", "category", "tagline"):
        table.add_column(col, overflow="fold")
    for m in rows:
        table.add_row(m.avatar, m.id, m.name.get(lang), names[m.category], m.tagline.get(lang))
    out.print(table)


@app.command()
def show(
    master_id: str = typer.Argument(..., help="Master id, e.g. socrates."),
    lang: str = LangOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the whole master as JSON."),
) -> None:
    """Show one master: description, greeting, conversation starters."""
    try:
        m = _catalog().get(master_id)
    except UnknownMasterError as exc:
        _fail(str(exc), 2)
    if as_json:
        print(json.dumps(m.model_dump(), ensure_ascii=False, indent=2))
        return
    out.print(f"{m.avatar}  [bold]{m.name.get(lang)}[/] ({m.id}) · {m.category}")
    out.print(f"[italic]{m.tagline.get(lang)}[/]\n")
    out.print(m.description.get(lang) + "\n")
    out.print(f"[bold]{'问候' if lang == 'zh' else 'Greeting'}:[/] {m.greeting.get(lang)}\n")
    out.print(f"[bold]{'可以这样开始' if lang == 'zh' else 'Conversation starters'}:[/]")
    for s in m.starters.get(lang):
        out.print(f"  • {s}")
    out.print(f"\n[dim]{', '.join(m.tags.get(lang))}[/]")


@app.command()
def models(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the configured backends (the default one is marked)."""
    registry = BackendRegistry(load_settings())
    rows = registry.describe()
    if as_json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    table = Table(title="Backends")
    for col in ("", "name", "type", "model", "source"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row("*" if r.default else "", r.name, r.type, r.model, r.source)
    out.print(table)
    out.print("[dim]Choose one with --backend NAME, MASTERHALL_BACKEND or `backend` in the config file.[/]")


def _stream_turn(turn: Turn) -> bool:
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


def _stats(turn: Turn) -> None:
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
    if u.finish_reason in ("length", "error", "cancelled"):
        bits.append(f"finish: {u.finish_reason}" + (f" ({u.error})" if u.error else ""))
    bits += reply.notes
    err.print("[dim]— " + " · ".join(bits) + "[/]", highlight=False)


@app.command()
def chat(
    master_id: str = typer.Argument(..., help="Master id, e.g. socrates."),
    message: Optional[str] = typer.Argument(None, help="One-shot message; omitted: read stdin if piped, else interactive."),
    backend: Optional[str] = typer.Option(None, "--backend", "--model", "-m", help="Backend name or a .gguf path."),
    temperature: Optional[float] = typer.Option(None, "--temperature", "-t", min=0.0, max=2.0),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, max=32768),
    as_json: bool = typer.Option(False, "--json", help="Print the reply and its usage as JSON (one-shot)."),
) -> None:
    """Talk with a master: one-shot with MESSAGE (or piped stdin), interactive otherwise."""
    catalog = _catalog()
    try:
        master = catalog.get(master_id)
    except UnknownMasterError as exc:
        _fail(str(exc), 2)
    if message is None and not sys.stdin.isatty():
        message = sys.stdin.read().strip()
        if not message:
            _fail("Nothing to send: stdin was empty.", 2)
    settings = load_settings()
    registry = BackendRegistry(settings, progress=_assembly_progress())
    engine = ChatEngine(catalog, registry, settings)
    params = SamplingParams(temperature=temperature, max_tokens=max_tokens)
    if message is not None:
        _one_shot(engine, master.id, message, backend, params, as_json)
    else:
        _interactive(engine, master, backend, params)


def _start(engine: ChatEngine, master_id: str, history, message: str, backend, params) -> Turn | None:
    try:
        return engine.stream(master_id, history, message, backend=backend, params=params)
    except (BackendError, ContextTooLongError, EmbeddedModelError) as exc:
        _fail(str(exc))
    return None


def _one_shot(engine: ChatEngine, master_id: str, message: str, backend, params, as_json: bool) -> None:
    if not message.strip():
        _fail("The message is empty.", 2)
    try:
        turn = _start(engine, master_id, [], message, backend, params)
    except KeyboardInterrupt:
        raise typer.Exit(130)
    if as_json:
        reply = turn.collect()
        print(json.dumps(reply.to_dict(), ensure_ascii=False, indent=2))
    else:
        if not _stream_turn(turn):
            raise typer.Exit(130)
        _stats(turn)
    if turn.reply and turn.reply.usage.finish_reason == "error":
        raise typer.Exit(1)


def _interactive(engine: ChatEngine, master, backend, params) -> None:
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
        except (BackendError, ContextTooLongError, EmbeddedModelError) as exc:
            err.print(f"[bold red]Error:[/] {exc}", highlight=False)
            continue
        sys.stdout.write(f"{master.avatar} › ")
        _stream_turn(turn)
        _stats(turn)
        reply = turn.reply
        history.append(ChatMessage("user", text))
        if reply and reply.text:
            history.append(ChatMessage("assistant", reply.text))


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Port (default 8042)."),
    backend: Optional[str] = typer.Option(None, "--backend", "--model", "-m", help="Default backend name or a .gguf path."),
) -> None:
    """Open the web hall (and the /api and OpenAI-compatible /v1 APIs) in the browser."""
    import uvicorn

    from .web.app import build_hall, create_app

    settings = load_settings(backend=backend, host=host, port=port)
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            f"[bold yellow]Warning:[/] binding to {settings.host}: the hall has no login yet — anyone who can "
            "reach this address can read and write every conversation.",
            highlight=False,
        )
    hall = build_hall(settings)
    hall.registry.progress = _assembly_progress()
    app_ = create_app(hall)
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    out.print(f"MasterHall is open at [bold]http://{shown}:{settings.port}/[/]  (Ctrl-C to stop; the model loads in the background)")
    uvicorn.run(app_, host=settings.host, port=settings.port, log_level="warning")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
