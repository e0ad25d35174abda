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
    assert {(1, "starters.zh"), (1, "starters.en"), (2, "(record)")} <= found
    assert (1, "colour") not in found  # an unknown field is a warning, not a rejection
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


def test_a_file_from_a_newer_version_imports_with_warnings(builtins):
    """Unknown fields at any depth are kept in extensions["unknown_fields"] and named in a warning;
    sampling settings under other names or outside params are moved into params."""
    doc = json.loads(export_master(builtins[0], "json")[0])
    doc["x_future"] = {"plan": [1, 2]}
    doc["params"] = {"temperature": 0.6, "top_k": 40, "repetition_penalty": 1.1, "mirostat": 2}
    doc["min_p"] = 0.05
    doc["name"]["fr"] = "Nom"
    doc["examples"][0]["rating"] = 5
    for fmt, content in (("json", json.dumps(doc).encode()), ("yaml", yaml.safe_dump(doc, allow_unicode=True).encode())):
        result = import_bytes(content, f"new.{fmt}", reserved_ids=())
        assert result.ok and result.format == fmt, result.rejected
        master = result.masters[0]
        assert master.params.top_k == 40 and master.params.repeat_penalty == 1.1 and master.params.min_p == 0.05
        assert master.params.temperature == 0.6
        assert master.extensions["unknown_fields"] == {
            "x_future": {"plan": [1, 2]}, "params.mirostat": 2, "name.fr": "Nom", "examples.0.rating": 5}
        text = "\n".join(result.warnings)
        assert "x_future" in text and "params.mirostat" in text and "extensions.unknown_fields" in text
        assert "repetition_penalty → params.repeat_penalty" in text and "min_p → params.min_p" in text
        assert result.to_dict()["warnings"] == result.warnings
        # Kept data survives our own export and a second import (no new unknown fields then).
        again = import_bytes(export_master(master, fmt)[0], f"again.{fmt}", reserved_ids=())
        assert again.masters == [master] and again.warnings == []


def test_known_fields_with_bad_values_still_reject(builtins):
    doc = json.loads(export_master(builtins[0], "json")[0])
    doc["params"] = {"top_k": -1}
    result = import_bytes(json.dumps(doc).encode(), reserved_ids=())
    assert not result.ok and result.rejected[0].field == "params.top_k"
