"""Checks on answers that do not need a reader: format compliance and identity slips.

- ``items``: a request for N things ("three tips", "列出5个") is met when the answer's top-level
  list has exactly N items (numbered ``1.`` / ``1)`` / ``1、``, bulleted ``-`` / ``*`` / ``•``,
  or Chinese ``一、二、三、`` / ``第一…第二…``).
- ``poem``: a 绝句 of N characters a line is met when four consecutive lines (split at line
  breaks and at ，。！？；) have exactly N Han characters each.
- ``ends_with_question``: the last sentence is a question (``?`` or ``？``).
- identity slips: the model naming itself ("I am Qwen", "as an AI language model", "我是通义千问",
  "作为一个人工智能语言模型") instead of speaking as the master.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_NUMBERED = re.compile(r"^\s{0,1}(?:\*\*)?(\d{1,2})[.)、．](?!\d)")
_BULLET = re.compile(r"^\s{0,1}[-*•·]\s+\S")
_ZH_ORDINAL_LINE = re.compile(r"^\s{0,1}(?:\*\*)?([一二三四五六七八九十])[、.．]")
_ZH_DI = re.compile(r"第([一二三四五六七八九十])[，,、：:点条步个]")
_ZH_NUM = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_SEGMENT = re.compile(r"[，。！？；,.!?;\n]+")
_QUESTION_END = re.compile(r"[?？][\s\"'”’」』)）*_~`🙂-🫶]*$")

IDENTITY_SLIP = re.compile(
    r"\bI(?:'m| am) (?:Qwen|ChatGPT|Claude|an AI (?:language )?model|a (?:large )?language model)\b"
    r"|\bas an AI(?: language model| assistant)?\b|\bcreated by Alibaba\b|\bAlibaba Cloud\b"
    r"|通义千问|阿里云|我是(?:一个|一名)?(?:AI|人工智能)(?:语言模型|助手|模型)"
    r"|作为(?:一个|一名)?(?:AI|人工智能)(?:语言模型|助手|模型)?",
    re.I,
)


@dataclass(frozen=True)
class FormatCheck:
    """The outcome of one format check: ``ok`` and what was found (``detail``)."""

    kind: str
    ok: bool
    detail: str


def count_items(text: str) -> int:
    """Top-level items of the answer's list (the largest of numbered, bulleted and Chinese ordinals)."""
    lines = text.splitlines()
    numbered = [int(m.group(1)) for line in lines if (m := _NUMBERED.match(line))]
    # A list restarts at 1: count the longest run 1, 2, 3 … (sub-lists and dates do not inflate it).
    best = run = 0
    for n in numbered:
        run = run + 1 if n == run + 1 else (1 if n == 1 else run)
        best = max(best, run)
    bullets = sum(1 for line in lines if _BULLET.match(line))
    zh_lines = [_ZH_NUM[m.group(1)] for line in lines if (m := _ZH_ORDINAL_LINE.match(line))]
    zh_di = {_ZH_NUM[m] for m in _ZH_DI.findall(text)}
    return max(best, bullets, len(zh_lines), len(zh_di) if zh_di == set(range(1, len(zh_di) + 1)) else 0)


def poem_lines(text: str) -> list[int]:
    """Han characters per verse segment (text split at line breaks and ，。！？；)."""
    segments = [s for s in _SEGMENT.split(text) if s.strip()]
    return [len(_HAN.findall(s)) for s in segments if _HAN.search(s) and not s.strip().startswith(("《", "【", "#"))]


def check_poem(text: str, chars: int, lines: int = 4) -> FormatCheck:
    """``lines`` consecutive verse segments of exactly ``chars`` Han characters each."""
    counts = poem_lines(text)
    run = best = 0
    for n in counts:
        run = run + 1 if n == chars else 0
        best = max(best, run)
    return FormatCheck("poem", best >= lines, f"{best} consecutive {chars}-character lines (segments: {counts[:12]})")


def ends_with_question(text: str) -> bool:
    """True when the answer's last sentence is a question."""
    return bool(_QUESTION_END.search(text.strip()))


def check_expect(text: str, expect: dict) -> list[FormatCheck]:
    """Every check an evaluation case's ``expect`` asks for (see the module docstring)."""
    checks: list[FormatCheck] = []
    if "items" in expect:
        found = count_items(text)
        checks.append(FormatCheck("items", found == int(expect["items"]), f"asked {expect['items']}, gave {found}"))
    if "poem" in expect:
        poem = expect["poem"] if isinstance(expect["poem"], dict) else {}
        chars = int(poem.get("chars") or expect.get("chars") or 7)
        checks.append(check_poem(text, chars, int(poem.get("lines", 4))))
    elif "chars" in expect:
        checks.append(check_poem(text, int(expect["chars"])))
    if expect.get("ends_with_question"):
        checks.append(FormatCheck("ends_with_question", ends_with_question(text), text.strip()[-40:]))
    return checks


def identity_slip(text: str) -> str | None:
    """The phrase where the model names itself instead of the master, or ``None``."""
    m = IDENTITY_SLIP.search(text)
    return m.group(0) if m else None
