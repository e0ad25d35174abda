"""The master-finder guide gets the finder's matches, and only real masters; or, when no master
fits, the instruction to say so (and the same verdict as recommendations for the cards)."""

import re

from masterhall import BackendRegistry, ChatEngine, FakeBackend, load_catalog, load_settings
from masterhall.chat.engine import GuideBrief
from masterhall.finder import finder_guide_context
from masterhall.finder.guide import HEADER, NO_FIT

from .helpers import tea_master

ID_IN_LINE = re.compile(r"^- .+ \(([a-z0-9-]+)\): .+$")


def _listed_ids(text):
    lines = text.splitlines()
    assert lines[0].startswith("## ")
    ids = []
    for line in lines[1:]:
        found = ID_IN_LINE.match(line)
        assert found, line
        ids.append(found.group(1))
    return ids


def test_context_lists_top_matches_with_real_ids(finder, catalog):
    context = finder_guide_context(finder, catalog)
    guide = catalog.get("master-finder")
    brief = context(guide, "我最近总是睡不着，脑子停不下来", "zh")
    assert isinstance(brief, GuideBrief) and brief.text.startswith(HEADER)
    ids = _listed_ids(brief.text)
    assert 1 <= len(ids) <= 3 and ids[0] == "sleep-coach"
    assert all(i in catalog and not catalog.get(i).is_guide for i in ids)
    assert "睡眠与压力教练 (sleep-coach)" in brief.text  # the name in the user's language
    record = brief.recommendations
    assert record["no_fit"] is False and [m["id"] for m in record["matches"]] == ids  # the cards agree with the text
    assert record["matches"][0]["strength"] == "strong" and record["query"] and record["lang"] == "zh"


def test_no_fit_tells_the_guide_to_say_so(finder, catalog):
    brief = finder_guide_context(finder, catalog)(catalog.get("master-finder"), "xyzzy qwerty", "en")
    assert brief.text == NO_FIT and HEADER not in brief.text
    assert brief.recommendations == {"query": "xyzzy qwerty", "lang": "en", "no_fit": True, "matches": []}


def test_only_the_guide_gets_it(finder, catalog):
    context = finder_guide_context(finder, catalog)
    assert context(catalog.get("socrates"), "I can't sleep", "en") == ""


def test_masters_unknown_to_the_catalog_are_left_out(make_finder):
    catalog = load_catalog()
    finder = make_finder([*catalog, tea_master()])
    assert finder.match("普洱茶应该怎么泡", k=1)[0].master_id == "tea-master"
    brief = finder_guide_context(finder, catalog)(catalog.get("master-finder"), "普洱茶应该怎么泡", "zh")
    assert "tea-master" not in brief.text
    assert all(m["id"] in catalog for m in brief.recommendations["matches"])


def test_refused_message_falls_back_to_the_whole_list(finder, catalog):
    text = finder_guide_context(finder, catalog)(catalog.get("master-finder"), "\x00\x01", "en")
    assert len(_listed_ids(text)) == len(catalog.advisors())


def test_chat_engine_sends_it_to_the_guide(finder, catalog):
    fake = FakeBackend("fake")
    registry = BackendRegistry(load_settings(backend="fake"))
    registry.register(fake)
    engine = ChatEngine(catalog, registry, guide_context=finder_guide_context(finder, catalog))
    *_, built, _ = engine.prepare("master-finder", [], "I can't fall asleep and I worry all night")
    system = built.messages[0].content
    assert HEADER in system and "(sleep-coach)" in system
    assert built.recommendations["matches"][0]["id"] == "sleep-coach"
    reply = engine.stream("master-finder", [], "I can't fall asleep and I worry all night").collect()
    assert reply.recommendations == built.recommendations and reply.to_dict()["recommendations"]
    *_, built, _ = engine.prepare("socrates", [], "I can't fall asleep and I worry all night")
    assert HEADER not in built.messages[0].content and built.recommendations is None
