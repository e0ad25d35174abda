import re
from pathlib import Path

import pytest
import yaml

from masterhall.catalog import CATEGORY_IDS, CatalogError, UnknownMasterError, load_catalog, load_master_file

# The fixed ids of catalog-spec.md, by category.
SPEC = {
    "tech": ["alan-turing", "grace-hopper", "python-mentor", "software-architect", "data-scientist", "security-expert"],
    "productivity": ["peter-drucker", "benjamin-franklin", "seneca", "gtd-coach", "focus-coach", "eisenhower"],
    "psychology": ["aaron-beck", "carl-rogers", "viktor-frankl", "alfred-adler", "carl-jung", "sleep-coach"],
    "life": ["su-dongpo", "fitness-coach", "nutritionist", "xu-xiake", "parenting-advisor", "home-organizer"],
    "writing": ["chinese-writing", "lu-xun", "li-bai", "copywriter", "academic-writing", "story-coach"],
    "philosophy": ["socrates", "confucius", "laozi", "zhuangzi", "wang-yangming", "marcus-aurelius"],
    "business": ["career-coach", "negotiation-master", "marketing-master", "benjamin-graham", "startup-mentor", "interview-coach"],
}
SPEC_FILE = Path(__file__).resolve().parents[3] / "shared" / "catalog-spec.md"


def test_exactly_42_masters_7_by_6(catalog):
    advisors = catalog.advisors()
    assert len(advisors) == 42
    assert tuple(SPEC) == CATEGORY_IDS
    for category, ids in SPEC.items():
        assert sorted(m.id for m in catalog.advisors(category)) == sorted(ids), category


def test_master_finder_guide_present(catalog):
    guide = catalog.get("master-finder")
    assert guide.is_guide
    assert (guide.name.zh, guide.name.en) == ("大师向导", "Master Finder")
    assert len(catalog) == 43


@pytest.mark.skipif(not SPEC_FILE.is_file(), reason="shared/catalog-spec.md not beside the checkout")
def test_ids_and_names_match_the_spec_table(catalog):
    rows = re.findall(r"^\| [a-z]+(?: · [^|]+)? \| ([a-z0-9-]+) \| ([^|]+) \| ([^|]+) \|", SPEC_FILE.read_text(), re.M)
    assert len(rows) == 42
    for master_id, zh, en in rows:
        m = catalog.get(master_id)
        assert (m.name.zh, m.name.en) == (zh.strip(), en.strip())


def test_every_field_in_both_languages(catalog):
    for m in catalog:
        for field in ("name", "tagline", "description", "greeting"):
            value = getattr(m, field)
            assert value.zh.strip() and value.en.strip(), (m.id, field)
            assert re.search(r"[\u4e00-\u9fff]", value.zh), (m.id, field, "zh text has no Chinese")
        assert 3 <= len(m.starters.zh) <= 4 and 3 <= len(m.starters.en) <= 4, m.id
        assert len(m.tags.zh) >= 5 and len(m.tags.en) >= 5, m.id
        assert m.examples, m.id
        assert m.avatar
        assert "language" in m.instructions.lower(), (m.id, "no language rule")


def test_safety_duties_where_the_spec_asks(catalog):
    must = {m.id for m in catalog.advisors("psychology")} | {m.id for m in catalog.advisors("life")} | {"benjamin-graham"}
    for master_id in must:
        m = catalog.get(master_id)
        text = m.instructions.lower()
        assert m.safety_duty, master_id
        assert "emergency" in text and "professional" in text, master_id
    for master_id in ("fitness-coach", "nutritionist", "sleep-coach", "aaron-beck"):
        assert "diagnosis" in catalog.get(master_id).instructions.lower(), master_id
    assert "guarantee" in catalog.get("benjamin-graham").instructions.lower()


def _write(tmp_path, category, master_id, data):
    folder = tmp_path / category
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{master_id}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_validation_error_names_file_and_field(tmp_path, catalog):
    data = catalog.get("socrates").model_dump()
    data["starters"]["en"] = ["only one"]
    path = _write(tmp_path, "philosophy", "socrates", data)
    with pytest.raises(CatalogError) as info:
        load_master_file(path)
    message = str(info.value)
    assert str(path) in message
    assert "starters.en" in message
    assert "at least 3" in message


def test_unknown_field_and_wrong_folder_are_rejected(tmp_path, catalog):
    data = catalog.get("socrates").model_dump()
    data["persona"] = "extra"
    with pytest.raises(CatalogError, match="persona"):
        load_master_file(_write(tmp_path, "philosophy", "socrates", data))
    data.pop("persona")
    _write(tmp_path / "two", "tech", "socrates", data)
    with pytest.raises(CatalogError, match="folder 'tech'"):
        load_catalog(tmp_path / "two")


def test_safety_duty_requires_safety_section(tmp_path, catalog):
    data = catalog.get("carl-rogers").model_dump()
    data["instructions"] = "You listen. " * 10
    with pytest.raises(CatalogError, match="Safety"):
        load_master_file(_write(tmp_path, "psychology", "carl-rogers", data))


def test_bad_yaml_is_a_clear_error(tmp_path):
    path = tmp_path / "tech" / "x.yaml"
    path.parent.mkdir()
    path.write_text("id: [unclosed")
    with pytest.raises(CatalogError, match="cannot read YAML"):
        load_master_file(path)


def test_unknown_master_suggests_closest(catalog):
    with pytest.raises(UnknownMasterError) as info:
        catalog.get("socretes")
    assert info.value.suggestions[0] == "socrates"
    assert "Did you mean: socrates" in str(info.value)
    assert "carl-jung" in catalog.suggest("jung")
