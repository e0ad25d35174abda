"""Command-line access to the Master Finder: ``masterhall match`` and ``masterhall eval finder``.

Kept out of ``cli.py`` (which only calls :func:`register`) so the finder's commands live next to
nothing else; the finder itself lives in :mod:`masterhall.finder` and knows nothing of terminals.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table


def _out() -> Console:
    return Console()


def _err() -> Console:
    return Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    _err().print(f"[bold red]Error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _hall_catalog():
    from .config import load_settings
    from .masters.library import load_hall_catalog

    return load_hall_catalog(load_settings().database_url)


def _build_finder():
    """A finder over the built-in and published user masters; a spinner shows while it indexes (the first run
    encodes every master, about 10–15 s on 2 cores; later runs read the cache)."""
    from .finder import Finder

    with _err().status("Indexing the masters…", spinner="dots"):
        return Finder(_hall_catalog())


def match(
    query: Optional[str] = typer.Argument(None, help="What you need, in Chinese or English; omitted: read stdin."),
    k: int = typer.Option(5, "-k", "--top", min=1, max=50, help="How many masters to recommend."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", help="Language of the reasons: zh or en (default: the query's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the matches as JSON."),
) -> None:
    """Recommend the masters that fit a need, best first, each with a one-line reason."""
    from .finder import FinderQueryError

    if query is None:
        if sys.stdin.isatty():
            _fail('Give a need to match, e.g. masterhall match "I can\'t sleep".')
        query = sys.stdin.read()
    finder = _build_finder()
    try:
        found = finder.match(query, k=k, lang=lang)
    except FinderQueryError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps([m.to_dict() for m in found], ensure_ascii=False, indent=2))
        return
    catalog = _hall_catalog()
    zh = bool(found) and found[0].lang == "zh"
    table = Table(title="推荐的大师" if zh else "Masters for your need")
    for col in ("#", "master", "id", "score", "理由" if zh else "why"):
        table.add_column(col, overflow="fold")
    for rank, m in enumerate(found, start=1):
        avatar = catalog.masters[m.master_id].avatar if m.master_id in catalog else ""
        table.add_row(str(rank), f"{avatar} {m.name}", m.master_id, f"{m.score:.2f}", m.reason)
    out = _out()
    out.print(table)
    out.print(f"[dim]{'和其中一位聊：' if zh else 'Talk to one:'} masterhall chat {found[0].master_id if found else 'ID'} …[/]")


def _read_eval(path: Path) -> list[dict]:
    rows: list[dict] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"Cannot read {path}: {exc}")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            _fail(f"{path}:{number}: not JSON ({exc.msg}).")
        if not isinstance(row, dict) or not isinstance(row.get("query"), str) or not isinstance(row.get("relevant"), list):
            _fail(f"{path}:{number}: expected an object with \"query\" (text) and \"relevant\" (a list of master ids).")
        rows.append(row)
    if not rows:
        _fail(f"{path} has no evaluation lines.")
    return rows


def eval_finder(
    file: Path = typer.Argument(..., help='JSONL: {"id", "lang", "query", "relevant": [master ids]} per line.'),
    show_misses: bool = typer.Option(False, "--misses", help="List the queries whose first match is not relevant."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
) -> None:
    """Top-1 and top-3 accuracy of the Master Finder per language on a JSONL file.

    A query counts at top-k when any id of its "relevant" list is among the first k matches.
    """
    from .finder import FinderQueryError
    from .finder.query import query_language

    rows = _read_eval(file)
    finder = _build_finder()
    stats: dict[str, dict[str, int]] = {}
    misses: list[tuple[str, str, list[str], list[str]]] = []
    for row in rows:
        lang = row.get("lang") if row.get("lang") in ("zh", "en") else None
        try:
            found = [m.master_id for m in finder.match(row["query"], k=3, lang=lang)]
            lang = lang or query_language(row["query"])
        except FinderQueryError as exc:
            _fail(f"query {row.get('id', '?')}: {exc}")
        relevant = set(row["relevant"])
        for key in (lang, "all"):
            s = stats.setdefault(key, {"n": 0, "top1": 0, "top3": 0})
            s["n"] += 1
            s["top1"] += bool(found[:1]) and found[0] in relevant
            s["top3"] += any(i in relevant for i in found[:3])
        if not found or found[0] not in relevant:
            misses.append((str(row.get("id", "?")), row["query"], row["relevant"], found))
    result = {
        lang: {"n": s["n"], "top1": round(s["top1"] / s["n"], 4), "top3": round(s["top3"] / s["n"], 4)}
        for lang, s in sorted(stats.items(), key=lambda kv: (kv[0] == "all", kv[0]))
    }
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table(title=f"Master Finder · {file.name}")
    for col in ("lang", "queries", "top-1", "top-3"):
        table.add_column(col)
    for lang, r in result.items():
        table.add_row(lang, str(r["n"]), f"{r['top1']:.3f}", f"{r['top3']:.3f}")
    out = _out()
    out.print(table)
    if show_misses:
        for qid, query, relevant, found in misses:
            out.print(f"[yellow]{qid}[/] {query}\n    expected {', '.join(relevant)} · got {', '.join(found)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``match`` and the ``eval`` group (with ``eval finder``) to the ``masterhall`` app."""
    app.command("match")(match)
    eval_app = typer.Typer(no_args_is_help=True, help="Measure parts of the hall on evaluation sets.")
    eval_app.command("finder")(eval_finder)
    from .cli_personas import eval_personas

    eval_app.command("personas")(eval_personas)
    app.add_typer(eval_app, name="eval")
