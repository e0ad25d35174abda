"""``masterhall import`` / ``masterhall export`` on a temporary SQLite database."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from masterhall.cli import app
from masterhall.interop import import_bytes
from masterhall.store import Store

runner = CliRunner()


def stored(data_dir) -> dict[str, str]:
    with Store() as store:
        return {um.id: um.status for um in store.masters.list()}


def write_csv(path, rows) -> str:
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


GOOD = [{"act": f"Helper {i}", "prompt": f"You are helper {i}; answer briefly and kindly, with one example."} for i in range(3)]


def test_import_stores_drafts_and_publishes(data_dir, tmp_path):
    path = write_csv(tmp_path / "p.csv", GOOD)
    result = runner.invoke(app, ["import", path])
    assert result.exit_code == 0, result.output
    assert "Imported 3 master(s) as drafts" in result.output and "helper-0" in result.output
    assert stored(data_dir) == {"helper-0": "draft", "helper-1": "draft", "helper-2": "draft"}
    again = runner.invoke(app, ["import", path, "--publish", "--category", "business"])
    assert again.exit_code == 0 and "Replaced 3 existing user master(s)" in again.output
    with Store() as store:
        assert {um.status for um in store.masters.list()} == {"published"}
        assert store.masters.get("helper-1").master.category == "business"


def test_a_rejected_record_stores_nothing(data_dir, tmp_path):
    rows = GOOD + [{"act": "Broken", "prompt": ""}]
    result = runner.invoke(app, ["import", write_csv(tmp_path / "p.csv", rows)])
    assert result.exit_code == 1
    assert "1 record(s) rejected" in result.output and "nothing was imported" in result.output
    assert "record 4 ('Broken'): field 'instructions': the prompt cell is empty" in result.output
    assert stored(data_dir) == {}


def test_a_database_failure_midway_stores_nothing(data_dir, tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from masterhall.store.masters import UserMasterRepo

    class Boom:
        id = "boom"

        def model_dump_json(self):
            raise OperationalError("INSERT", {}, Exception("disk full"))

    real = UserMasterRepo.save_many
    monkeypatch.setattr(UserMasterRepo, "save_many", lambda self, masters, status="draft", **kw: real(self, masters[:2] + [Boom()], status, **kw))
    result = runner.invoke(app, ["import", write_csv(tmp_path / "p.csv", GOOD)])
    assert result.exit_code == 1 and "database error, nothing was imported" in result.output
    monkeypatch.setattr(UserMasterRepo, "save_many", real)
    assert stored(data_dir) == {}


def test_malformed_file_and_dry_run(data_dir, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"spec": "chara_card_v2", "data": ')
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1 and "bad JSON: Expecting value at line 1" in result.output
    path = write_csv(tmp_path / "p.csv", GOOD)
    dry = runner.invoke(app, ["import", path, "--dry-run", "--json"])
    summary = json.loads(dry.stdout)
    assert dry.exit_code == 0 and summary["stored"] == 0 and len(summary["masters"]) == 3
    assert stored(data_dir) == {}
    missing = runner.invoke(app, ["import", str(tmp_path / "absent.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_mapping_option(data_dir, tmp_path):
    path = write_csv(tmp_path / "p.csv", [{"role_name": "Poet", "text": "Write short poems about what the person describes, in their language."}])
    result = runner.invoke(app, ["import", path, "--map", "role_name=name,text=instructions", "--format", "table"])
    assert result.exit_code == 0, result.output
    assert stored(data_dir) == {"poet": "draft"}


def test_export_builtin_and_user_masters(data_dir, tmp_path):
    card = runner.invoke(app, ["export", "socrates", "--format", "card-json"])
    assert card.exit_code == 0 and json.loads(card.stdout)["data"]["name"] == "Socrates"
    out = tmp_path / "s.png"
    png = runner.invoke(app, ["export", "socrates", "-f", "card-png", "-o", str(out)])
    assert png.exit_code == 0 and out.read_bytes().startswith(b"\x89PNG")
    runner.invoke(app, ["import", write_csv(tmp_path / "p.csv", GOOD)])
    yml = runner.invoke(app, ["export", "helper-1", "-f", "yaml"])
    assert yml.exit_code == 0 and yml.stdout.startswith("id: helper-1\n")
    lobe = runner.invoke(app, ["export", "helper-1", "-f", "lobechat", "-o", str(tmp_path / "h.json")])
    assert lobe.exit_code == 0 and json.loads((tmp_path / "h.json").read_text())["identifier"] == "helper-1"
    unknown = runner.invoke(app, ["export", "socretes", "-f", "yaml"])
    assert unknown.exit_code == 2 and "Did you mean: socrates" in unknown.output
    bad_fmt = runner.invoke(app, ["export", "socrates", "-f", "docx"])
    assert bad_fmt.exit_code == 2 and "unknown export format" in bad_fmt.output


def test_export_then_import_round_trip_via_cli(data_dir, tmp_path):
    out = tmp_path / "laozi.png"
    runner.invoke(app, ["export", "laozi", "-f", "card-png", "-o", str(out)])
    result = runner.invoke(app, ["import", str(out), "--publish"])
    assert result.exit_code == 0 and "laozi-2" in result.output
    with Store() as store:
        copy = store.masters.get("laozi-2").master
    from masterhall.catalog import load_catalog

    assert copy.model_copy(update={"id": "laozi"}) == load_catalog().get("laozi")
    assert import_bytes(out.read_bytes()).masters[0].id == "laozi-2"


def test_store_import_keeps_the_live_catalog_in_step(tmp_path):
    from masterhall.builder import MasterLibrary
    from masterhall.catalog import load_catalog
    from masterhall.interop import ImportResult, InteropError, store_import

    catalog = load_catalog()
    data = pd.DataFrame(GOOD).to_csv(index=False).encode()
    with Store(f"sqlite:///{tmp_path / 'hall.db'}") as store:
        library = MasterLibrary(catalog, store.masters)
        published = import_bytes(data, "p.csv")
        assert store_import(published, library, publish=True) == 3
        assert "helper-1" in catalog and catalog.get("helper-1").category == "life"
        drafts = import_bytes(data, "p.csv", category="tech")
        store_import(drafts, library)
        assert "helper-1" not in catalog and store.masters.get("helper-1").master.category == "tech"
        rejected = import_bytes(b"act,prompt\nA,\n", "p.csv")
        with pytest.raises(InteropError, match="nothing was imported"):
            store_import(rejected, library)
        clash = ImportResult(masters=[catalog.get("socrates")], format="yaml")
        with pytest.raises(InteropError, match="built-in"):
            store_import(clash, library)
        assert {um.id for um in store.masters.list()} == {"helper-0", "helper-1", "helper-2"}


def test_warnings_are_shown(data_dir, tmp_path):
    from masterhall.catalog import load_catalog
    from masterhall.interop import export_master

    doc = json.loads(export_master(next(iter(load_catalog())), "json")[0])
    doc.update(id="future-master", x_future=True, params={"top_k": 30})
    path = tmp_path / "future.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(app, ["import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "x_future" in result.output and "extensions.unknown_fields" in result.output
    as_json = runner.invoke(app, ["import", str(path), "--dry-run", "--json"])
    assert any("x_future" in w for w in json.loads(as_json.stdout)["warnings"])


def test_a_file_over_a_limit_is_a_clear_error(data_dir, tmp_path):
    path = tmp_path / "many.jsonl"
    row = json.dumps({"act": "Helper", "prompt": "Act as a helper and answer in short, kind steps."})
    path.write_text("\n".join([row] * 5001), encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code != 0 and "the limit is 5,000 rows" in result.output
    assert stored(data_dir) == {}
