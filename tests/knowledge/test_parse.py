"""Reading each knowledge format into positioned sections, and cutting them into chunks."""

from __future__ import annotations

import pytest

from masterhall.errors import InvalidRequestError
from masterhall.knowledge import Section, UnreadableFileError, chunk_sections, estimate_tokens, file_format, parse_file

from .helpers import docx_bytes, pdf_bytes


def test_plain_text_in_any_encoding():
    sections = parse_file("退款须在三十天内申请。\r\n\r\n\r\n\r\n运费不退。".encode("gb18030"), "policy.txt")
    assert sections == [Section("退款须在三十天内申请。\n\n运费不退。", "")]


def test_markdown_sections_carry_their_heading_path():
    md = "Intro line.\n\n# Setup\n\nRun the installer.\n\n## Install on Linux\n\nUse apt.\n\n# Usage\n\nType help.\n"
    sections = parse_file(md.encode(), "guide.md")
    assert [(s.position, s.text) for s in sections] == [
        ("", "Intro line."), ("Setup", "Run the installer."), ("Setup › Install on Linux", "Use apt."),
        ("Usage", "Type help.")]


def test_pdf_gives_one_section_per_page():
    sections = parse_file(pdf_bytes(["The warranty lasts two years.", "Returns need a receipt."]), "manual.pdf")
    assert [s.position for s in sections] == ["page 1", "page 2"]
    assert "warranty lasts two years" in sections[0].text and "receipt" in sections[1].text


def test_docx_headings_and_paragraphs():
    data = docx_bytes([("Heading 1", "Pricing"), ("", "The basic plan costs 10 euros."), ("Heading 2", "Discounts"),
                       ("", "Students get 50% off.")])
    sections = parse_file(data, "plans.docx")
    assert ("Pricing", "The basic plan costs 10 euros.") in [(s.position, s.text) for s in sections]
    assert ("Pricing › Discounts", "Students get 50% off.") in [(s.position, s.text) for s in sections]


def test_html_drops_scripts_and_navigation():
    html = ("<html><head><title>t</title><script>var secret=1</script></head><body><nav>Home | About</nav>"
            "<h1>Opening hours</h1><p>We open at <b>9</b> am.</p><ul><li>Closed on Sundays</li></ul>"
            "<h2>Holidays</h2><p>Closed on 1 May.</p></body></html>")
    sections = parse_file(html.encode(), "hours.html")
    text = " ".join(s.text for s in sections)
    assert "secret" not in text and "Home | About" not in text
    assert ("Opening hours", "We open at 9 am.\nClosed on Sundays") in [(s.position, s.text) for s in sections]
    assert ("Opening hours › Holidays", "Closed on 1 May.") in [(s.position, s.text) for s in sections]


def test_formats_by_extension_or_type_and_refusals():
    assert file_format("A.PDF") == "pdf" and file_format("x", "text/markdown; charset=utf-8") == "markdown"
    assert file_format("photo.png", "image/png") is None
    with pytest.raises(InvalidRequestError) as exc:
        parse_file(b"\x89PNG", "photo.png")
    assert exc.value.code == "unsupported_format"
    with pytest.raises(UnreadableFileError, match="broken.pdf"):
        parse_file(b"%PDF-1.4 this is not a pdf", "broken.pdf")
    with pytest.raises(UnreadableFileError):
        parse_file(b"not a zip", "broken.docx")


def test_chunks_fit_the_size_keep_paragraphs_and_positions():
    para = "Short paragraph one."
    long_en = " ".join(f"Sentence number {i} says something useful." for i in range(60))
    long_zh = "。".join(f"第{i}条规定说明了一件重要的事情" for i in range(60)) + "。"
    chunks = chunk_sections([Section(f"{para}\n\n{long_en}", "page 1"), Section(long_zh, "规定")], size=80)
    assert chunks[0].text.startswith(para) and chunks[0].position == "page 1"
    assert all(estimate_tokens(c.text) <= 80 for c in chunks)
    assert {c.position for c in chunks} == {"page 1", "规定"}
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    # Nothing is lost: every sentence is in some chunk.
    joined = "\n".join(c.text for c in chunks)
    assert all(f"Sentence number {i} " in joined for i in range(60))
    assert all(f"第{i}条" in joined for i in range(60))


def test_a_sentence_longer_than_a_chunk_is_cut():
    chunks = chunk_sections([Section("word " * 500)], size=50)
    assert len(chunks) > 5 and all(estimate_tokens(c.text) <= 50 for c in chunks)
    with pytest.raises(ValueError):
        chunk_sections([Section("x")], size=2)


@pytest.mark.parametrize("data", [b"question,answer\nhi\rthere,yes\n", b"question,answer\n\"open quote,never closed\n",
                                  b'question,answer\n"a\r\nb",c\n', b"\xff\xfe\x00q"])
def test_q_and_a_files_that_are_odd_tables_are_read_or_refused_clearly(data):
    """A lone carriage return inside a field (a schema fuzz find), an open quote, a quoted line
    break, stray bytes: pairs, or an ``InvalidRequestError`` — never another exception."""
    from masterhall.errors import InvalidRequestError
    from masterhall.knowledge.qa import read_pairs

    try:
        pairs = read_pairs(data, "pairs.csv")
    except InvalidRequestError as exc:
        assert str(exc)
    else:
        assert pairs and all(p["question"] and p["answer"] for p in pairs)
