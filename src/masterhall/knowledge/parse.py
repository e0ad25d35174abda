"""Knowledge files as text sections with their position: TXT, Markdown, PDF, DOCX and HTML.

Each format is read with a well-kept library: Markdown with ``markdown-it-py`` (its heading
tokens), PDF with ``pypdf`` (one section per page), DOCX with ``python-docx`` (paragraphs, the
``Heading n`` styles and tables), HTML with ``beautifulsoup4`` on Python's own parser (scripts,
styles and navigation dropped, ``h1``–``h6`` as headings). Plain text is decoded like every text
import (a byte-order mark, else UTF-8, else the most likely encoding: see
:func:`masterhall.interop.source.decode`).

A :class:`Section` is a stretch of text and where it is: ``page 3`` for a PDF, the heading path
(``Setup › Install``) for Markdown, DOCX and HTML, empty for plain text.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from ..errors import InvalidRequestError
from ..interop.errors import InteropError
from ..interop.source import decode_text

#: Formats by file extension.
FORMATS = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".pdf": "pdf",
           ".docx": "docx", ".html": "html", ".htm": "html"}
#: Formats by content type, for files without a known extension.
_TYPES = {"text/plain": "text", "text/markdown": "markdown", "application/pdf": "pdf", "text/html": "html",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx"}
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


class UnreadableFileError(InvalidRequestError):
    """A knowledge file in a supported format that cannot be read (a broken PDF, a DOCX that is
    not a zip …); the message says which file and why."""

    code = "unreadable_file"


@dataclass(frozen=True)
class Section:
    """Text of one part of a file: ``position`` is ``page N``, a heading path, or ``""``."""

    text: str
    position: str = ""


def file_format(filename: str, content_type: str | None = None) -> str | None:
    """``text``, ``markdown``, ``pdf``, ``docx`` or ``html`` for a file name (its extension first,
    then its content type), or ``None`` for a format the knowledge index does not read."""
    fmt = FORMATS.get(PurePosixPath(filename.lower()).suffix)
    return fmt or _TYPES.get((content_type or "").split(";")[0].strip().lower())


def clean(text: str) -> str:
    """Runs of spaces as one space, at most one blank line in a row, lines stripped."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def parse_file(data: bytes, filename: str, content_type: str | None = None) -> list[Section]:
    """The sections of a knowledge file (empty ones left out).

    Raises :class:`UnreadableFileError` for a file that cannot be read in its format, and
    :class:`~masterhall.errors.InvalidRequestError` (``unsupported_format``) for a format this
    module does not read (see :data:`FORMATS`).
    """
    fmt = file_format(filename, content_type)
    if fmt is None:
        raise InvalidRequestError(f"{filename}: only TXT, Markdown, PDF, DOCX and HTML files are read as knowledge",
                                  code="unsupported_format")
    try:
        sections = _READERS[fmt](data)
    except InvalidRequestError:
        raise
    except Exception as exc:  # noqa: BLE001 - each library raises its own errors for broken files
        raise UnreadableFileError(f"{filename} cannot be read as {fmt.upper()}: {exc}") from exc
    return [Section(clean(s.text), s.position) for s in sections if clean(s.text)]


def _text(data: bytes) -> str:
    try:
        return decode_text(data)
    except InteropError as exc:
        raise UnreadableFileError(str(exc)) from exc


def read_text(data: bytes) -> list[Section]:
    """Plain text: one section."""
    return [Section(_text(data))]


def _heading_path(stack: list[tuple[int, str]]) -> str:
    return " › ".join(title for _, title in stack)


def _push(stack: list[tuple[int, str]], level: int, title: str) -> None:
    while stack and stack[-1][0] >= level:
        stack.pop()
    stack.append((level, title))


def read_markdown(data: bytes) -> list[Section]:
    """Markdown: a section per heading, positioned by its heading path."""
    from markdown_it import MarkdownIt

    source = _text(data)
    lines = source.splitlines()
    tokens = MarkdownIt("commonmark").parse(source)
    heads = [(t.map[0], int(t.tag[1]), tokens[i + 1].content) for i, t in enumerate(tokens)
             if t.type == "heading_open" and t.map]
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    start = 0
    for line, level, title in heads:
        sections.append(Section("\n".join(lines[start:line]), _heading_path(stack)))
        _push(stack, level, title.strip())
        start = line + 1
    sections.append(Section("\n".join(lines[start:]), _heading_path(stack)))
    return sections


def read_pdf(data: bytes) -> list[Section]:
    """PDF: one section per page (``page 1`` …); a page without a text layer is empty."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [Section(page.extract_text() or "", f"page {n}") for n, page in enumerate(reader.pages, 1)]


def read_docx(data: bytes) -> list[Section]:
    """DOCX: a section per heading (``Heading 1`` … styles, ``Title``), tables as tab-separated rows."""
    import docx

    document = docx.Document(io.BytesIO(data))
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = 0
        if style == "Title":
            level = 1
        elif style.startswith("Heading ") and style[8:].isdigit():
            level = int(style[8:])
        if level and paragraph.text.strip():
            sections.append(Section("\n".join(lines), _heading_path(stack)))
            lines = []
            _push(stack, level, paragraph.text.strip())
        else:
            lines.append(paragraph.text)
    sections.append(Section("\n".join(lines), _heading_path(stack)))
    for table in document.tables:
        rows = ["\t".join(cell.text for cell in row.cells) for row in table.rows]
        sections.append(Section("\n".join(rows), "table"))
    return sections


_BLOCKS = ("p", "li", "pre", "blockquote", "td", "th", "dd", "dt", "figcaption")


def read_html(data: bytes) -> list[Section]:
    """HTML: a section per heading (``h1``–``h6``); scripts, styles, navigation and forms dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "form", "template", "svg", "head"]):
        tag.decompose()
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", *_BLOCKS]):
        if tag.name in _BLOCKS and tag.find_parent(_BLOCKS) is not None:
            continue  # its text is read with the enclosing block
        text = tag.get_text(" ", strip=True)
        if tag.name[0] == "h" and tag.name[1:].isdigit():
            sections.append(Section("\n".join(lines), _heading_path(stack)))
            lines = []
            if text:
                _push(stack, int(tag.name[1]), text)
        elif text:
            lines.append(text)
    sections.append(Section("\n".join(lines), _heading_path(stack)))
    if not any(s.text.strip() for s in sections):  # no block elements: the page's bare text
        body = soup.body or soup
        sections = [Section(body.get_text("\n", strip=True))]
    return sections


_READERS = {"text": read_text, "markdown": read_markdown, "pdf": read_pdf, "docx": read_docx, "html": read_html}
