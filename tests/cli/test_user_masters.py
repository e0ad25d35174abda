"""Published user masters are usable from the command line: chat and match find them."""

import json

from typer.testing import CliRunner

from masterhall.cli import app

runner = CliRunner()


def test_imported_published_master_can_be_chatted_with_and_found(tmp_path, monkeypatch):
    monkeypatch.setenv("MASTERHALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MASTERHALL_BACKEND", "fake")
    table = tmp_path / "guides.csv"
    table.write_text('act,prompt\nBonsai Gardener,"I want you to act as a bonsai gardener who teaches pruning, wiring and watering of bonsai trees."\n')
    imported = runner.invoke(app, ["import", str(table), "--publish", "--category", "life", "--json"])
    assert imported.exit_code == 0, imported.output
    listed = json.loads(runner.invoke(app, ["masters", "--category", "life", "--json"]).output)
    assert "bonsai-gardener" in [m["id"] for m in listed]
    chat = runner.invoke(app, ["chat", "bonsai-gardener", "hello"])
    assert chat.exit_code == 0 and "[fake] You said: hello" in chat.output
    found = json.loads(runner.invoke(app, ["match", "how do I prune and water my bonsai tree", "-k", "3", "--json"]).output)
    assert found[0]["master_id"] == "bonsai-gardener"
