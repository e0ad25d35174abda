"""Property tests: the card readers raise nothing but InteropError, on anything, quickly."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from masterhall.catalog import load_catalog
from masterhall.interop import InteropError, export_master, import_bytes
from masterhall.interop.png import solid_png, with_text_chunks

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
                database=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
CARD_KEYS = ["name", "description", "personality", "scenario", "first_mes", "mes_example", "creator_notes",
             "system_prompt", "post_history_instructions", "alternate_greetings", "tags", "extensions",
             "character_book", "creator", "character_version"]
card_data = st.dictionaries(st.sampled_from(CARD_KEYS), json_values | st.text(max_size=300), max_size=len(CARD_KEYS))
cards = st.builds(
    lambda spec, data, extra: {**extra, "spec": spec, "spec_version": "2.0", "data": data},
    st.sampled_from(["chara_card_v2", "chara_card_v3", "other"]),
    card_data,
    st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)


def read(data: bytes, **kwargs) -> None:
    try:
        result = import_bytes(data, **kwargs)
    except InteropError:
        return
    for master in result.masters:  # whatever was accepted exports again
        export_master(master, "card-json")


@FUZZ
@given(cards)
def test_card_json_documents(card):
    read(json.dumps(card).encode(), fmt="card")


@FUZZ
@given(st.binary(max_size=2000))
def test_card_json_bytes(data):
    read(data, fmt="card")
    read(b"{" + data, filename="c.json")


_PNG = export_master(load_catalog().get("socrates"), "card-png")[0]


@FUZZ
@given(st.integers(min_value=0, max_value=len(_PNG) - 1), st.binary(min_size=1, max_size=16), st.booleans())
def test_png_cards_with_damage(position, patch, truncate):
    damaged = _PNG[:position] if truncate else _PNG[:position] + patch + _PNG[position + len(patch):]
    read(damaged)


@FUZZ
@given(st.binary(max_size=3000))
def test_png_bytes(tail):
    read(b"\x89PNG\r\n\x1a\n" + tail)


@FUZZ
@given(cards | json_values)
def test_png_chunk_contents(doc):
    payload = base64.b64encode(json.dumps(doc).encode()).decode()
    read(with_text_chunks(solid_png(2, 2), {"chara": payload}))
