"""Our own YAML / JSON both ways, format detection and the override."""

from __future__ import annotations

import json

import pytest
import yaml

from masterhall.catalog import load_catalog
from masterhall.catalog.loader import builtin_data_dir
from masterhall.interop import InteropError, detect, export_master, import_bytes


@pytest.fixture(scope="module")
def builtins():
    return list(load_catalog())


def test_every_builtin_round_trips_through_yaml_and_json(builtins):
    for master in builtins:
        for fmt in ("yaml", "json"):
            content, ctype, filename = export_master(master, fmt)
            assert filename == f"{master.id}.{fmt}" and ctype.endswith(fmt)
            result = import_bytes(content, filename, reserved_ids=())
            assert result.ok and result.format == fmt
            assert result.masters == [master], (master.id, fmt)


def test_yaml_export_reads_like_the_catalog(builtins):
    socrates = next(m for m in builtins if m.id == "socrates")
    text = export_master(socrates, "yaml")[0].decode("utf-8")
    assert text.startswith("id: socrates\ncategory: philosophy\n")
    assert "instructions: |" in text and "苏格拉底" in text
    assert "extensions" not in text and "model:" not in text
    assert yaml.safe_load(text)["params"] == {"temperature": 0.7}


def test_the_catalog_files_themselves_import(builtins):
    path = builtin_data_dir() / "philosophy" / "laozi.yaml"
    result = import_bytes(path.read_bytes(), path.name, reserved_ids=())
    assert result.masters == [next(m for m in builtins if m.id == "laozi")]


def test_lists_and_the_masters_wrapper(builtins):
    docs = [json.loads(export_master(m, "json")[0]) for m in builtins[:3]]
    assert [m.id for m in import_bytes(json.dumps(docs).encode(), reserved_ids=()).masters] == [d["id"] for d in docs]
    wrapped = yaml.safe_dump({"masters": docs}, allow_unicode=True).encode()
    assert len(import_bytes(wrapped, "all.yaml", reserved_ids=()).masters) == 3


def test_invalid_records_are_reported_by_field(builtins):
    good = json.loads(export_master(builtins[0], "json")[0])
    bad = dict(good, id="my-copy", starters={"zh": ["一"], "en": ["one"]}, colour="red")
    result = import_bytes(json.dumps([good, bad, "text"]).encode(), reserved_ids=())
    assert not result.ok and [m.id for m in result.masters] == [good["id"]]
    found = {(r.index, r.field) for r in result.rejected}
    assert {(1, "starters.zh"), (1, "starters.en"), (1, "colour"), (2, "(record)")} <= found
    assert all(r.name == good["name"]["en"] for r in result.rejected if r.index == 1)
    with pytest.raises(InteropError) as info:
        result.raise_for_rejected()
    assert "2 of 3 records rejected" in str(info.value) and "starters.zh" in str(info.value)


def test_category_option(builtins):
    content = export_master(builtins[0], "yaml")[0]
    assert import_bytes(content, reserved_ids=(), category="business").masters[0].category == "business"
    with pytest.raises(InteropError, match="unknown category"):
        import_bytes(content, category="cooking")


def test_detection_and_override(chef_agent, masks, merlin_card):
    def kind(doc, name=None):
        return detect(json.dumps(doc, ensure_ascii=False).encode(), name)[0]

    assert kind(merlin_card) == "card" and kind([merlin_card]) == "card"
    assert kind(chef_agent) == "lobechat" and kind(masks[0]) == "nextchat" and kind(masks) == "nextchat"
    assert kind([{"act": "x", "prompt": "y"}]) == "table"
    assert detect(b"act,prompt\nx,y\n", None)[0] == "table"
    assert detect(b'{"act": "x", "prompt": "y"}\n{"act": "z", "prompt": "w"}\n', None)[0] == "table"
    assert detect(b"anything", "t.parquet")[0] == "table"
    assert detect(export_master(load_catalog().get("laozi"), "yaml")[0], None)[0] == "yaml"
    # the override: a card read as a table fails clearly instead of guessing
    with pytest.raises(InteropError, match="no name column|no prompt column"):
        import_bytes(json.dumps([merlin_card]).encode(), fmt="table")
    with pytest.raises(InteropError, match="not a LobeChat agent"):
        import_bytes(json.dumps(merlin_card).encode(), fmt="lobechat")
    with pytest.raises(InteropError, match="unknown import format"):
        import_bytes(b"{}", fmt="docx")
