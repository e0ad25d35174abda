"""Malformed files raise InteropError with a clear message; nothing half-read comes out."""

from __future__ import annotations

import base64
import json

import pytest

from masterhall.catalog import load_catalog
from masterhall.interop import (
    MAX_FIELD_CHARS,
    InteropError,
    export_master,
    import_bytes,
)
from masterhall.interop.png import solid_png, text_chunk, with_text_chunks


@pytest.fixture(scope="module")
def card_png() -> bytes:
    return export_master(load_catalog().get("socrates"), "card-png")[0]


def fails(data: bytes, match: str, **kwargs) -> InteropError:
    with pytest.raises(InteropError, match=match) as info:
        import_bytes(data, **kwargs)
    return info.value


def test_bad_json():
    fails(b'{"spec": "chara_card_v2", "data": {', r"bad JSON: .* at line 1", filename="x.json")
    fails(b"[" * 100_000, r"bad JSON|nested", filename="x.json")
    fails(b'{"a": 1}', "cannot tell the format", filename="x.json")
    fails(b"\xff\xfe\x00\xd8 broken", "not UTF-8|bad JSON|cannot tell|cannot be decoded", filename="x.json")
    fails(b"   ", "empty")


def test_truncated_and_corrupt_png(card_png):
    fails(card_png[: len(card_png) // 2], "truncated PNG")
    fails(card_png[:-12], "truncated PNG")  # the IEND chunk is gone
    corrupt = bytearray(card_png)
    corrupt[40] ^= 0xFF
    fails(bytes(corrupt), "corrupt PNG|truncated PNG")
    fails(b"\x89PNG\r\n\x1a\n", "truncated PNG")
    fails(b"not a png at all", "not a PNG", filename="x.png")


def test_png_without_or_with_a_wrong_chunk():
    image = solid_png(4, 4)
    fails(image, "no character card")
    fails(with_text_chunks(image, {"chara": "!!not base64!!"}), "not base64")
    fails(with_text_chunks(image, {"chara": base64.b64encode(b"{not json").decode()}), "bad 'chara' chunk JSON")
    fails(with_text_chunks(image, {"chara": base64.b64encode(b'{"hello": "world"}').decode()}), "not a character card")
    fails(with_text_chunks(image, {"Comment": "chara"}), "no character card")


def test_giant_field_and_large_file():
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Big", "description": "x" * (MAX_FIELD_CHARS + 1)}}
    err = fails(json.dumps(card).encode(), "data.description.*100,000")
    assert "characters long" in str(err)
    fails(b"{}" + b" " * 2000, "larger|limit", max_bytes=1000)
    deep = {"spec": "chara_card_v2", "data": {"name": "D", "extensions": {}}}
    node = deep["data"]["extensions"]
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    fails(json.dumps(deep).encode(), "nested more than")


def test_giant_field_in_a_png_card():
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Big", "first_mes": "y" * (MAX_FIELD_CHARS + 5)}}
    data = with_text_chunks(solid_png(2, 2), {"chara": base64.b64encode(json.dumps(card).encode()).decode()})
    fails(data, "data.first_mes")


def test_an_invalid_card_is_a_rejected_record_not_a_crash():
    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": 42, "description": ["not", "text"], "tags": "solo"}}
    result = import_bytes(json.dumps(card).encode())
    assert not result.ok and not result.masters
    assert {r.field for r in result.rejected} >= {"name.zh", "name.en"}


def test_text_chunk_rejects_non_latin1_keywords():
    with pytest.raises(UnicodeEncodeError):
        text_chunk("名字", "x")


def test_nan_and_infinity_are_not_json():
    fails(b'{"spec": "chara_card_v2", "data": {"name": "N", "extensions": {"x": NaN}}}', "NaN is not valid JSON")
