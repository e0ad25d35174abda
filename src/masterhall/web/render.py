"""Markdown to safe HTML: markdown-it-py renders, nh3 (ammonia) sanitizes.

Raw HTML in the source is never passed through (markdown-it's ``html`` option is off, so it is
escaped as text), and nh3 removes anything that is not plain formatting — no script, no event
handler, no ``javascript:`` link can come from a model's or a user's text.

Master ids: a link the text makes to a master's page (``/masters/<id>…``) stays a link only when
``<id>`` is a real master of the hall (else only its text is kept), and in a guide's answers
(``link_masters=True``) the real ids it names — ``sleep-coach``, ``(socrates)`` — become links to
their masters; an id-like word that is no master (``course-master``) stays plain text. So the
master-finder can never send anyone to a master that does not exist.
"""

from __future__ import annotations

import re
from typing import Callable, Collection

import nh3
from markdown_it import MarkdownIt

#: A link the sanitizer kept, with its target and text (nh3 writes ``href`` first).
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)
#: A path of the hall that names a master.
_MASTER_PATH = re.compile(r"^(?:https?://[^/]+)?/masters/([^/?#]+)")
#: An id-like word: lower-case words joined by hyphens (``sleep-coach``), or a lower-case word in
#: parentheses (``(socrates)``); a whole code span is also looked at.
_ID_WORD = re.compile(r"(?<![\w/.-])[a-z0-9]+(?:-[a-z0-9]+)+(?![\w/-])|(?<=\()[a-z][a-z0-9]+(?=\))")

_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}


class MarkdownRenderer:
    """Render Markdown (CommonMark + tables + strikethrough) to sanitized HTML.

    ``masters()`` returns the ids of the hall's masters now (default: none known, so no link to a
    master page survives).
    """

    def __init__(self, masters: Callable[[], Collection[str]] | None = None) -> None:
        self._md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(["table", "strikethrough"])
        self._masters = masters or (lambda: ())

    def __call__(self, text: str, *, link_masters: bool = False) -> str:
        """Sanitized HTML for ``text``; links get ``rel="noopener noreferrer nofollow"``; links to
        unknown masters are dropped and, with ``link_masters``, real master ids are linked (see
        the module docstring)."""
        known = self._masters()
        html = _master_links(self._clean(text), known)
        return _link_ids(html, known) if link_masters else html

    def _clean(self, text: str) -> str:
        html = self._md.render(text or "")
        return nh3.clean(
            html,
            tags=_ALLOWED_TAGS,
            attributes={"a": {"href", "title"}, "code": {"class"}, "th": {"align"}, "td": {"align"}},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )


def _master_links(html: str, known: Collection[str]) -> str:
    """``html`` with every link to the page of a master not in ``known`` replaced by its text."""

    def keep(link: re.Match) -> str:
        target = _MASTER_PATH.match(link.group(1))
        return link.group(0) if target is None or target.group(1) in known else link.group(2)

    return _LINK.sub(keep, html)


def _link_ids(html: str, known: Collection[str]) -> str:
    """``html`` with the real master ids it names (outside links) linked to their pages."""
    parts = re.split(r"(<a\b.*?</a>|<[^>]+>)", html, flags=re.S)
    out = []
    for i, part in enumerate(parts):
        if part.startswith("<") or not part:
            out.append(part)
            continue
        before = parts[i - 1] if i else ""

        def link(found: re.Match) -> str:
            word = found.group(0)
            if word not in known:
                return word
            return f'<a class="master-link" href="/masters/{word}">{word}</a>'

        if before == "<code>" and part in known:  # a whole code span naming a master
            out.append(f'<a class="master-link" href="/masters/{part}">{part}</a>')
            continue
        out.append(_ID_WORD.sub(link, part))
    return "".join(out)
