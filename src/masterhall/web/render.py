"""Markdown to safe HTML: markdown-it-py renders, nh3 (ammonia) sanitizes.

Raw HTML in the source is never passed through (markdown-it's ``html`` option is off, so it is
escaped as text), and nh3 removes anything that is not plain formatting — no script, no event
handler, no ``javascript:`` link can come from a model's or a user's text.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}


class MarkdownRenderer:
    """Render Markdown (CommonMark + tables + strikethrough) to sanitized HTML."""

    def __init__(self) -> None:
        self._md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(["table", "strikethrough"])

    def __call__(self, text: str) -> str:
        """Sanitized HTML for ``text``; links get ``rel="noopener noreferrer nofollow"``."""
        html = self._md.render(text or "")
        return nh3.clean(
            html,
            tags=_ALLOWED_TAGS,
            attributes={"a": {"href", "title"}, "code": {"class"}, "th": {"align"}, "td": {"align"}},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )
