"""LobeChat agents both ways; NextChat masks (single, arrays, mask store) in, and out."""

from __future__ import annotations

import json

from masterhall.catalog import load_catalog
from masterhall.interop import export_master, import_bytes


def js(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def ok(result):
    assert result.ok, [str(r) for r in result.rejected]
    return result.masters


def test_lobechat_maps_fields(chef_agent):
    [m] = ok(import_bytes(js(chef_agent), "chef.json"))
    assert m.id == "chef" and m.name.en == "Culinary Mentor" and m.avatar == "👨‍🍳"
    assert m.instructions == chef_agent["config"]["systemRole"]
    assert m.tagline.en == chef_agent["meta"]["description"] and m.description.en == chef_agent["summary"]
    assert m.greeting.en == "Hello! What shall we cook today?" and m.greeting.zh.startswith("你好")
    assert m.starters.en == chef_agent["config"]["openingQuestions"][:4] and len(m.starters.zh) == 3
    assert m.tags.en == ["cooking", "recipe", "culinary"] and m.category == "life"
    assert m.examples[0].user == "A quick vegetarian dinner?"
    assert m.params.temperature == 0.6 and m.params.top_p == 0.9
    assert "gpt-4o" not in m.instructions and m.model is None  # LobeChat's model is no backend of ours


def test_lobechat_round_trip_keeps_every_field(chef_agent):
    [m] = ok(import_bytes(js(chef_agent)))
    back = json.loads(export_master(m, "lobechat")[0])
    assert back == chef_agent
    assert ok(import_bytes(js(back))) == [m]


def test_lobechat_top_level_opening_fields_and_chinese(chef_agent):
    agent = {
        "identifier": "tea-master",
        "meta": {"title": "茶艺大师", "description": "教你泡好一杯茶", "avatar": "🍵", "tags": ["茶", "生活"], "category": "programming"},
        "config": {"systemRole": "你是一位茶艺大师，耐心地教人选茶、泡茶和品茶，回答简短而具体。"},
        "openingMessage": "欢迎！今天想泡什么茶？",
        "openingQuestions": ["绿茶怎么泡？", "紫砂壶怎么养？"],
    }
    [m] = ok(import_bytes(js(agent)))
    assert m.greeting.zh == "欢迎！今天想泡什么茶？" and m.greeting.en.startswith("Hello")
    assert m.starters.zh[:2] == ["绿茶怎么泡？", "紫砂壶怎么养？"] and len(m.starters.zh) == 3
    assert m.category == "tech" and m.tags.zh == ["茶", "生活"]
    assert json.loads(export_master(m, "lobechat")[0]) == agent


def test_lobechat_settings_export_and_arrays(chef_agent):
    other = json.loads(json.dumps(chef_agent)) | {"identifier": "chef"}
    wrapped = {"exportType": "agents", "state": {"sessions": [chef_agent, other]}}
    masters = ok(import_bytes(js(wrapped)))
    assert [m.id for m in masters] == ["chef", "chef-2"]
    assert [m.id for m in ok(import_bytes(js([chef_agent])))] == ["chef"]


def test_builtin_to_lobechat():
    socrates = load_catalog().get("socrates")
    agent = json.loads(export_master(socrates, "lobechat")[0])
    assert agent["identifier"] == "socrates" and agent["meta"]["title"] == "Socrates"
    assert agent["config"]["systemRole"] == socrates.instructions
    assert agent["config"]["openingQuestions"] == socrates.starters.en
    assert agent["meta"]["category"] == "general" and agent["config"]["params"] == {"temperature": 0.7}


def test_nextchat_single_mask(masks):
    [m] = ok(import_bytes(js(masks[0]), "mask.json"))
    assert m.name.zh == "以文搜图" and m.avatar == "😸"
    assert m.instructions.startswith("你是一个图片搜索助手")
    assert [(e.user, e.assistant) for e in m.examples] == [("找一张日落的图", "关键词：sunset, golden hour, 海边")]
    assert m.params.temperature == 1.0 and m.params.max_tokens == 2000
    assert m.greeting.zh.startswith("你好，我是以文搜图")
    assert m.extensions["nextchat"]["unmapped"]["modelConfig"]["model"] == "gpt-3.5-turbo"


def test_nextchat_array_and_user_prompt(masks):
    first, second = ok(import_bytes(js(masks)))
    assert first.name.zh == "以文搜图" and second.id == "linux-terminal"
    assert second.instructions == masks[1]["context"][0]["content"]  # a lone user message is the prompt
    assert second.avatar == "👨‍💻" and second.tags.en == ["linux", "terminal"]


def test_nextchat_mask_store_and_round_trip(masks):
    store = {"mask-store": {"masks": {m["id"]: m for m in masks}}}
    masters = ok(import_bytes(js(store)))
    assert len(masters) == 2
    for master, mask in zip(masters, masks):
        assert json.loads(export_master(master, "nextchat")[0]) == mask


def test_nextchat_export_of_a_builtin():
    laozi = load_catalog().get("laozi")
    mask = json.loads(export_master(laozi, "nextchat")[0])
    assert mask["context"][0] == {"id": "laozi-0", "role": "system", "content": laozi.instructions, "date": ""}
    assert len(mask["context"]) == 1 + 2 * len(laozi.examples)
    assert "".join(chr(int(c, 16)) for c in mask["avatar"].split("-")) == laozi.avatar


def test_openai_penalties_map_into_params(chef_agent, masks):
    master = import_bytes(json.dumps(chef_agent).encode(), reserved_ids=()).masters[0]
    assert master.params.frequency_penalty == 0.1 and master.params.top_p == 0.9
    assert json.loads(export_master(master, "lobechat")[0])["config"]["params"]["frequency_penalty"] == 0.1
    mask = dict(masks[0], modelConfig={"model": "gpt-4o", "temperature": 0.5, "presence_penalty": 0.4, "frequency_penalty": 9})
    got = import_bytes(json.dumps(mask, ensure_ascii=False).encode(), reserved_ids=()).masters[0].params
    assert got.presence_penalty == 0.4 and got.frequency_penalty is None  # out of range: left out, kept in extensions
