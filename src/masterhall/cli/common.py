"""What every command shares: the consoles, the one way to fail, the embedded model's progress
bar, and the hall (:func:`open_hall`), built once per command from the composition root."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from ..accounts import Caller
from ..accounts.access import first_admin
from ..config import load_settings
from ..hall import Hall, build_hall
from ..store.db import Store

#: Standard output (tables, answers) and standard error (progress, notes, errors).
out = Console()
err = Console(stderr=True)
#: The ``--lang`` option of the commands that show masters.
LangOpt = typer.Option("en", "--lang", "-l", help="Display language: zh or en.")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``Error: message`` on standard error (as plain text) and exit with ``code``
    (1: the command failed; 2: bad arguments or unknown names)."""
    err.print("[bold red]Error:[/] ", end="")
    err.print(message, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def assembly_progress():
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


def open_hall(*, strict: bool = False, progress: bool = False, **overrides) -> Hall:
    """The hall for a command: the settings (``overrides`` on top), the built-in masters joined
    by the published user masters of the hall's database, the backends (with a progress bar for
    the embedded model when ``progress``).

    When the database cannot be opened, ``strict`` commands fail (raise); the others go on with
    the built-in masters alone (an empty store in memory).
    """
    settings = load_settings(**overrides)
    try:
        store = Store(settings.database_url)
    except Exception:  # noqa: BLE001 - the built-ins still work without a database
        if strict:
            raise
        store = Store.in_memory()
    hall = build_hall(settings, store=store, progress=assembly_progress() if progress else None)
    hall.library.load_published()
    return hall


def cli_caller(hall: Hall) -> Caller:
    """Who a command acts for: the operator of the machine, so the first admin (the enabled admin
    created first) once the hall has accounts, else :data:`~masterhall.accounts.LOCAL`."""
    return first_admin(hall.store.engine)
