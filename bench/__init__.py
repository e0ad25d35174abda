"""MasterHall's speed benchmarks (``python -m bench``; see bench/README.md).

Each part is a module with ``run(ctx) -> dict`` (``part``, ``title``, ``columns``, ``rows``,
``errors``, ``targets`` and optional ``summary`` / ``notes``); :func:`run_parts` runs a selection
in one process tree (servers and CLI runs are its children) and returns the report.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Callable

#: Parts in the order they run: the cold start first (nothing loaded yet), then the cheap API
#: part, then everything that shares one embedded server.
PARTS: dict[str, str] = {
    "coldstart": "bench.coldstart",
    "api": "bench.api_overhead",
    "decode": "bench.decode",
    "ttft": "bench.ttft",
    "prefix": "bench.prefix",
    "concurrency": "bench.concurrency",
    "roundtable": "bench.roundtable",
}


def run_parts(names: list[str], options, *, log: Callable[[str], None] = print, workdir=None) -> dict:
    """Run the parts ``names`` (in :data:`PARTS` order) and return the whole report as a dict."""
    from .common import Context, machine

    unknown = [n for n in names if n not in PARTS]
    if unknown:
        raise ValueError(f"unknown part(s): {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    report: dict = {"machine": machine(), "options": vars(options).copy(), "parts": {}, "started": time.time()}
    report["machine"]["load_avg_start"] = report["machine"].pop("load_avg")
    with Context(options, workdir) as ctx:
        for name in [n for n in PARTS if n in names]:
            log(f"· {name} …")
            start = time.perf_counter()
            module = importlib.import_module(PARTS[name])
            try:
                result = module.run(ctx)
            except Exception as exc:  # noqa: BLE001 - one failing part must not hide the others
                result = {"part": name, "title": name, "columns": [], "rows": [], "errors": 1, "targets": [],
                          "failure": f"{type(exc).__name__}: {exc}"}
            result["seconds"] = round(time.perf_counter() - start, 1)
            report["parts"][name] = result
            log(format_part(result))
    report["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.time() - report.pop("started"), 1)
    report["targets"] = [dict(t, part=p["part"]) for p in report["parts"].values() for t in p.get("targets", [])]
    report["errors"] = sum(p.get("errors", 0) for p in report["parts"].values())
    return report


def format_part(result: dict) -> str:
    """The table of one part, with its failure or notes under it."""
    from .common import table

    text = table(result["title"], result["columns"], result["rows"]) if result["columns"] else f"### {result['title']}"
    if result.get("failure"):
        text += f"\n\nFAILED: {result['failure']}"
    for note in result.get("notes", []):
        text += f"\n\n_{note}_"
    return text + f"\n\n({result.get('seconds', '?')} s)\n"


def format_targets(report: dict) -> str:
    """The targets of the run as a table."""
    from .common import table

    rows = [{"target": t["name"], "value": t["value"], "limit": f"{t['op']} {t['limit']}",
             "met": "yes" if t["met"] else "NO"} for t in report["targets"]]
    return table("Targets", ["target", "value", "limit", "met"], rows)
