"""``masterhall eval personas``: the persona benchmark from the command line (logic in
:mod:`masterhall.eval.personas`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

ROWS = (
    ("answers", "answers", "{}"),
    ("language", "language match", "{:.1%}"),
    ("echo", "echo (copied ≥25 chars / ≥12 Han)", "{:.1%}"),
    ("loops", "repetition loops", "{:.1%}"),
    ("length_cut", "cut at the length limit", "{:.1%}"),
    ("cut_mid_sentence", "cut mid-sentence", "{:.1%}"),
    ("identity_slips", "identity slips", "{:.1%}"),
    ("format", "format compliance", "{:.1%}"),
    ("format_checks", "format checks", "{}"),
    ("persona", "judged persona method (0-2)", "{:.2f}"),
    ("usefulness", "judged usefulness (0-2)", "{:.2f}"),
    ("ttft_s", "median TTFT (s)", "{:.2f}"),
    ("tokens_per_s", "median tokens/s", "{:.1f}"),
)


def eval_personas(
    file: Path = typer.Argument(..., help='JSONL: {"master", "lang", "question", "expect"?} or {"master", "lang", "turns": [...]}.'),
    backend: Optional[str] = typer.Option(None, "--backend", "-m", help="Backend to answer with (default: the hall's)."),
    judge: Optional[str] = typer.Option(None, "--judge", help="A backend (any OpenAI-compatible model) that scores persona method and usefulness."),
    parallel: int = typer.Option(2, "--parallel", min=1, max=32, help="Cases answered at once."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N cases."),
    save: Optional[Path] = typer.Option(None, "--save", help="Write every answer with its checks as JSON lines."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Ask masters the questions of FILE and measure the answers (per language and overall)."""
    from .backends.base import BackendError
    from .chat.engine import ChatEngine
    from .cli_finder import _fail, _hall_catalog
    from .backends.registry import BackendRegistry
    from .config import load_settings
    from .eval.judge import judge_answer
    from .eval.personas import EvalFileError, load_cases, run_personas, summarize

    catalog = _hall_catalog()
    try:
        cases = load_cases(file, catalog)
    except EvalFileError as exc:
        _fail(str(exc))
    cases = cases[:limit] if limit else cases
    registry = BackendRegistry(load_settings())
    engine = ChatEngine(catalog, registry)
    err = Console(stderr=True)
    try:
        answering = registry.get(backend)
        judging = registry.get(judge) if judge else None
    except BackendError as exc:
        _fail(str(exc))
    with err.status(f"Answering {len(cases)} cases with {answering.name} ({answering.model})…") as status:
        done = {"n": 0}

        def progress(result) -> None:
            done["n"] += 1
            status.update(f"Answered {done['n']} ({result.case_id})…")

        results = run_personas(engine, cases, backend=backend, parallel=parallel, progress=progress)
        if judging is not None:
            for i, r in enumerate(results, 1):
                status.update(f"Judging {i}/{len(results)} with {judging.name}…")
                r.judge = judge_answer(judging, catalog.get(r.master), r.lang, r.history, r.question, r.answer)
    summary = summarize(results)
    if save:
        save.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
    report = {"file": file.name, "backend": answering.name, "model": answering.model, "summary": summary}
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Personas · {file.name} · {answering.name} ({answering.model})")
    groups = [g for g in ("all", "zh", "en") if g in summary]
    table.add_column("metric")
    for g in groups:
        table.add_column(g, justify="right")
    for key, label, fmt in ROWS:
        if not any(summary[g].get(key) is not None for g in groups):
            continue
        table.add_row(label, *(fmt.format(summary[g][key]) if summary[g].get(key) is not None else "—" for g in groups))
    Console().print(table)
