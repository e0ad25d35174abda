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
