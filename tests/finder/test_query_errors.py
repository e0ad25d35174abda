"""Queries the finder refuses, with messages that say what is wrong."""

import pytest

from masterhall.finder import MAX_QUERY_CHARS, FinderQueryError


@pytest.mark.parametrize("query", ["", "   ", "\n\t "])
def test_empty(finder, query):
    with pytest.raises(FinderQueryError, match="empty"):
        finder.match(query)


def test_too_long(finder):
    with pytest.raises(FinderQueryError, match=r"too long: 10,001 characters \(at most 10,000\)"):
        finder.match("x" * (MAX_QUERY_CHARS + 1))


def test_longest_allowed_query_works(finder):
    query = ("I can't sleep at night. " * 500)[:MAX_QUERY_CHARS]
    assert finder.match(query, k=1)[0].master_id == "sleep-coach"


@pytest.mark.parametrize("query", ["hello\x00world", "sleep\x1b[31m", "bad\ufffdbytes", "\x07"])
def test_control_characters(finder, query):
    with pytest.raises(FinderQueryError, match="binary or control characters"):
        finder.match(query)


def test_binary_bytes_and_non_text(finder):
    with pytest.raises(FinderQueryError, match="binary data, not UTF-8 text"):
        finder.match(b"\xff\xfe\x00\x81")
    with pytest.raises(FinderQueryError, match="must be text"):
        finder.match(12345)  # type: ignore[arg-type]
    assert finder.match("insomnia".encode(), k=1)[0].master_id == "sleep-coach"


def test_is_a_value_error_and_other_arguments_are_checked(finder):
    assert issubclass(FinderQueryError, ValueError)
    with pytest.raises(ValueError, match="k must be"):
        finder.match("sleep", k=0)
    with pytest.raises(FinderQueryError, match="Unknown language 'fr'"):
        finder.match("sleep", lang="fr")


def test_newlines_and_tabs_are_fine(finder):
    assert finder.match("I can't sleep\nat night\tat all", k=1)[0].master_id == "sleep-coach"
