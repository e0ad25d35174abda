"""``masterhall import`` and ``masterhall export``: a thin shell over the builder's library
(:class:`~masterhall.builder.MasterLibrary`) and :mod:`masterhall.interop`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from ..catalog.loader import UnknownMasterError
from ..catalog.models import CATEGORY_IDS
from ..errors import InvalidRequestError
from ..interop import EXPORT_FORMATS, IMPORT_FORMATS, InteropError, import_source
from .common import cli_caller, err, fail, open_hall

#: Most imported masters listed one by one in the summary.
_LISTED = 20


def import_command(
    source: str = typer.Argument(..., help="A file (card .png/.json, LobeChat/NextChat .json, .yaml, .csv, .jsonl, "
                                 ".parquet) or a URL (https://, hf://datasets/…)."),
    fmt: str = typer.Option("auto", "--format", "-f", help=f"One of: {', '.join(IMPORT_FORMATS)}."),
    category: Optional[str] = typer.Option(None, "--category", "-c", help=f"Category of every imported master: "
                                           f"{', '.join(CATEGORY_IDS)} (default: the source's, else life)."),
    mapping: Optional[str] = typer.Option(None, "--map", help="Table columns to fields, e.g. act=name,prompt=instructions."),
    publish: bool = typer.Option(False, "--publish", help="Publish the masters (they join the hall at once); default: drafts."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and check only; store nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import masters from a file or URL into the database, all or nothing."""
    out = Console(soft_wrap=True)
    try:
        result = import_source(source, fmt=fmt, category=category, mapping=mapping)
    except InteropError as exc:
        fail(f"cannot import {source}: {exc}")
    stored = 0
    replaced: list[str] = []
    if result.ok and not dry_run:
        try:
            hall = open_hall(strict=True)
            try:
                replaced = [m.id for m in result.masters if hall.library.get(m.id) is not None]
                stored = hall.library.import_result(result, publish=publish, caller=cli_caller(hall))
            finally:
                hall.close()
        except InteropError as exc:
            fail(str(exc))
        except SQLAlchemyError as exc:
            fail(f"database error, nothing was imported: {exc.__class__.__name__}: {exc}")
    if as_json:
        summary = result.to_dict() | {"stored": stored, "replaced": replaced, "dry_run": dry_run, "published": publish and stored > 0}
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        if not result.ok:
            raise typer.Exit(1)
        return
    _print_summary(out, source, result, stored, replaced, publish, dry_run)
    if not result.ok:
        raise typer.Exit(1)


def _print_summary(out: Console, source: str, result, stored: int, replaced: list[str], publish: bool, dry_run: bool) -> None:
    total = len(result.masters) + len({r.index for r in result.rejected})
    out.print(f"Read {total} record(s) from {source} (format: {result.format}).", highlight=False)
    for note in result.notes[:_LISTED]:
        out.print(f"[dim]note: {note}[/]", highlight=False)
    if len(result.notes) > _LISTED:
        out.print(f"[dim]… and {len(result.notes) - _LISTED} more notes[/]")
    for warning in result.warnings[:_LISTED]:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if len(result.warnings) > _LISTED:
        err.print(f"[yellow]… and {len(result.warnings) - _LISTED} more warnings[/]")
    if result.rejected:
        bad = len({r.index for r in result.rejected})
        err.print(f"[bold red]{bad} record(s) rejected[/] — nothing was imported (all or nothing):", highlight=False)
        for problem in result.rejected:
            err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
        return
    table = Table(title=f"{len(result.masters)} master(s)")
    for col in ("", "id", "name", "category"):
        table.add_column(col, overflow="fold")
    for m in result.masters[:_LISTED]:
        table.add_row(m.avatar, m.id, m.name.en if m.name.en == m.name.zh else f"{m.name.en} · {m.name.zh}", m.category)
    out.print(table)
    if len(result.masters) > _LISTED:
        out.print(f"… and {len(result.masters) - _LISTED} more")
    if dry_run:
        out.print("Dry run: nothing was stored.")
        return
    state = "published (in the hall now)" if publish else "drafts (publish them in the builder, or import with --publish)"
    out.print(f"Imported {stored} master(s) as {state}.", highlight=False)
    if replaced:
        shown = ", ".join(replaced[:_LISTED]) + (" …" if len(replaced) > _LISTED else "")
        out.print(f"Replaced {len(replaced)} existing user master(s): {shown}", highlight=False)


def export_command(
    master_id: str = typer.Argument(..., help="Id of a built-in or user master."),
    fmt: str = typer.Option(..., "--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (default: stdout; card-png: ./<id>.png)."),
    image: Optional[Path] = typer.Option(None, "--image", help="card-png: a PNG to embed the card in (default: a generated one)."),
) -> None:
    """Export a master as a character card (JSON or PNG), a LobeChat agent, a NextChat mask, YAML or JSON."""
    hall = open_hall()
    try:
        picture = image.read_bytes() if image is not None else None
        content, _content_type, filename = hall.library.export(master_id, fmt, image=picture, caller=cli_caller(hall))
    except OSError as exc:
        fail(f"cannot read {image}: {exc.strerror or exc}")
    except UnknownMasterError as exc:
        fail(str(exc), 2)
    except InvalidRequestError as exc:
        fail(str(exc), 2)
    finally:
        hall.close()
    if output is None and fmt.strip().lower() == "card-png":
        output = Path(filename)
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(content)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    err.print(f"Wrote {output} ({len(content):,} bytes).", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``import`` and ``export`` commands to ``app``."""
    app.command("import")(import_command)
    app.command("export")(export_command)
