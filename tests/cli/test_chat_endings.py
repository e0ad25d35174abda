"""``masterhall chat`` says how an answer ended when it did not end on its own."""

import pytest
from typer.testing import CliRunner

from masterhall.cli import app
from masterhall.cli.chat import CUT_NOTE

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fake_backend(monkeypatch):
    monkeypatch.setenv("MASTERHALL_BACKEND", "fake")


def test_an_answer_cut_at_the_length_limit_says_so():
    result = runner.invoke(app, ["chat", "socrates", "one two three", "--max-tokens", "3"])
    assert result.exit_code == 0, result.output
    assert "[fake] You said:" in result.output and "three" not in result.output.split("\n")[0]
    assert CUT_NOTE in " ".join(result.output.split())


def test_a_whole_answer_has_no_such_note():
    result = runner.invoke(app, ["chat", "socrates", "one two three"])
    assert result.exit_code == 0 and CUT_NOTE not in result.output
