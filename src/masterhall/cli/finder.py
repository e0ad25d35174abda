"""``masterhall match``: the masters who fit a need, from the Master Finder.

The Finder itself lives in :mod:`masterhall.finder` and knows nothing of terminals.
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.table import Table

from ..finder.query import FinderQueryError
from .common import err, fail, open_hall, out


def build_finder(hall):
    """The hall's Finder over the built-in and published user masters; a spinner shows while it
    indexes (the first run encodes every master, about 10–15 s on 2 cores; later runs read the cache)."""
    with err.status("Indexing the masters…", spinner="dots"):
        return hall.finder.get()


def match(
    query: Optional[str] = typer.Argument(None, help="What you need, in Chinese or English; omitted: read stdin."),
    k: int = typer.Option(5, "-k", "--top", min=1, max=50, help="How many masters to recommend."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", help="Language of the reasons: zh or en (default: the query's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the matches as JSON."),
) -> None:
    """Recommend the masters that fit a need, best first, each with a one-line reason and its fit
    (0-1); says so when no master fits."""
    if query is None:
        if sys.stdin.isatty():
            fail('Give a need to match, e.g. masterhall match "I can\'t sleep".', 2)
        query = sys.stdin.read()
    hall = open_hall()
    hall.close()
    finder = build_finder(hall)
    try:
        result = finder.find(query, k=k, lang=lang)
    except FinderQueryError as exc:
        fail(str(exc), 2)
    found = result.matches
    if as_json:
        print(json.dumps([m.to_dict() for m in found], ensure_ascii=False, indent=2))
        return
    zh = bool(found) and found[0].lang == "zh"
    table = Table(title="推荐的大师" if zh else "Masters for your need")
    for col in ("#", "master", "id", "score", "fit", "理由" if zh else "why"):
        table.add_column(col, overflow="fold")
    for rank, m in enumerate(found, start=1):
        avatar = hall.catalog.masters[m.master_id].avatar if m.master_id in hall.catalog else ""
        table.add_row(str(rank), f"{avatar} {m.name}", m.master_id, f"{m.score:.2f}", f"{m.fit:.2f}", m.reason)
    out.print(table)
    if result.no_fit:
        out.print("没有合适的大师。可以在构建器里为这个需要创建一位大师（masterhall serve → /builder/new）。" if zh
                  else "No master fits this need. You can create one in the builder (masterhall serve → /builder/new).")
        return
    out.print(f"[dim]{'和其中一位聊：' if zh else 'Talk to one:'} masterhall chat {found[0].master_id if found else 'ID'} …[/]")


def register(app: typer.Typer) -> None:
    """Add ``match`` to the ``masterhall`` app."""
    app.command("match")(match)
