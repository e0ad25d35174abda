"""Character cards: V2 JSON and PNG both ways, V1 and V3 read, unknown data kept, prompts clean."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import pytest

from masterhall.catalog import load_catalog
from masterhall.interop import InteropError, export_master, import_bytes
from masterhall.interop.card import parse_examples
from masterhall.interop.png import (
    read_text_chunks,
    solid_png,
    text_chunk,
    with_text_chunks,
)


def js(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def png_with(chunks: dict[str, str], image: bytes | None = None) -> bytes:
    return with_text_chunks(image or solid_png(8, 8), chunks)


def b64(doc) -> str:
    return base64.b64encode(js(doc)).decode("ascii")


def only(result):
    assert result.ok, [str(r) for r in result.rejected]
    assert len(result.masters) == 1
    return result.masters[0]


@pytest.fixture(scope="module")
def builtins():
    return list(load_catalog())


def test_every_builtin_master_survives_card_json(builtins):
    for master in builtins:
        content, ctype, filename = export_master(master, "card-json")
        assert ctype == "application/json" and filename == f"{master.id}.card.json"
        card = json.loads(content)
        assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
        assert card["data"]["description"] == master.instructions
        assert card["data"]["first_mes"] in (master.greeting.en, master.greeting.zh)
        back = only(import_bytes(content, filename, reserved_ids=()))
        assert back == master, master.id


def test_every_builtin_master_survives_card_png(builtins):
    for master in builtins[:10]:
        content, ctype, filename = export_master(master, "card-png")
        assert ctype == "image/png" and filename == f"{master.id}.png"
        assert content.startswith(b"\x89PNG\r\n\x1a\n")
        assert only(import_bytes(content, None, reserved_ids=())) == master


def test_export_is_usable_without_our_extension(builtins):
    """A frontend that drops our extension still gets a sensible card."""
    socrates = next(m for m in builtins if m.id == "socrates")
    card = json.loads(export_master(socrates, "card-json")[0])
    del card["data"]["extensions"]["masterhall"]
    plain = only(import_bytes(js(card), reserved_ids=()))
    assert plain.name.en == "Socrates" and socrates.instructions in plain.instructions
    assert plain.greeting.en == socrates.greeting.en and plain.greeting.zh == socrates.greeting.zh
    assert [e.user for e in plain.examples] == [e.user for e in socrates.examples]
    assert plain.description.en == socrates.description.en


def test_builtin_id_is_not_taken_over():
    socrates = load_catalog().get("socrates")
    result = import_bytes(export_master(socrates, "card-json")[0])
    assert only(result).id == "socrates-2"
    assert any("socrates-2" in note for note in result.notes)


def test_foreign_card_maps_fields(merlin_card):
    m = only(import_bytes(js(merlin_card), "merlin.json"))
    assert m.id == "merlin" and m.name.en == m.name.zh == "Merlin"
    assert m.instructions.startswith("Write as Merlin in third person.")
    for part in ("You are Merlin.", "Merlin is an old wizard", "Personality: wise, playful, cryptic",
                 "Scenario: the user visits the cave at dusk.", "Keep replies under 120 words."):
        assert part in m.instructions
    assert "{{" not in m.instructions
    assert m.greeting.en == "*looks up from a book* Ah, you. I wondered when you'd come."
    assert m.greeting.zh == "你好，年轻人。今天想学什么？"  # the alternate greeting written in Chinese
    assert [(e.user, e.assistant) for e in m.examples] == [
        ("What is magic?", "Magic is patience, child.\nMostly patience."),
        ("Teach me a spell.", "First, sweep the floor."),
    ]
    assert m.tags.en == ["TAGWORD-fantasy", "wizard"] and m.tags.zh == ["魔法"]
    assert m.description.en.startswith("SECRET-NOTE")
    assert m.tagline.en == "wise, playful, cryptic"
    assert len(m.starters.en) == 3 and all("Merlin" in s for s in m.starters.en[:2])
    assert m.category == "life" and m.avatar


def test_creator_notes_and_tags_never_reach_the_prompt(merlin_card):
    m = only(import_bytes(js(merlin_card)))
    prompt_text = m.instructions + " ".join(e.user + e.assistant for e in m.examples)
    assert "SECRET-NOTE" not in prompt_text and "TAGWORD" not in prompt_text
    assert "SECRET-NOTE" not in m.tagline.en  # taglines reach the Finder guide's prompt
    # … also not after an export and a re-import without our extension
    card = json.loads(export_master(m, "card-json")[0])
    for key in ("description", "personality", "scenario", "system_prompt", "post_history_instructions"):
        assert "SECRET-NOTE" not in card["data"][key] and "TAGWORD" not in card["data"][key]
    del card["data"]["extensions"]["masterhall"]
    again = only(import_bytes(js(card)))
    assert "SECRET-NOTE" not in again.instructions and "TAGWORD" not in again.instructions


def test_foreign_card_round_trip_keeps_everything(merlin_card):
    m = only(import_bytes(js(merlin_card)))
    assert m.extensions["card"]["unmapped"]["data"]["extensions"]["some_tool"] == {"nested": [1, 2, {"deep": True}]}
    card = json.loads(export_master(m, "card-json")[0])
    ours = card["data"]["extensions"].pop("masterhall")
    assert ours["master"]["id"] == "merlin"
    assert card["data"] == merlin_card["data"]  # every field, unknown extensions and character_book included
    for key in ("avatar", "talkativeness", "fav", "create_date"):
        assert card[key] == merlin_card[key]
    assert card["name"] == "Merlin" and card["first_mes"] == merlin_card["data"]["first_mes"]  # V1 copies follow data
    assert only(import_bytes(js(card))) == m


def test_foreign_card_round_trip_through_png(merlin_card):
    m = only(import_bytes(png_with({"chara": b64(merlin_card)})))
    again = only(import_bytes(export_master(m, "card-png")[0]))
    assert again == m
    card = json.loads(base64.b64decode(read_text_chunks(export_master(again, "card-png")[0])["chara"]))
    card["data"]["extensions"].pop("masterhall")
    assert card["data"] == merlin_card["data"]


def test_an_edited_field_wins_over_the_kept_copy(merlin_card):
    m = only(import_bytes(js(merlin_card)))
    edited = m.model_copy(update={"instructions": "You are Merlin, a gentle wizard who teaches patience to travellers."})
    card = json.loads(export_master(edited, "card-json")[0])
    assert card["data"]["description"] == edited.instructions and card["data"]["system_prompt"] == ""
    assert card["data"]["first_mes"] == merlin_card["data"]["first_mes"]  # untouched groups come back as they were
    assert card["data"]["extensions"]["world"] == "Avalon"
    back = only(import_bytes(js(card)))
    assert back.instructions == edited.instructions and back.greeting == m.greeting
    # a card field changed in another program wins over our kept copy
    card["data"]["first_mes"] = "Well met, traveller."
    assert only(import_bytes(js(card))).greeting.en == "Well met, traveller."


def test_v3_png_prefers_the_ccv3_chunk(merlin_card):
    v3 = dict(merlin_card, spec="chara_card_v3", spec_version="3.0")
    v3["data"] = dict(merlin_card["data"], name="Merlin Three", nickname="Merl", group_only_greetings=["Hi all"],
                      assets=[{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
                      creator_notes_multilingual={"en": "notes"}, source=["somewhere"], creation_date=1700000000)
    old = dict(merlin_card["data"], name="Merlin Two")
    data = png_with({"chara": b64({"spec": "chara_card_v2", "spec_version": "2.0", "data": old}), "ccv3": b64(v3)})
    m = only(import_bytes(data, "merlin.png"))
    assert m.name.en == "Merlin Three"
    kept = m.extensions["card"]["unmapped"]["data"]
    assert kept["nickname"] == "Merl" and kept["assets"][0]["uri"] == "ccdefault:" and kept["group_only_greetings"] == ["Hi all"]
    back = json.loads(export_master(m, "card-json")[0])
    assert back["spec"] == "chara_card_v2" and back["data"]["creation_date"] == 1700000000


def test_v3_json_and_v1_cards():
    v3 = {"spec": "chara_card_v3", "spec_version": "3.0",
          "data": {"name": "Ada", "description": "A patient tutor of mathematics who explains with small examples.",
                   "first_mes": "Shall we begin?", "tags": [], "extensions": {}}}
    assert only(import_bytes(js(v3))).name.en == "Ada"
    v1 = {"name": "Bo", "description": "{{char}} is a calm gardener who answers questions about plants.",
          "personality": "calm", "scenario": "", "first_mes": "Hello {{user}}!", "mes_example": "", "chat": "x"}
    m = only(import_bytes(js(v1), "bo.json"))
    assert m.greeting.en == "Hello you!" and "Bo is a calm gardener" in m.instructions
    assert m.extensions["card"]["unmapped"]["chat"] == "x"
    old = {"char_name": "Cy", "char_persona": "Cy is a cheerful robot who loves puzzles and riddles.",
           "char_greeting": "Beep! Hello!", "world_scenario": "", "example_dialogue": "<START>\nYou: hi\n<BOT>: beep"}
    assert only(import_bytes(js(old), "cy.json", fmt="card")).greeting.en == "Beep! Hello!"


def test_chinese_card_goes_to_chinese_fields():
    card = {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": "李白", "description": "{{char}}是唐代诗人，豪放飘逸，喜欢饮酒赋诗，说话带着诗意。",
                     "first_mes": "月下独酌，{{user}}可愿同饮？", "mes_example": "<START>\n{{user}}：写首诗\n{{char}}：好",
                     "tags": ["诗歌"], "extensions": {}}}
    m = only(import_bytes(js(card)))
    assert m.name.zh == m.name.en == "李白" and m.id.startswith("m-")
    assert m.greeting.zh == "月下独酌，你可愿同饮？" and "Hello" in m.greeting.en
    assert m.instructions.startswith("你是李白。")


def test_mes_example_parsing():
    text = "<START>\n{{user}}: hi\n{{user}}: there\n{{char}}: hello\n\nstill me\n<START>\n<USER>: a\n<BOT>: b\n{{char}}: orphan"
    assert parse_examples(text, "Zed") == [
        {"user": "hi\nthere", "assistant": "hello\n\nstill me"},
        {"user": "a", "assistant": "b\norphan"},
    ]
    assert parse_examples("no speakers here", "Zed") == []
    assert parse_examples(None, "Zed") == []


def test_card_png_embeds_into_a_given_png():
    socrates = load_catalog().get("socrates")
    image = solid_png(4, 3, (10, 20, 30))
    image = with_text_chunks(image, {"chara": "old", "Comment": "keep me"})
    content, _, _ = export_master(socrates, "card-png", image=image)
    chunks = read_text_chunks(content)
    assert chunks["Comment"] == "keep me" and chunks["chara"] != "old"
    assert content.count(b"IDAT") == image.count(b"IDAT")
    with pytest.raises(InteropError):
        export_master(socrates, "card-png", image=b"GIF89a not a png")


def test_generated_png_is_a_valid_image():
    data = solid_png(16, 9, (200, 100, 50))
    pos, seen, raw = 8, [], b""
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(ctype + body)
        seen.append(ctype)
        if ctype == b"IHDR":
            assert struct.unpack(">IIBBBBB", body) == (16, 9, 8, 2, 0, 0, 0)
        if ctype == b"IDAT":
            raw += body
        pos += 12 + length
    assert seen == [b"IHDR", b"IDAT", b"IEND"]
    pixels = zlib.decompress(raw)
    assert len(pixels) == 9 * (1 + 16 * 3) and all(pixels[r * 49] == 0 for r in range(9))


def test_text_chunk_layout():
    chunk = text_chunk("chara", "abc")
    assert chunk[:4] == struct.pack(">I", 9) and chunk[4:8] == b"tEXt" and chunk[8:17] == b"chara\x00abc"


def test_a_v1_card_exports_as_a_complete_v2_card():
    v1 = {"name": "Bo", "description": "{{char}} is a calm gardener who answers questions about plants.",
          "personality": "calm", "scenario": "", "first_mes": "Hello {{user}}!", "mes_example": ""}
    m = only(import_bytes(js(v1), "bo.json"))
    card = json.loads(export_master(m, "card-json")[0])
    assert card["spec"] == "chara_card_v2"
    required = {"name", "description", "personality", "scenario", "first_mes", "mes_example", "creator_notes",
                "system_prompt", "post_history_instructions", "alternate_greetings", "tags", "creator",
                "character_version", "extensions"}
    assert required <= set(card["data"])
    assert {k: card["data"][k] for k in v1} == v1
