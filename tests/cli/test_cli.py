import json

import pytest
from typer.testing import CliRunner

from masterhall.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fake_backend(monkeypatch):
    monkeypatch.setenv("MASTERHALL_BACKEND", "fake")


def test_masters_table_and_category():
    result = runner.invoke(app, ["masters"])
    assert result.exit_code == 0
    assert "42 masters" in result.output and "socrates" in result.output
    result = runner.invoke(app, ["masters", "--category", "psychology", "--json"])
    ids = [m["id"] for m in json.loads(result.output)]
    assert ids == sorted(["aaron-beck", "alfred-adler", "carl-jung", "carl-rogers", "sleep-coach", "viktor-frankl"])
    bad = runner.invoke(app, ["masters", "--category", "cooking"])
    assert bad.exit_code == 2 and "Unknown category" in bad.output


def test_show():
    result = runner.invoke(app, ["show", "socrates", "--lang", "zh"])
    assert result.exit_code == 0 and "苏格拉底" in result.output and "什么是美德" in result.output


def test_unknown_id_suggests_closest():
    for args in (["chat", "socretes", "hi"], ["show", "socretes"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert "Unknown master 'socretes'" in result.output and "socrates" in result.output


def test_one_shot_streams_the_reply():
    result = runner.invoke(app, ["chat", "socrates", "What is virtue?"])
    assert result.exit_code == 0, result.output
    assert "[fake] You said: What is virtue?" in result.output


def test_piped_stdin():
    result = runner.invoke(app, ["chat", "aaron-beck"], input="I failed my exam\n")
    assert result.exit_code == 0, result.output
    assert "You said: I failed my exam" in result.output


def test_empty_stdin_is_an_error():
    result = runner.invoke(app, ["chat", "aaron-beck"], input="")
    assert result.exit_code == 2 and "empty" in result.output


def test_json_output_with_overrides():
    result = runner.invoke(app, ["chat", "socrates", "one two three", "--json", "--max-tokens", "3", "--temperature", "0.1"])
    data = json.loads(result.output)
    assert data["master"] == "socrates" and data["backend"] == "fake"
    assert data["params"]["temperature"] == 0.1 and data["params"]["max_tokens"] == 3
    assert data["usage"]["finish_reason"] == "length"


def test_crisis_one_shot_gets_help():
    result = runner.invoke(app, ["chat", "python-mentor", "I want to kill myself"])
    assert result.exit_code == 0 and "988" in result.output


def test_unknown_backend_is_a_clear_error():
    result = runner.invoke(app, ["chat", "socrates", "hi", "--backend", "nope"])
    assert result.exit_code == 1 and "Unknown backend 'nope'" in result.output


def test_models_lists_backends():
    result = runner.invoke(app, ["models", "--json"])
    rows = json.loads(result.output)
    assert {r["name"] for r in rows} >= {"embedded", "fake"}
    assert [r["name"] for r in rows if r["default"]] == ["fake"]


def test_interactive_multi_turn_reset_exit_and_ctrl_c(monkeypatch, capsys):
    from masterhall import BackendRegistry, ChatEngine, FakeBackend, Usage, load_catalog, load_settings
    from masterhall.cli import chat as chat_cli

    class Interrupting(FakeBackend):
        """Raises KeyboardInterrupt (as Ctrl-C would) after two deltas of the reply to 'stop me'."""

        def stream_chat(self, messages, params):
            if messages[-1].content != "stop me":
                return super().stream_chat(messages, params)
            self.calls.append((list(messages), params))

            def gen():
                yield "partial "
                yield "answer"
                raise KeyboardInterrupt
                yield Usage()  # pragma: no cover

            return gen()

    backend = Interrupting("fake")
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(backend)
    catalog = load_catalog()
    engine = ChatEngine(catalog, registry)
    lines = iter(["first", "second", "stop me", "after stop", "/reset", "fresh", "/exit", "never sent"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    chat_cli.interactive(engine, catalog.get("socrates"), None, None)
    sent = [call[0] for call in backend.calls]
    assert [m[-1].content for m in sent] == ["first", "second", "stop me", "after stop", "fresh"]
    assert [m.content for m in sent[1][-3:]] == ["first", "[fake] You said: first", "second"]
    output = capsys.readouterr()
    stop_me, partial, after = (m.content for m in sent[3][-3:])
    assert (stop_me, after) == ("stop me", "after stop")
    # The partial answer is kept as it was shown (the echo hold-back may not have shown its last word).
    assert partial.startswith("partial") and partial in output.out
    assert not any(m.content == "first" for m in sent[4])  # /reset cleared the history
    assert "(stopped)" in output.err and "[fake] You said: fresh" in output.out


@pytest.mark.parametrize("width", [80, 60])
def test_masters_table_never_wraps_an_id(monkeypatch, width):
    from rich.console import Console

    from masterhall.catalog.loader import load_catalog
    from masterhall.cli import catalog as catalog_cli

    monkeypatch.setattr(catalog_cli, "out", Console(width=width, force_terminal=False))
    result = runner.invoke(app, ["masters"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= width
    cells = {cell.strip() for line in lines for cell in line.split("│")}
    missing = [m.id for m in load_catalog().advisors() if m.id not in cells]
    assert not missing  # was: 'software-architec' / 't' at 80 columns
