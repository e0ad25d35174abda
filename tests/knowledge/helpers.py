"""Knowledge files made in the test (no fixtures on disk): PDF, DOCX, HTML, Markdown; and a
small deterministic encoder that counts what it embeds."""

from __future__ import annotations

import hashlib
import io

import numpy as np

from masterhall.finder.text import tokenize


def pdf_bytes(pages: list[str]) -> bytes:
    """A minimal valid PDF (Helvetica text, one line per page) with a correct cross-reference table."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def docx_bytes(blocks: list[tuple[str, str]]) -> bytes:
    """A DOCX of ``(style, text)`` paragraphs (``"Heading 1"``, ``""`` for body text)."""
    import docx

    document = docx.Document()
    for style, text in blocks:
        if style.startswith("Heading"):
            document.add_heading(text, level=int(style.split()[-1]))
        else:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class CountingEncoder:
    """Hashed bag of search terms, 64-d, unit rows; ``encoded`` counts the document texts embedded."""

    name = "counting-test-1"
    dim = 64

    def __init__(self):
        self.encoded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        for term in tokenize(text):
            v[int(hashlib.md5(term.encode()).hexdigest(), 16) % self.dim] += 1
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def encode_documents(self, texts):
        self.encoded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_query(self, text):
        return self._vec(text)
