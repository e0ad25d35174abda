"""The master-finder guide gets the finder's matches, and only real masters."""

import re

from masterhall import BackendRegistry, ChatEngine, FakeBackend, load_catalog, load_settings
from masterhall.finder import finder_guide_context
from masterhall.finder.guide import HEADER

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
    text = context(guide, "我最近总是睡不着，脑子停不下来", "zh")
    assert text.startswith(HEADER)
    ids = _listed_ids(text)
    assert len(ids) == 5 and ids[0] == "sleep-coach"
    assert all(i in catalog and not catalog.get(i).is_guide for i in ids)
    assert "睡眠与压力教练 (sleep-coach)" in text  # the name in the user's language


def test_only_the_guide_gets_it(finder, catalog):
    context = finder_guide_context(finder, catalog)
    assert context(catalog.get("socrates"), "I can't sleep", "en") == ""


def test_masters_unknown_to_the_catalog_are_left_out(make_finder):
    catalog = load_catalog()
    finder = make_finder([*catalog, tea_master()])
    assert finder.match("普洱茶应该怎么泡", k=1)[0].master_id == "tea-master"
    text = finder_guide_context(finder, catalog)(catalog.get("master-finder"), "普洱茶应该怎么泡", "zh")
    ids = _listed_ids(text)
    assert "tea-master" not in ids and ids and all(i in catalog for i in ids)


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
    *_, built, _ = engine.prepare("socrates", [], "I can't fall asleep and I worry all night")
    assert HEADER not in built.messages[0].content
