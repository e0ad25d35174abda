"""What the finder reads of a master, and how text is cut into search terms.

* :func:`profile_text` — one passage per master and language (names, tagline, description,
  tags, conversation starters) for the sentence encoder that reads whole passages (USE).
* :func:`profile_units` — the short texts (tags, starters) whose embeddings are averaged into
  the other encoder's vector (e5 reads short texts better than one long passage; measured on
  the catalog, see ``bench/README.md``).
* :func:`lexical_tokens` and :func:`tokenize` — the BM25 document of a master (both languages;
  names and tags repeated, a cheap field weighting in the spirit of BM25F, Robertson et al. 2004)
  and the tokenizer: English words (lower-cased, NFKC, light suffix stripping, stop words
  dropped), Chinese as single characters plus character bigrams (the usual dictionary-free
  segmentation for Chinese retrieval, e.g. Kwok 1997), minus very common function words.
* :func:`compact` / :func:`spaced` — normalised forms for exact look-ups (see :mod:`.names`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata

from ..catalog.models import Master

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[a-z0-9][a-z0-9+#]*(?:[-'’][a-z0-9+#]+)*|[{_CJK}]+")
_HAS_CJK = re.compile(rf"[{_CJK}]")
_NON_WORD = re.compile(rf"[^a-z0-9+#{_CJK}]+")
_PARTS = re.compile(r"[-']")
_VOWEL = re.compile(r"[aeiouy]")

# Function words and everyday filler that say nothing about a need (own list).
EN_STOP = frozenset(
    """
    a an the and or but if of to in on at for with by from as into onto over under about than then
    so too very just also only even still yet ever never always again really quite much many more
    most some any all each every other such own same both either neither no nor not
    i me my mine myself we us our ours you your yours he him his she her hers it its they them
    their theirs this that these those there here what which who whom whose why when where how
    is am are was were be been being do does did done doing have has had having can could shall
    should will would may might must let lets
    i'm i've i'd i'll you're it's that's don't doesn't didn't can't won't isn't aren't wasn't
    s t d ll m re ve
    get gets got getting make makes made making want wants wanted know knows knew feel feels felt
    keep keeps kept like need needs help please tell told say said think thought try tried
    go goes went going come came thing things something anything everything someone anyone
    everyone way lot bit one two because though while since until after before out up down off
    well good right now new old first last next back around
    """.split()
)
ZH_STOP_CHARS = frozenset("的了是我你他她它们在和就都也很还又吗呢吧啊么这那有个一不会要说得着过把被让给与及或而")
ZH_STOP_BIGRAMS = frozenset(
    """
    觉得 自己 什么 怎么 怎样 如何 为什么 一个 没有 不知 知道 可以 这个 那个 就是 还是 但是 因为
    所以 总是 一直 现在 时候 感觉 真的 应该 需要 想要 事情 问题 我们 他们 你们 有点 一点 好像 特别
    非常 已经 然后 还有 不是 这样 那样 能不 是不 有没 到底 一下 最近 每天 帮我 告诉 我的 你的 我想
    我要 我该 我们 一些 有些 怎么 么办 出来 起来 下来 不了 的时 时候 候我 我就 我也 我都 也不 都不
    """.split()
)


def normalize(text: str) -> str:
    """NFKC-fold and lower-case ``text`` (full-width ``ＣＢＴ`` becomes ``cbt``)."""
    return unicodedata.normalize("NFKC", text).lower()


@functools.lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    """Strip common English inflections (own light stemmer, after step 1 of Porter 1980).

    Memoised: words repeat a lot (Zipf), and stemming is the tokenizer's costliest step."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ation", "ating", "ated", "ate"):  # rumination / ruminating / ruminate
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and _VOWEL.search(stem):
            if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                stem = stem[:-1]  # running -> run
            return stem
    return word


def tokenize(text: str) -> list[str]:
    """Search terms of ``text`` for BM25, in order (repeats kept: they are term frequencies).

    ``"I can't sleep, 半夜醒来"`` → ``["sleep", "半", "夜", "醒", "来", "半夜", "夜醒", "醒来"]``.
    A hyphenated word gives the compound and its parts (``cbt-i`` → ``cbt-i``, ``cbt``).
    """
    out: list[str] = []
    for run in _TOKEN_RE.findall(normalize(text)):
        if run[0] >= "\u3400":  # CJK run: characters and bigrams
            out += [c for c in run if c not in ZH_STOP_CHARS]
            if len(run) > 1:
                out += [b for b in [run[i : i + 2] for i in range(len(run) - 1)] if b not in ZH_STOP_BIGRAMS]
            continue
        if run in EN_STOP:
            continue
        if "-" in run or "'" in run or "’" in run:
            run = run.replace("’", "'")
            out.append(run)
            out += [_stem(p) for p in _PARTS.split(run) if p and p not in EN_STOP]
        else:
            out.append(_stem(run))
    return out


def _join(items: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def profile_text(master: Master, lang: str) -> str:
    """The passage that stands for ``master`` in ``lang``: names, tagline, description, tags, starters."""
    end = "。" if lang == "zh" else "."
    return " ".join(
        [
            f"{master.name.get(lang)}: {master.tagline.get(lang)}{end}",
            master.description.get(lang),
            _join(master.tags.get(lang), lang) + end,
            " ".join(master.starters.get(lang)),
        ]
    )


def profile_units(master: Master, lang: str) -> tuple[list[str], list[str]]:
    """The master's tags and conversation starters in ``lang`` (what people come to it for)."""
    return list(master.tags.get(lang)), list(master.starters.get(lang))


def lexical_tokens(master: Master) -> list[str]:
    """The BM25 document of ``master`` as terms: both languages; names ×3 and tags ×2 weigh more.

    Each part is tokenized once and repeated (same terms as tokenizing the repeated text)."""
    terms = tokenize(master.id.replace("-", " "))
    for lang in ("zh", "en"):
        terms += tokenize(master.name.get(lang)) * 3
        terms += tokenize(master.tagline.get(lang)) + tokenize(master.description.get(lang))
        terms += tokenize("\n".join(master.tags.get(lang))) * 2
        terms += tokenize("\n".join(master.starters.get(lang)))
    return terms


def compact(text: str) -> str:
    """``text`` normalised for exact comparison: lower-case, NFKC, no spaces or punctuation."""
    return _NON_WORD.sub("", normalize(text))


def spaced(text: str) -> str:
    """``text`` normalised for whole-word search: punctuation becomes single spaces, padded."""
    return " " + _NON_WORD.sub(" ", normalize(text)).strip() + " "


def fingerprint(*parts: object) -> str:
    """A 128-bit hex digest (sha256, truncated) of ``parts`` rendered as JSON; cache keys use it."""
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
