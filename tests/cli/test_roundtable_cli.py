"""``masterhall roundtable`` on the fake backend: order, labels, --json, rounds, the guard."""

import json

import pytest
from typer.testing import CliRunner

from masterhall.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fake_backend(monkeypatch, data_dir):
    monkeypatch.setenv("MASTERHALL_BACKEND", "fake")


def test_json_lists_one_reply_per_speaker_and_later_ones_hear_the_earlier():
    result = runner.invoke(app, ["roundtable", "socrates,marcus-aurelius,aaron-beck", "Should I quit?", "--json"])
    assert result.exit_code == 0, result.output
    replies = json.loads(result.output)["replies"]
    assert sorted(r["master"] for r in replies) == ["aaron-beck", "marcus-aurelius", "socrates"]
    assert all({"master", "text", "usage"} <= set(r) and r["usage"]["completion_tokens"] for r in replies)
    # the fake backend echoes what it was sent: the first speaker got the question alone, the
    # others the earlier replies labelled with their speakers' names
    assert "] said:" not in replies[0]["text"]
    first_name = replies[0]["name"]
    assert f"[{first_name}] said:" in replies[1]["text"] and replies[2]["text"].count("] said:") >= 2


def test_streamed_output_labels_each_reply_in_order():
    result = runner.invoke(app, ["roundtable", "socrates,laozi", "@laozi what is the way?"])
    assert result.exit_code == 0, result.output
    laozi, socrates = result.output.index("Laozi ›"), result.output.index("Socrates ›")
    assert laozi < socrates  # the master addressed speaks first


def test_rounds_let_masters_speak_again():
    result = runner.invoke(app, ["roundtable", "socrates,laozi", "hi", "--rounds", "2", "--json"])
    replies = json.loads(result.output)["replies"]
    assert len(replies) == 4 and replies[1]["master"] != replies[2]["master"]


def test_crisis_is_answered_once_by_the_guard():
    result = runner.invoke(app, ["roundtable", "socrates,laozi,seneca", "我真的撑不下去了，想自杀", "--json"])
    replies = json.loads(result.output)["replies"]
    assert len(replies) == 1 and "12356" in replies[0]["text"] and replies[0]["usage"]["finish_reason"] == "guard"


def test_bad_tables_are_refused():
    for ids in ("socrates", "socrates,nobody", "socrates,master-finder"):
        result = runner.invoke(app, ["roundtable", ids, "hi"])
        assert result.exit_code == 2, (ids, result.output)
