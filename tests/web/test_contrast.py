"""Readable colours (issue 17, item 3): every text colour token of ``base.css`` against every
background token it is shown on reaches WCAG's 4.5:1 in the light and the dark scheme, and the
focus ring (the accent colour) reaches 3:1 against every background. Computed from the CSS
custom properties themselves, so a new token or a changed shade is checked without a browser."""

from __future__ import annotations

import re
from itertools import product
from pathlib import Path

import pytest

from masterhall.web import i18n

BASE_CSS = Path(i18n.__file__).parent / "static" / "css" / "base.css"
TEXT = ("--text", "--muted", "--accent", "--accent-strong", "--info", "--error", "--warn-text")
BACKGROUNDS = ("--bg", "--surface", "--surface-2", "--accent-soft", "--info-soft", "--error-soft", "--warn-soft")
#: (text, background) pairs of filled controls: primary and danger buttons, the user's bubble, Stop.
FILLED = (("--accent-text", "--accent"), ("--accent-text", "--accent-strong"), ("--user-text", "--user-bubble"),
          ("--bg", "--text"), ("--surface", "--error"))


def _tokens(block: str) -> dict[str, str]:
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", block))


def schemes() -> dict[str, dict[str, str]]:
    """``{"light": {token: "#rrggbb"}, "dark": {…}}``: the dark block overrides the light one."""
    css = BASE_CSS.read_text(encoding="utf-8")
    root = re.search(r"^:root \{(.*?)^\}", css, re.S | re.M).group(1)
    dark = re.search(r"@media \(prefers-color-scheme: dark\) \{\s*:root \{(.*?)\}", css, re.S).group(1)
    light = _tokens(root)
    return {"light": light, "dark": {**light, **_tokens(dark)}}


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb`` (0 black … 1 white)."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 … 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_contrast_formula():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey
    assert contrast("#6a6f76", "#f1eee8") < 4.5  # the muted grey of issue 17 on --surface-2


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_tokens_reach_4_5_to_1_on_every_background(scheme):
    colours = schemes()[scheme]
    assert set(TEXT + BACKGROUNDS) <= set(colours), "a token this test knows is gone from base.css"
    failing = {f"{fg} on {bg}": round(contrast(colours[fg], colours[bg]), 2)
               for fg, bg in [*product(TEXT, BACKGROUNDS), *FILLED] if contrast(colours[fg], colours[bg]) < 4.5}
    assert not failing, f"{scheme}: below 4.5:1: {failing}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_focus_ring_reaches_3_to_1_on_every_background(scheme):
    colours = schemes()[scheme]
    for bg in BACKGROUNDS:
        assert contrast(colours["--accent"], colours[bg]) >= 3, f"{scheme}: focus ring on {bg}"
