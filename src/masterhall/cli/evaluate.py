"""``masterhall eval …``: measure parts of the hall on evaluation sets (see :mod:`masterhall.eval`).

One subcommand per part: ``finder`` (top-1 / top-3 of the Master Finder), ``personas`` (how the
masters answer: language, echo, loops, length cuts, format, an optional rubric judge),
``blind-pack`` / ``blind-score`` (anonymous packets of several variants' answers for readers),
``safety`` (recall and false-alarm rate of the crisis guard per language and kind) and
``knowledge`` (retrieval hit@k of a master's knowledge, and with a backend fact rate and citations).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..backends.base import BackendError
from ..catalog.models import SamplingParams
from ..chat.prompt import PromptOptions
from ..eval.blind import make_packet, read_saved, score_packet, write_packet
from ..eval.finder import EvalSetError, calibrate_fit, evaluate_finder, read_finder_set
from ..eval.judge import judge_answer
from ..eval.personas import first_per_master, load_cases, run_personas, summarize
from ..eval.safety import evaluate_safety, read_safety_set
from ..eval.sets import read_jsonl
from ..finder.query import FinderQueryError
from .common import err, fail, open_hall, out
from .finder import build_finder

eval_app = typer.Typer(no_args_is_help=True, help="Measure parts of the hall on evaluation sets.")


@eval_app.command("finder")
def eval_finder(
    file: Path = typer.Argument(..., help='JSONL: {"id", "lang", "query", "relevant": [master ids]} per line.'),
    show_misses: bool = typer.Option(False, "--misses", help="List the queries whose first match is not relevant."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    calibrate: Optional[Path] = typer.Option(
        None, "--calibrate", help="Refit the Finder's fit: FILE holds in-scope dev needs, this file out-of-scope dev needs "
        '("relevant": []); prints the constants for masterhall/finder/fit.py. Never pass a test split.'),
) -> None:
    """Top-1 and top-3 accuracy and abstention of the Master Finder per language on a JSONL file.

    A query counts at top-k when any id of its "relevant" list is among the first k matches. Lines
    with "relevant": [] are out-of-scope needs: the Finder should say no master fits (abstention
    recall); saying so for the other lines is a false abstention.
    """
    try:
        rows = read_finder_set(file)
        negatives = read_finder_set(calibrate) if calibrate else []
    except EvalSetError as exc:
        fail(str(exc), 2)
    hall = open_hall()
    hall.close()
    finder = build_finder(hall)
    if calibrate:
        try:
            result = calibrate_fit(finder, [r for r in rows if r["relevant"]], [r for r in negatives if not r["relevant"]])
        except (ValueError, FinderQueryError) as exc:
            fail(str(exc), 2)
        if as_json:
            print(json.dumps(result.__dict__, indent=2))
            return
        out.print(result.as_code(), highlight=False)
        out.print(f"[dim]on these rows: false abstention {result.false_abstention:.1%}, "
                  f"abstention recall {result.abstention_recall:.1%}[/]")
        return
    try:
        result = evaluate_finder(finder, rows)
    except FinderQueryError as exc:
        fail(str(exc), 2)
    if as_json:
        print(json.dumps(result.scores, indent=2))
        return
    table = Table(title=f"Master Finder · {file.name}")
    for col in ("lang", "queries", "top-1", "top-3", "false abstention", "out-of-scope", "abstention recall"):
        table.add_column(col)

    def cell(r: dict, key: str, fmt: str = "{:.3f}") -> str:
        return fmt.format(r[key]) if key in r else "—"

    for lang, r in result.scores.items():
        table.add_row(lang, cell(r, "n", "{}"), cell(r, "top1"), cell(r, "top3"), cell(r, "false_abstention"),
                      cell(r, "n_oos", "{}"), cell(r, "abstention_recall"))
    out.print(table)
    if show_misses:
        for qid, query, relevant, found in result.misses:
            expected = ", ".join(relevant) or "no master"
            out.print(f"[yellow]{qid}[/] {query}\n    expected {expected} · got {', '.join(found)}", highlight=False)


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


@eval_app.command("personas")
def eval_personas(
    file: Path = typer.Argument(..., help='JSONL: {"master", "lang", "question", "expect"?} or {"master", "lang", "turns": [...]}.'),
    backend: Optional[str] = typer.Option(None, "--backend", "-m", help="Backend to answer with (default: the hall's)."),
    judge: Optional[str] = typer.Option(None, "--judge", help="A backend (any OpenAI-compatible model) scoring method and usefulness."),
    parallel: int = typer.Option(2, "--parallel", min=1, max=32, help="Cases answered at once."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N cases."),
    per_master: Optional[int] = typer.Option(None, "--per-master", min=1,
                                             help="Only the first K cases of each master (a stratified subset, in file order)."),
    save: Optional[Path] = typer.Option(None, "--save", help="Write every answer with its checks as JSON lines."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    examples: Optional[int] = typer.Option(None, "--examples", min=0, max=4,
                                           help="Example exchanges shown per turn (0: none; default: the hall's)."),
    placement: Optional[str] = typer.Option(None, "--placement", help="Where examples go: system (quoted) or turns."),
    style: Optional[str] = typer.Option(None, "--style", help="compact (recipe at the end) or full (default: the backend's)."),
    temperature: Optional[float] = typer.Option(None, "--temperature", min=0.0, max=2.0,
                                                help="Sampling temperature for every answer, over the master's own."),
) -> None:
    """Ask masters the questions of FILE and measure the answers (per language and overall).

    ``--examples``, ``--placement``, ``--style`` and ``--temperature`` try another prompt layout
    or sampling for this run only.
    """
    if placement not in (None, "system", "turns") or style not in (None, "compact", "full"):
        fail("--placement is system or turns; --style is compact or full.", 2)
    hall = open_hall(progress=True)
    hall.close()
    catalog, registry, engine = hall.catalog, hall.registry, hall.engine
    base = engine.prompt_options
    engine.prompt_options = PromptOptions(examples=base.examples if examples is None else examples,
                                          placement=placement or base.placement, style=style or base.style)
    try:
        cases = load_cases(file, catalog)
    except EvalSetError as exc:
        fail(str(exc), 2)
    if per_master:
        cases = first_per_master(cases, per_master)
    cases = cases[:limit] if limit else cases
    try:
        answering = registry.get(backend)
        judging = registry.get(judge) if judge else None
    except BackendError as exc:
        fail(str(exc), 2)
    with err.status(f"Answering {len(cases)} cases with {answering.name} ({answering.model})…") as status:
        done = {"n": 0}

        def progress(result) -> None:
            done["n"] += 1
            status.update(f"Answered {done['n']} ({result.case_id})…")

        params = SamplingParams(temperature=temperature) if temperature is not None else None
        results = run_personas(engine, cases, backend=backend, params=params, parallel=parallel,
                               progress=progress)
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
    out.print(table)


@eval_app.command("safety")
def eval_safety(
    file: Path = typer.Argument(..., help='JSONL: {"text", "crisis": true|false, "kind"?, "lang"?} per line.'),
    show_errors: bool = typer.Option(False, "--errors", help="List the missed crisis messages and the false alarms."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Recall on crisis messages and false-alarm rate on look-alikes, per language and kind.

    Each message is rated alone by the hall's safety guard (rules, classifier); recall counts the
    crisis messages it would answer with help, "+elevated" also those whose reply it would check
    and add a help line to; "elevated" counts look-alikes whose reply would get that check.
    """
    try:
        rows = read_safety_set(file)
    except EvalSetError as exc:
        fail(str(exc), 2)
    hall = open_hall()
    hall.close()
    with err.status("Preparing the safety guard…", spinner="dots"):
        hall.safety.prepare()
    result = evaluate_safety(hall.safety, rows)
    if as_json:
        print(json.dumps({"file": file.name, "groups": result.groups, "ms_per_message": round(result.ms_per_message, 2),
                          "semantic": hall.safety.state == "ready", "misses": result.misses,
                          "false_alarms": result.false_alarms}, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Safety guard · {file.name} · {hall.safety.state}")
    for col in ("group", "crisis", "recall", "+elevated", "look-alikes", "false alarms", "elevated"):
        table.add_column(col, justify="left" if col == "group" else "right", no_wrap=True)
    order = sorted(result.groups, key=lambda n: (n != "all", not n.startswith("lang:"), n))
    for name in order:
        g = result.groups[name]
        recall = "—" if g["recall"] is None else f"{g['recall']:.3f} ({g['caught']}/{g['crisis']})"
        fa = "—" if g["false_alarm_rate"] is None else f"{g['false_alarm_rate']:.3f} ({g['false_alarms']}/{g['lookalikes']})"
        guarded = "—" if g["recall_guarded"] is None else f"{g['recall_guarded']:.3f}"
        table.add_row(name, str(g["crisis"]), recall, guarded, str(g["lookalikes"]), fa, str(g["elevated"]))
    out.print(table)
    out.print(f"{result.ms_per_message:.1f} ms per message", highlight=False)
    if show_errors:
        for row in result.misses:
            out.print(f"[yellow]missed[/] {row['text']}  (score {row.get('score')})", highlight=False)
        for row in result.false_alarms:
            out.print(f"[red]false alarm[/] {row['text']}  {row['safety']}", highlight=False)


@eval_app.command("blind-pack")
def eval_blind_pack(
    runs: list[str] = typer.Argument(..., help="VARIANT=FILE pairs: answers saved by `eval personas --save`."),
    folder: Path = typer.Option(..., "--out", help="Folder for packet.txt (give it to the reader) and key.json (keep it)."),
    seed: int = typer.Option(7, "--seed", help="Shuffle seed."),
) -> None:
    """Pool several variants' answers into one shuffled, anonymous packet for a blind reader."""
    loaded = {}
    for run in runs:
        variant, sep, path = run.partition("=")
        if not sep or not variant or not path:
            fail(f"{run!r}: expected VARIANT=FILE.", 2)
        try:
            loaded[variant] = read_saved(Path(path))
        except EvalSetError as exc:
            fail(str(exc), 2)
    hall = open_hall()
    hall.close()
    packet = make_packet(loaded, hall.catalog, seed=seed)
    reader, key = write_packet(packet, folder)
    out.print(f"{len(packet.items)} answers · reader: {reader} · key: {key}")


@eval_app.command("blind-score")
def eval_blind_score(
    scores: Path = typer.Argument(..., help='The reader\'s JSON lines: {"id", "persona", "usefulness"}.'),
    key: Path = typer.Option(..., "--key", help="key.json written by blind-pack."),
    as_json: bool = typer.Option(False, "--json", help="Print the means as JSON."),
) -> None:
    """Means of a blind reader's scores per variant and language."""
    try:
        rows = [row for _, row in read_jsonl(scores, lambda r: isinstance(r, dict) and "id" in r, '{"id", "persona", "usefulness"}')]
        result = score_packet(rows, json.loads(key.read_text(encoding="utf-8")))
    except (EvalSetError, OSError, json.JSONDecodeError) as exc:
        fail(str(exc), 2)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    table = Table(title=f"Blind reading · {scores.name}")
    for col in ("variant", "group", "answers", "persona (0-2)", "usefulness (0-2)"):
        table.add_column(col)
    for variant, groups in sorted(result.items()):
        for group in ("all", "zh", "en"):
            if group in groups:
                g = groups[group]
                table.add_row(variant, group, str(g["n"]), f"{g['persona']:.2f}", f"{g['usefulness']:.2f}")
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``eval`` group to the ``masterhall`` app."""
    app.add_typer(eval_app, name="eval")


@eval_app.command("knowledge")
def eval_knowledge(
    folder: Path = typer.Argument(..., help="A folder of sources (TXT, Markdown, PDF, DOCX, HTML; qa*.csv/jsonl pairs) "
                                  "and questions*.jsonl files."),
    split: Optional[str] = typer.Option(None, "--split", help="Read questions-SPLIT.jsonl only (dev, test)."),
    k: int = typer.Option(3, "-k", min=1, max=20, help="Hits count among the first K passages."),
    backend: Optional[str] = typer.Option(None, "--backend", help="Also answer each question with this backend: "
                                          "fact rate and citation accuracy."),
    bm25_only: bool = typer.Option(False, "--bm25-only", help="Retrieve without the sentence encoder."),
    show_misses: bool = typer.Option(False, "--misses", help="List the questions retrieval missed."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Retrieval hit@k of a master's knowledge (and, with --backend, answers that contain the fact
    and cite the right source) on a folder of sources and questions; see masterhall.knowledge.evaluate."""
    from ..errors import InvalidRequestError
    from ..hall import shared_encoders
    from ..knowledge.evaluate import evaluate_folder

    if not folder.is_dir():
        fail(f"{folder} is not a folder", 2)
    hall = open_hall()
    encoders = [] if bm25_only else [e for e in [shared_encoders().get("use")] if e is not None]
    generate = None
    if backend:
        if not hall.registry.knows(backend):
            fail(f"unknown backend {backend!r}; known: {', '.join(hall.registry.names())}", 2)

        def generate(master, service, question):
            hall.engine.knowledge = lambda m, history, message, lang: service.brief_for(m.id, history, message)
            reply = hall.engine.stream(master, [], question, backend=backend).collect()
            return reply.text, reply.citations or []
    try:
        report = evaluate_folder(folder, hall.catalog, encoders, split=split, k=k, generate=generate)
    except (InvalidRequestError, BackendError) as exc:
        fail(str(exc), 2)
    finally:
        hall.close()
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Knowledge retrieval · {folder.name}{' · ' + split if split else ''} · {report.chunks} chunks")
    for col in ("lang", "questions", f"hit@{k}"):
        table.add_column(col)
    for lang, slot in sorted(report.by_lang.items()):
        table.add_row(lang or "—", str(slot["questions"]), f"{slot['hit_at_k']:.3f}")
    table.add_row("all", str(report.questions), f"{report.hit_at_k:.3f}")
    out.print(table)
    out.print(f"retrieval p50 {report.p50_ms:.1f} ms")
    if report.fact_rate is not None or report.citation_accuracy is not None:
        out.print(f"answers containing the fact: {report.fact_rate}; citation accuracy: {report.citation_accuracy}")
    if show_misses:
        for miss in report.misses:
            out.print(f"[yellow]miss[/] {miss['question']} (want {miss['source']}; got {', '.join(miss['got'])})")
