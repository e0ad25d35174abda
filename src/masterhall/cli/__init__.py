"""The ``masterhall`` command line: a thin Typer shell over the hall (:mod:`masterhall.hall`),
one module per command group: ``catalog`` (masters, show), ``chat``, ``models``, ``serve``,
``roundtable``, ``finder`` (match), ``evaluate`` (the eval group), ``interop`` (import, export), ``bench``, ``users``
(accounts) and ``keys`` (API keys); ``common`` holds what they share (consoles, errors, the hall)."""

from __future__ import annotations

import typer

from . import bench, catalog, chat, evaluate, finder, interop, keys, models, roundtable, serve, users

app = typer.Typer(add_completion=False, no_args_is_help=True, help="MasterHall — a hall of AI masters, offline.")
for _group in (catalog, models, chat, roundtable, serve, finder, evaluate, interop, bench, users, keys):
    _group.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
