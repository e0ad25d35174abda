"""Help answers: the person's language, the operator's region, a kind-specific opening."""

import pytest

from masterhall import BackendRegistry, ChatEngine, FakeBackend, load_settings
from masterhall.safety import REGIONS, help_answer, resolve_region


def test_region_choice():
    assert resolve_region(None, "zh") == "CN" and resolve_region(None, "en") == "US"
    assert resolve_region("uk", "zh") == "UK" and resolve_region("GB", "en") == "UK"
    assert resolve_region("ie", "en") == "IE" and resolve_region("FR", "en") == "OTHER"


@pytest.mark.parametrize(
    ("region", "must"),
    [("CN", ["12356", "110", "120"]), ("US", ["988", "911"]), ("UK", ["116 123", "999"]), ("IE", ["116 123", "112"]),
     ("OTHER", ["findahelpline.com", "112"])],
)
def test_each_region_names_its_lines_in_both_languages(region, must):
    for lang in ("zh", "en"):
        text = help_answer("suicide", lang, region, "seed")
        for number in must:
            assert number in text, (region, lang, number)
    assert set(REGIONS) == {"CN", "US", "UK", "IE", "OTHER"}


def test_language_kind_and_variants():
    zh = help_answer("abuse", "zh", "CN")
    assert "12338" in zh and "不是你的错" in zh
    assert "1-800-799-7233" in help_answer("abuse", "en", "US")
    assert "RAINN" in help_answer("sexual_violence", "en", "US")
    assert help_answer("medical", "en", "UK").startswith("This sounds like an emergency")
    openings = {help_answer("suicide", "en", "US", f"message {i}").split("\n")[0] for i in range(30)}
    assert len(openings) == 3  # a few variants, not one formula


def test_configured_region_reaches_the_answer(catalog, monkeypatch):
    monkeypatch.setenv("MASTERHALL_CRISIS_REGION", "UK")
    settings = load_settings(backend="fake")
    assert settings.crisis_region == "UK"
    registry = BackendRegistry(settings)
    registry.register(FakeBackend("fake"))
    reply = ChatEngine(catalog, registry).stream("socrates", [], "I want to kill myself").collect()
    assert "116 123" in reply.text and "988" not in reply.text
    assert reply.safety["region"] == "UK" and reply.safety["rule"].startswith("en.suicide")
