"""Smoke test of the benchmarks: the API-overhead part on the fake backend at a tiny size.

It checks the shape of the JSON report and that no request failed — never a timing (the
benchmarks are run by hand, ``python -m bench``; see bench/README.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.__main__ import main  # noqa: E402


def test_api_overhead_part_writes_a_complete_report(tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main(["--parts", "api", "--quick", "--json", str(out)])
    report = json.loads(out.read_text())
    assert code == 0, capsys.readouterr().out
    assert {"machine", "options", "parts", "targets", "errors", "seconds"} <= set(report)
    assert {"nproc", "cpu_model", "memory_gib", "load_avg_start", "load_avg_end"} <= set(report["machine"])
    part = report["parts"]["api"]
    assert "failure" not in part, part.get("failure")
    assert part["errors"] == 0 and report["errors"] == 0
    series = {(r["server"], r["endpoint"], r["mode"]) for r in part["rows"]}
    for mode in ("sequential", "4 clients"):
        for server in ("bare", "masterhall"):
            for endpoint in ("/api/messages", "/v1/chat/completions"):
                assert (server, endpoint, mode) in series
        assert ("bare+sqlite", "/api/messages", mode) in series
    for row in part["rows"]:
        assert row["requests"] > 0 and row["errors"] == 0
        assert {"rps", "p50_ms", "p95_ms", "mean_ms"} <= set(row)
    for endpoint in ("api_messages", "v1_chat_completions"):
        assert {"rps_bare", "rps_masterhall", "added_ms_per_request", "latency_ratio"} <= set(part["summary"][endpoint])
    assert [t["name"] for t in report["targets"]] == [t["name"] for t in part["targets"]]
    assert all({"value", "limit", "op", "met"} <= set(t) for t in report["targets"])
    assert "API overhead" in capsys.readouterr().out


def test_unknown_part_is_refused(capsys):
    assert main(["--parts", "nonsense", "--json", "-"]) == 2
    assert "unknown part" in capsys.readouterr().err


def test_roundtable_part_runs_on_the_fake_backend(tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main(["--parts", "roundtable", "--quick", "--roundtable-backend", "fake", "--json", str(out)])
    report = json.loads(out.read_text())
    assert code == 0, capsys.readouterr().out
    part = report["parts"]["roundtable"]
    assert "failure" not in part, part.get("failure")
    assert part["errors"] == 0 and len(part["rows"]) == 2
    for row in part["rows"]:
        assert row["speakers"] == "socrates,seneca" and row["single_ttft_ms"] is not None
        assert row["second_ttft_ms"] is not None
    assert {"single_ttft_ms", "second_ttft_ms", "ratio_second_to_single"} <= set(part["summary"])
    assert [t["name"] for t in part["targets"]] == ["round table (fake): 2nd speaker TTFT / single TTFT"]
