"""``masterhall masters`` and ``masterhall show``: the masters of the hall."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

from ..catalog.loader import UnknownMasterError
from ..catalog.models import CATEGORIES, CATEGORY_IDS
from .common import LangOpt, fail, open_hall, out


def masters(
    category: Optional[str] = typer.Option(None, "--category", "-c", help=f"One of: {', '.join(CATEGORY_IDS)}."),
    lang: str = LangOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the masters of the hall, by category (ids are never wrapped: they are typed back)."""
    if category is not None and category not in CATEGORY_IDS:
        fail(f"Unknown category '{category}'. Choose one of: {', '.join(CATEGORY_IDS)}.", 2)
    hall = open_hall()
    rows = hall.catalog.advisors(category)
    hall.close()
    if as_json:
        print(json.dumps([m.model_dump(include={"id", "category", "avatar", "name", "tagline"}) for m in rows],
                         ensure_ascii=False, indent=2))
        return
    names = {c.id: c.name.get(lang) for c in CATEGORIES}
    table = Table(title=f"MasterHall · {len(rows)} masters")
    table.add_column("", no_wrap=True)
    table.add_column("id", no_wrap=True, min_width=max((len(m.id) for m in rows), default=2))
    table.add_column("name", overflow="fold", max_width=18)
    table.add_column("category", overflow="fold", max_width=12)
    table.add_column("tagline", overflow="fold", ratio=1)
    for m in rows:
        table.add_row(m.avatar, m.id, m.name.get(lang), names[m.category], m.tagline.get(lang))
    out.print(table)


def show(
    master_id: str = typer.Argument(..., help="Master id, e.g. socrates."),
    lang: str = LangOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the whole master as JSON."),
) -> None:
    """Show one master: description, greeting, conversation starters."""
    hall = open_hall()
    try:
        m = hall.catalog.get(master_id)
    except UnknownMasterError as exc:
        fail(str(exc), 2)
    finally:
        hall.close()
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


def register(app: typer.Typer) -> None:
    """Add ``masters`` and ``show`` to the ``masterhall`` app."""
    app.command("masters")(masters)
    app.command("show")(show)
