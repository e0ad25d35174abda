"""The persona benchmark on the fake backend, prompt-variant options, and blind packets."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from masterhall.cli import app
from masterhall.eval.blind import make_packet, score_packet
from masterhall.eval.personas import load_cases, run_personas, summarize
from masterhall.eval.sets import EvalSetError

runner = CliRunner()
CASES = [
    {"id": "q1", "master": "socrates", "lang": "en", "question": "Is it ever right to lie to a friend?"},
    {"id": "q2", "master": "sleep-coach", "lang": "zh", "question": "我一到周末就睡到中午，周一特别难受"},
]


@pytest.fixture
def case_file(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in CASES), encoding="utf-8")
    return path


def test_run_personas_scores_language_loops_and_socratic_questions(engine, fake, case_file, catalog):
    fake.queue("What do you mean by a friend? Is a lie that protects them still a lie?",
               "谢谢你。" + "睡吧睡吧" * 30)
    results = run_personas(engine, load_cases(case_file, catalog))
    socrates, sleep = results
    assert socrates.language_ok and not socrates.loop and all(f.ok for f in socrates.formats)
    assert sleep.loop  # the repetition is caught, whatever language
    summary = summarize(results)
    assert summary["all"]["answers"] == 2 and summary["all"]["loops"] == 0.5


def test_cli_personas_saves_answers_and_tries_another_layout(case_file, tmp_path, monkeypatch):
    monkeypatch.setenv("MASTERHALL_BACKEND", "fake")
    saved = tmp_path / "answers.jsonl"
    result = runner.invoke(app, ["eval", "personas", str(case_file), "--save", str(saved), "--examples", "0", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["summary"]["all"]["answers"] == 2
    rows = [json.loads(line) for line in saved.read_text(encoding="utf-8").splitlines()]
    assert [r["case_id"] for r in rows] == ["q1", "q2"]
    bad = runner.invoke(app, ["eval", "personas", str(case_file), "--placement", "sideways"])
    assert bad.exit_code == 2


def _answers(variant_text):
    return [{"case_id": c["id"], "turn": 0, "master": c["master"], "lang": c["lang"], "question": c["question"],
             "answer": f"{variant_text} {c['id']}", "history": []} for c in CASES]


def test_blind_packet_hides_the_variant_and_scores_back(catalog):
    packet = make_packet({"small": _answers("S"), "big": _answers("B")}, catalog, seed=3)
    assert len(packet.items) == 4 and {tuple(sorted(i)) for i in packet.items} == {
        ("answer", "history", "id", "master", "method", "question")}
    text = packet.reader_text()
    assert "small" not in text and "big" not in text and "persona (0-2)" in text
    scores = [{"id": i["id"], "persona": 2 if i["answer"].startswith("B") else 0, "usefulness": 1} for i in packet.items]
    means = score_packet(scores, packet.key)
    assert means["big"]["all"] == {"n": 2, "persona": 2.0, "usefulness": 1.0}
    assert means["small"]["zh"]["persona"] == 0.0
    with pytest.raises(EvalSetError):
        score_packet([{"id": "nope", "persona": 1, "usefulness": 1}], packet.key)


def test_blind_packet_keeps_only_questions_every_variant_answered(catalog):
    packet = make_packet({"a": _answers("A"), "b": _answers("B")[:1]}, catalog)
    assert sorted(entry["case_id"] for entry in packet.key.values()) == ["q1", "q1"]


def test_first_per_master_keeps_file_order(tmp_path, catalog):
    from masterhall.eval.personas import first_per_master

    path = tmp_path / "many.jsonl"
    rows = CASES + [{"id": "q3", "master": "socrates", "lang": "zh", "question": "什么是勇敢？"}]
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in rows), encoding="utf-8")
    assert [c.id for c in first_per_master(load_cases(path, catalog), 1)] == ["q1", "q2"]
    assert [c.id for c in first_per_master(load_cases(path, catalog), 2)] == ["q1", "q2", "q3"]
