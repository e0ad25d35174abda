"""Curated Q&A pairs from a CSV or JSON-lines file.

Columns (CSV header or JSON keys, case-insensitive): ``question`` (or ``q``, ``问题``),
``answer`` (or ``a``, ``答案``, ``回答``), optionally ``title`` (or ``标题``). Text is decoded
like every import (:func:`masterhall.interop.source.decode`); a CSV's delimiter is told by
``csv.Sniffer`` among ``,``, ``;``, tab and ``|``. At most :data:`MAX_PAIRS` pairs.
"""

from __future__ import annotations

import csv
import io
import json

from ..errors import InvalidRequestError
from ..interop.errors import InteropError
from ..interop.source import decode_text

#: Most pairs one import may hold.
MAX_PAIRS = 5_000
#: Longest question or answer, in characters.
MAX_TEXT = 20_000
_QUESTION = ("question", "q", "问题", "prompt")
_ANSWER = ("answer", "a", "答案", "回答", "response")
_TITLE = ("title", "标题")


def _pick(record: dict, names: tuple[str, ...]) -> str:
    folded = {str(k).strip().lower(): v for k, v in record.items()}
    for name in names:
        value = folded.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def pair(question: str, answer: str, title: str = "") -> dict:
    """A Q&A entry dict (``kind="qa"``), checked: both texts present, each at most
    :data:`MAX_TEXT` characters. Raises :class:`~masterhall.errors.InvalidRequestError`."""
    question, answer, title = question.strip(), answer.strip(), title.strip()
    if not question or not answer:
        raise InvalidRequestError("a Q&A pair needs a question and an answer", code="invalid_pair")
    if max(len(question), len(answer), len(title)) > MAX_TEXT:
        raise InvalidRequestError(f"questions, answers and titles are limited to {MAX_TEXT:,} characters", code="invalid_pair")
    return {"kind": "qa", "title": title, "question": question, "answer": answer}


def read_pairs(data: bytes, filename: str = "") -> list[dict]:
    """The Q&A pairs of a CSV or JSON-lines file (a ``.jsonl``/``.json`` name, or content that
    starts with ``{``, is read as JSON lines). Raises
    :class:`~masterhall.errors.InvalidRequestError` (``invalid_file``) naming the line at fault."""
    try:
        text = decode_text(data).lstrip("\ufeff")
    except InteropError as exc:
        raise InvalidRequestError(str(exc), code="invalid_file") from exc
    if filename.lower().endswith((".jsonl", ".json", ".ndjson")) or text.lstrip().startswith("{"):
        records = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidRequestError(f"line {n}: not JSON ({exc.msg})", code="invalid_file") from exc
            if not isinstance(record, dict):
                raise InvalidRequestError(f"line {n}: expected an object with question and answer", code="invalid_file")
            records.append((n, record))
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        try:  # newline="": the csv module reads line ends itself (a lone "\r" in a field is then data)
            records = [(n, row) for n, row in enumerate(csv.DictReader(io.StringIO(text, newline=""), dialect=dialect), 2)]
        except csv.Error as exc:
            raise InvalidRequestError(f"not a readable CSV table: {exc}", code="invalid_file") from exc
    if len(records) > MAX_PAIRS:
        raise InvalidRequestError(f"at most {MAX_PAIRS:,} Q&A pairs per file", code="too_many_pairs")
    pairs = []
    for n, record in records:
        try:
            pairs.append(pair(_pick(record, _QUESTION), _pick(record, _ANSWER), _pick(record, _TITLE)))
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"line {n}: {exc}", code="invalid_file") from exc
    if not pairs:
        raise InvalidRequestError("no Q&A pairs found: the file needs question and answer columns", code="invalid_file")
    return pairs
