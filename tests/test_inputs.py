"""The shared input checks (``masterhall.inputs``) and their use by the catalog schema and the chat service."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from masterhall.builder.library import InvalidMasterError, validate_master
from masterhall.inputs import MAX_JSON_DEPTH, DbId, DbInt, JsonObject, Text, Title, check_json, check_text, is_blank


def test_text_refuses_nul_and_lone_surrogates_and_keeps_the_rest():
    assert check_text("émoji 👩‍💻 中文\t\n") == "émoji 👩‍💻 中文\t\n"
    for bad, word in (("a\x00b", "NUL"), ("a\ud800", r"U\+D800"), ("\udfff", r"U\+DFFF")):
        with pytest.raises(ValueError, match=word):
            check_text(bad)
    with pytest.raises(ValidationError):
        TypeAdapter(Text).validate_python("x\x00")


def test_titles_are_cleaned_then_must_show_something():
    title = TypeAdapter(Title)
    assert title.validate_python("  a \n  b ") == "a b"
    assert is_blank("\u200b\ufeff \u3000\x07") and not is_blank("\u200bx")
    for blank in ("", "   ", "\u200b", "\u2060\u200e"):
        with pytest.raises(ValidationError, match="blank|at least"):
            title.validate_python(blank)
    with pytest.raises(ValidationError):
        title.validate_python("x" * 201)


def test_ints_fit_the_database_columns():
    assert TypeAdapter(DbInt).validate_python(2**63 - 1) == 2**63 - 1
    assert TypeAdapter(DbId).validate_python(2**31 - 1) == 2**31 - 1
    for adapter, bad in ((DbInt, 2**63), (DbInt, -1), (DbId, 2**31), (DbId, 0)):
        with pytest.raises(ValidationError):
            TypeAdapter(adapter).validate_python(bad)


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def test_json_depth_and_strings_are_checked_with_their_place():
    assert check_json(nested(MAX_JSON_DEPTH)) == nested(MAX_JSON_DEPTH)
    with pytest.raises(ValueError, match=f"deeper than {MAX_JSON_DEPTH}"):
        check_json(nested(MAX_JSON_DEPTH + 1))
    with pytest.raises(ValueError, match=r"^a\.1: must not contain NUL"):
        check_json({"a": ["ok", "b\x00"]})
    with pytest.raises(ValueError, match="surrogate"):
        check_json({"k\ud800": 1})
    with pytest.raises(ValidationError):
        TypeAdapter(JsonObject).validate_python({"a": [[[]]]} | {"deep": nested(300)})


def test_the_master_schema_uses_the_checks(catalog):
    data = catalog.get("socrates").model_dump() | {"id": "x-test"}
    with pytest.raises(InvalidMasterError) as caught:
        validate_master(data | {"extensions": nested(300)})
    assert caught.value.details["fields"][0]["field"] == "extensions"
    with pytest.raises(InvalidMasterError) as caught:
        validate_master(data | {"starters": {**data["starters"], "en": ["a", "b\x00", "c"]}})
    assert caught.value.details["fields"][0]["field"].startswith("starters.en")
    assert validate_master(data | {"extensions": nested(MAX_JSON_DEPTH)}).extensions == nested(MAX_JSON_DEPTH)
