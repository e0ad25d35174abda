"""Adding, editing and removing masters is visible to the next query, without a restart."""

from masterhall import load_catalog

from .helpers import bonsai_master, tea_master

TEA_EN = "how long should I steep oolong tea leaves"
TEA_ZH = "普洱茶应该怎么泡"
BONSAI = "how do I prune my juniper bonsai"


def _ids(finder, query, k=3):
    return [m.master_id for m in finder.match(query, k=k)]


def test_added_master_is_found_then_removed(make_finder):
    finder = make_finder(load_catalog())
    assert "tea-master" not in _ids(finder, TEA_EN, k=42)
    assert finder.upsert(tea_master()) is True
    assert "tea-master" in finder and len(finder) == 43
    assert _ids(finder, TEA_EN)[0] == "tea-master"
    assert _ids(finder, TEA_ZH)[0] == "tea-master"
    assert finder.remove("tea-master") is True
    assert "tea-master" not in finder and len(finder) == 42
    assert "tea-master" not in _ids(finder, TEA_EN, k=42)
    assert finder.remove("tea-master") is False


def test_edited_master_is_reindexed_and_only_new_text_is_encoded(make_finder):
    finder = make_finder(load_catalog())
    finder.upsert(tea_master())
    assert _ids(finder, BONSAI)[0] != "tea-master"
    tea_score = finder.match(TEA_EN, k=1)[0].score
    before = finder.stats.encoded
    assert finder.upsert(tea_master()) is False  # unchanged: nothing to do
    assert finder.stats.encoded == before
    assert finder.upsert(bonsai_master()) is True  # same id, new content
    assert len(finder) == 43
    top = finder.match(BONSAI, k=1)[0]
    assert top.master_id == "tea-master" and top.name == "Bonsai Master"
    assert "bonsai" in top.reason.lower() and "tea" not in top.reason.lower()
    assert _ids(finder, "乌龙茶")[0] != "tea-master"  # an old tag no longer matches exactly
    edited = {m.master_id: m.score for m in finder.match(TEA_EN, k=43)}
    assert edited["tea-master"] < tea_score


def test_removing_a_middle_row_keeps_every_other_master_right(make_finder):
    catalog = load_catalog()
    finder = make_finder(catalog)
    last = finder.ids()[-1]
    assert finder.remove("socrates") is True
    assert "socrates" not in _ids(finder, "苏格拉底", k=41)
    assert finder.ids()[-1] != last and last in finder  # the last row moved into the hole
    assert _ids(finder, "苏格拉底")[0] != "socrates"
    assert _ids(finder, "I have a job interview tomorrow and need to practise answers")[0] == "interview-coach"
    assert _ids(finder, "GTD")[0] == "gtd-coach"


def test_guide_is_never_indexed(make_finder):
    catalog = load_catalog()
    finder = make_finder(catalog)
    assert "master-finder" not in finder
    assert finder.upsert(catalog.get("master-finder")) is False
    assert "master-finder" not in finder
