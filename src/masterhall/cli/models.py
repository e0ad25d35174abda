"""``masterhall models``: the configured backends."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from .common import open_hall, out


def models(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the configured backends (the default one is marked)."""
    hall = open_hall()
    hall.close()
    rows = hall.registry.describe()
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


def register(app: typer.Typer) -> None:
    """Add ``models`` to the ``masterhall`` app."""
    app.command("models")(models)
