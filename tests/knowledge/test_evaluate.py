"""``masterhall eval knowledge``: the shipped set's dev split through the command line (BM25
only, to stay quick), and the model metrics with the fake backend."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from masterhall.cli import app
from masterhall.knowledge.evaluate import evaluate_folder, read_questions

SET = Path(__file__).resolve().parents[2] / "evalsets" / "knowledge"


def test_the_dev_split_meets_the_target_with_bm25_alone(data_dir):
    result = CliRunner().invoke(app, ["eval", "knowledge", str(SET), "--split", "dev", "--bm25-only", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["questions"] == 26 and set(report["by_lang"]) == {"zh", "en"}
    assert report["hit_at_k"] >= 0.9 and all(v["hit_at_k"] >= 0.9 for v in report["by_lang"].values())


def test_misses_are_reported_and_model_metrics_computed(tmp_path, catalog):
    (tmp_path / "notes.md").write_text("# Kettle\n\nThe kettle holds 1.7 litres.\n\n# Tin\n\nKeep tea in a dark tin.\n")
    rows = [{"question": "How much does the kettle hold?", "lang": "en", "source": "notes.md", "passage": "1.7 litres",
             "fact": "1.7"},
            {"question": "Where do I keep tea?", "lang": "en", "source": "other.md", "passage": "dark tin", "fact": "tin"}]
    (tmp_path / "questions-dev.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    assert len(read_questions(tmp_path, "dev")) == 2

    def generate(master, service, question):
        brief = service.brief_for(master.id, [], question)
        return "It holds 1.7 litres [1].", brief.citations("[1]")

    report = evaluate_folder(tmp_path, catalog, split="dev", generate=generate)
    assert report.hits == 1 and report.misses[0]["question"] == "Where do I keep tea?"
    assert report.fact_rate == 0.5 and report.citation_accuracy == 0.5
