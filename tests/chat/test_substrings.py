"""The copy watch on a substring index gives exactly what it gives by searching the sources."""

from __future__ import annotations

import random
import time

from masterhall.chat.checks import EchoWatch
from masterhall.chat.substrings import SubstringIndex, index_for


def _longest_suffix(text: str, sources: list[str]) -> int:
    for size in range(len(text), 0, -1):
        if any(text[-size:] in s for s in sources):
            return size
    return 0


def test_each_step_is_the_longest_suffix_found_in_the_chosen_texts():
    rng = random.Random(7)
    for _ in range(200):
        texts = ["".join(rng.choice("abc") for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 5))]
        index = SubstringIndex(texts)
        chosen = [t for t in texts if rng.random() < 0.6]
        mask = index.mask_of(chosen)
        state = size = 0
        text = ""
        for c in "".join(rng.choice("abcd") for _ in range(30)):
            text += c
            state, size = index.step(state, size, c, mask)
            assert size == _longest_suffix(text, [t for t in chosen if t]), (texts, chosen, text)


def test_a_text_not_indexed_has_no_mask():
    index = SubstringIndex(["one", "two"])
    assert index.mask_of(["one", ""]) is not None and index.mask_of(["three"]) is None


def _watch(sources: list[str], deltas: list[str], index: SubstringIndex | None, **kw) -> tuple:
    watch = EchoWatch(sources, index=index, **kw)
    shown = [watch.feed(d) for d in deltas]
    if len(deltas) > 3:  # resume half-way, as after a regeneration
        watch.resume(watch.shown)
        shown += [watch.feed(d) for d in deltas[:3]]
    return shown, watch.flush(), watch.echo, watch.text, watch.released


def test_the_watch_on_an_index_matches_the_watch_that_searches():
    rng = random.Random(11)
    words = ["the ", "you ", "sleep ", "先从", "一个", "小改变", "开始", "：", "night ", "is ", "a ", "\u0000", "very "]
    for _ in range(400):
        sources = ["".join(rng.choice(words) for _ in range(rng.randint(0, 14))) for _ in range(rng.randint(1, 5))]
        extra = ["".join(rng.choice(words) for _ in range(rng.randint(0, 14))) for _ in range(rng.randint(0, 3))]
        index = SubstringIndex(sources + extra)  # texts the turn does not show count for nothing
        answer = "".join(rng.choice(words) for _ in range(rng.randint(1, 25)))
        if rng.random() < 0.5 and sources[0]:
            cut = rng.randint(0, len(sources[0]))
            answer += sources[0][cut:]  # copy part of a source
        cuts = sorted(rng.sample(range(1, len(answer)), min(len(answer) - 1, rng.randint(0, 12)))) if len(answer) > 1 else []
        deltas = [answer[i:j] for i, j in zip([0] + cuts, cuts + [len(answer)])]
        kw = rng.choice([{}, {"min_chars": 10, "min_han": 6}])
        assert _watch(sources, deltas, index, **kw) == _watch(sources, deltas, None, **kw), (sources, deltas)


def test_indexes_are_kept_per_set_of_texts():
    assert index_for(["a", "b"]) is index_for(["a", "b"]) and index_for(["a", "b"]) is not index_for(["a"])


def test_a_turn_does_not_wait_for_an_index_it_is_built_aside():
    texts = ["built aside", "for a later turn"]
    assert index_for(texts, wait=False) is None  # not built yet: the turn searches the texts instead
    for _ in range(2000):  # wait for the condition (the build takes milliseconds), not for a fixed time
        index = index_for(texts, wait=False)
        if index is not None:
            break
        time.sleep(0.005)
    assert index is not None and index is index_for(texts)


def test_texts_too_long_get_no_index():
    from masterhall.chat.substrings import MAX_INDEX_CHARS

    assert index_for(["x" * (MAX_INDEX_CHARS + 1)]) is None and index_for(["x" * 10]) is not None


def test_the_index_cache_holds_every_built_in_master_and_drops_by_characters(monkeypatch, catalog):
    from masterhall.chat import substrings
    from masterhall.chat.stream_checks import source_texts

    total = sum(sum(map(len, source_texts(m))) for m in catalog.masters.values())
    assert total < substrings.CACHE_CHARS  # a hall in use does not rebuild indexes it dropped
    monkeypatch.setattr(substrings, "_cache", substrings.OrderedDict())
    monkeypatch.setattr(substrings, "CACHE_CHARS", 25)
    for word in ("alpha-beta", "gamma-delta", "epsilon-zz"):  # 10 or 11 characters each
        index_for([word])
    assert list(substrings._cache) == [("gamma-delta",), ("epsilon-zz",)]
    index_for(["x" * 40])  # over the budget alone: kept, the others dropped
    assert list(substrings._cache) == [("x" * 40,)]
