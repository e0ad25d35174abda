"""The command line acts for the operator: ``LOCAL`` in a hall without accounts, else the first admin."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from masterhall.cli import app
from masterhall.store import Store

runner = CliRunner()


def test_imports_belong_to_the_first_admin_and_exports_see_every_draft(data_dir, tmp_path, accounts):
    with Store() as store:
        accounts(store.engine, "member-first")
        admin = accounts(store.engine, "boss", "admin")
        accounts(store.engine, "later-admin", "admin")
        member = accounts(store.engine, "member-two")
        store.masters.save(_master("members-draft"), owner_id=member.user_id)
    source = tmp_path / "m.json"
    source.write_text(_master("cli-master").model_dump_json(), encoding="utf-8")
    result = runner.invoke(app, ["import", str(source)])
    assert result.exit_code == 0, result.output
    with Store() as store:
        assert store.masters.get("cli-master").owner_id == admin.user_id
    exported = runner.invoke(app, ["export", "members-draft", "--format", "json"])  # an admin sees every draft
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["id"] == "members-draft"


def test_without_accounts_the_command_line_is_local(data_dir, tmp_path):
    source = tmp_path / "m.json"
    source.write_text(_master("cli-master").model_dump_json(), encoding="utf-8")
    assert runner.invoke(app, ["import", str(source)]).exit_code == 0
    with Store() as store:
        assert store.masters.get("cli-master").owner_id is None


def _master(master_id):
    from masterhall.catalog import load_catalog

    return load_catalog().get("socrates").model_copy(update={"id": master_id})
