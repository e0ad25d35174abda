"""``python -m bench [--parts decode,ttft,…] [--json PATH] [--threads N] …``: run the benchmarks,
print a table per part and the targets, and write the whole report as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import PARTS, format_targets, run_parts
from .common import Options

DEFAULT_JSON = Path(__file__).resolve().parent / "speed_results.json"


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m bench`` (also used by ``masterhall bench``)."""
    defaults = Options()
    p = argparse.ArgumentParser(prog="python -m bench", description="MasterHall speed benchmarks (see bench/README.md).")
    p.add_argument("--parts", default=",".join(PARTS),
                   help=f"comma-separated parts to run, in this order: {', '.join(PARTS)} (default: all)")
    p.add_argument("--json", dest="json_path", default=str(DEFAULT_JSON),
                   help="where to write the JSON report (default: bench/speed_results.json; '-' for stdout)")
    p.add_argument("--threads", type=int, default=defaults.threads, help="llama.cpp CPU threads (default %(default)s)")
    p.add_argument("--parallel", type=int, default=defaults.parallel, help="llama.cpp slots (default %(default)s)")
    p.add_argument("--max-tokens", type=int, default=defaults.max_tokens, help="reply tokens of the decode runs (default %(default)s)")
    p.add_argument("--rounds", type=int, default=defaults.rounds, help="measured rounds per decode path (default %(default)s)")
    p.add_argument("--requests", type=int, default=defaults.requests, help="requests per API-overhead series (default %(default)s)")
    p.add_argument("--roundtable-backend", default=defaults.roundtable_backend,
                   help="backend of the round-table part (default %(default)s; fake: a smoke run)")
    p.add_argument("--roundtable-compare", action="store_true",
                   help="round tables: also measure, interleaved, a server that does not read the next speaker ahead")
    p.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run; the numbers mean little)")
    p.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                   help="first wait up to SECONDS for the 1-minute load average to fall below half the CPUs")
    return p


def wait_idle(seconds: float, log) -> None:
    """Wait (bounded) for a quieter machine: other processes on the CPUs skew every number."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    deadline = time.monotonic() + seconds
    while os.getloadavg()[0] >= cpus / 2 and time.monotonic() < deadline:
        time.sleep(5)
    load = os.getloadavg()[0]
    if load >= cpus / 2:
        log(f"warning: the machine is busy (load {load:.2f} on {cpus} CPUs); the numbers will be noisy")


def main(argv: list[str] | None = None) -> int:
    """Run; exit code 1 if any request failed, 0 otherwise (missed targets are reported, not fatal)."""
    args = parser().parse_args(argv)
    names = [n.strip() for n in args.parts.split(",") if n.strip()]
    options = Options(threads=args.threads, parallel=args.parallel, max_tokens=args.max_tokens,
                      rounds=args.rounds, requests=args.requests, quick=args.quick,
                      roundtable_backend=args.roundtable_backend, roundtable_compare=args.roundtable_compare)
    log = lambda text: print(text, file=sys.stderr if args.json_path == "-" else sys.stdout, flush=True)  # noqa: E731
    unknown = [n for n in names if n not in PARTS]
    if unknown or not names:
        print(f"error: unknown part(s): {', '.join(unknown) or '(none given)'}; choose from {', '.join(PARTS)}", file=sys.stderr)
        return 2
    wait_idle(args.wait_idle, log)
    report = run_parts(names, options, log=log)
    m = report["machine"]
    log(format_targets(report))
    log(f"\n{m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, load {m['load_avg_start']} → {m['load_avg_end']}; "
        f"{report['seconds']} s in all; errors: {report['errors']}")
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.json_path == "-":
        print(text)
    else:
        Path(args.json_path).write_text(text + "\n")
        log(f"JSON report: {args.json_path}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
