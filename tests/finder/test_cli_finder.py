"""``masterhall match`` and ``masterhall eval finder``."""

import json
from pathlib import Path

from typer.testing import CliRunner

from masterhall.cli import app

runner = CliRunner()
EVAL = Path(__file__).parents[1] / "data" / "finder-public.jsonl"


def test_match_json(finder, shared_models):
    result = runner.invoke(app, ["match", "我总是半夜醒来然后想很多", "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 3 and data[0]["master_id"] == "sleep-coach" and data[0]["lang"] == "zh"
    assert data[0]["reason"].startswith("契合你的需要")


def test_match_table_and_errors(finder, shared_models):
    result = runner.invoke(app, ["match", "GTD", "-k", "2"])
    assert result.exit_code == 0 and "gtd-coach" in result.stdout
    empty = runner.invoke(app, ["match", "   "])
    assert empty.exit_code == 2 and "empty" in empty.output


def test_eval_finder(finder, shared_models, tmp_path):
    result = runner.invoke(app, ["eval", "finder", str(EVAL), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores) == {"zh", "en", "all"}
    assert scores["zh"]["n"] == 20 and scores["en"]["n"] == 20
    assert scores["zh"]["top3"] >= 0.9 and scores["en"]["top3"] >= 0.9
    table = runner.invoke(app, ["eval", "finder", str(EVAL)])
    assert "top-1" in table.stdout and "top-3" in table.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "x"}\n')
    broken = runner.invoke(app, ["eval", "finder", str(bad)])
    assert broken.exit_code == 2 and "relevant" in broken.output


def test_match_says_when_no_master_fits(finder, shared_models):
    result = runner.invoke(app, ["match", "xyzzy qwerty", "-k", "2"])
    assert result.exit_code == 0 and "No master fits this need" in result.stdout
    clear = runner.invoke(app, ["match", "I can't fall asleep and wake up at 3am", "-k", "2"])
    assert "No master fits" not in clear.stdout


def test_eval_finder_reports_abstention_and_calibrates(finder, shared_models, tmp_path):
    rows = tmp_path / "mixed.jsonl"
    rows.write_text('{"id": "a", "lang": "en", "query": "xyzzy qwerty", "relevant": []}\n'
                    '{"id": "b", "lang": "zh", "query": "我总是半夜醒来然后想很多", "relevant": ["sleep-coach"]}\n'
                    '{"id": "c", "lang": "en", "query": "book me a hotel in Rome", "relevant": []}\n', encoding="utf-8")
    scores = json.loads(runner.invoke(app, ["eval", "finder", str(rows), "--json"]).stdout)
    assert scores["all"]["n_oos"] == 2 and scores["all"]["abstention_recall"] == 1.0
    assert scores["all"]["false_abstention"] == 0.0
    refit = runner.invoke(app, ["eval", "finder", str(rows), "--calibrate", str(rows), "--json"])
    assert refit.exit_code == 0, refit.output
    assert set(json.loads(refit.stdout)) >= {"weights", "bias", "threshold", "strong"}
