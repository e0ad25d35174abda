"""``masterhall eval knowledge DIR``: how well a master's knowledge is retrieved (and, with a
model, used).

``DIR`` holds the sources (any file :mod:`.parse` reads; ``*.csv`` / ``*.jsonl`` files named
``qa*`` are Q&A pairs) and one or more question files ``questions*.jsonl`` (one is chosen with
``split``: ``questions-dev.jsonl``, ``questions-test.jsonl``). Each question is
``{"question", "lang", "source", "passage", "fact"?}``: ``source`` the file name (or Q&A title)
that answers it, ``passage`` a verbatim stretch of that source which holds the answer, ``fact``
a short string a correct answer contains (default: none, then not scored).

Metrics: **hit@k** — a question is a hit when one of the ``k`` best passages a turn retrieves
(fused order, the Q&A pair first when it is answered from first) comes from ``source`` and
contains ``passage`` (whitespace ignored); per language too. With a ``generate`` callable (a
backend): **fact rate** — answers containing ``fact`` (case-insensitive) — and **citation
accuracy** — answers whose citations include ``source``.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..accounts import LOCAL
from ..builder.library import MasterLibrary
from ..catalog.loader import Catalog
from ..catalog.models import Master
from ..errors import InvalidRequestError
from ..eval.sets import EvalSetError, read_jsonl
from ..finder.encoders import Encoder
from ..store.db import Store
from .parse import file_format
from .service import KnowledgeService

_SPACE = re.compile(r"\s+")


def _flat(text: str) -> str:
    return _SPACE.sub("", text).lower()


@dataclass
class KnowledgeReport:
    """Results of one run: counts, ``hit_at_k`` overall and per language, retrieval latency
    (``p50_ms``), and with a model ``fact_rate`` and ``citation_accuracy``; ``misses`` lists the
    questions retrieval missed."""

    k: int
    questions: int
    hits: int
    by_lang: dict = field(default_factory=dict)
    p50_ms: float = 0.0
    chunks: int = 0
    fact_rate: float | None = None
    citation_accuracy: float | None = None
    misses: list[dict] = field(default_factory=list)

    @property
    def hit_at_k(self) -> float:
        return self.hits / self.questions if self.questions else 0.0

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"k": self.k, "questions": self.questions, "hits": self.hits, "hit_at_k": round(self.hit_at_k, 4),
                "by_lang": self.by_lang, "p50_ms": round(self.p50_ms, 2), "chunks": self.chunks,
                "fact_rate": self.fact_rate, "citation_accuracy": self.citation_accuracy, "misses": self.misses}


def _is_question(row: object) -> bool:
    """A question line: non-empty strings ``question``, ``source`` and ``passage``."""
    return isinstance(row, dict) and all(isinstance(row.get(k), str) and row[k] for k in ("question", "source", "passage"))


def read_questions(folder: Path, split: str | None = None) -> list[dict]:
    """The questions of ``folder`` (``questions-<split>.jsonl``, or every ``questions*.jsonl``).
    Raises :class:`~masterhall.errors.InvalidRequestError` naming a bad line or a missing file."""
    files = [folder / f"questions-{split}.jsonl"] if split else sorted(folder.glob("questions*.jsonl"))
    out = []
    for path in files:
        if not path.is_file():
            raise InvalidRequestError(f"{path} not found")
        if not path.read_text(encoding="utf-8").strip():
            continue
        try:
            out += [row for _, row in read_jsonl(path, _is_question, "question, source and passage (strings)")]
        except EvalSetError as exc:
            raise InvalidRequestError(str(exc)) from exc
    if not out:
        raise InvalidRequestError(f"no questions in {folder}")
    return out


def load_folder(service: KnowledgeService, master_id: str, folder: Path) -> int:
    """Add every source of ``folder`` to ``master_id``'s knowledge; returns how many chunks."""
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("questions"):
            continue
        if path.name.startswith("qa") and path.suffix in (".csv", ".jsonl"):
            service.import_pairs(master_id, path.read_bytes(), path.name)
        elif file_format(path.name):
            service.add_file(master_id, path.name, path.read_bytes())
    return len(service.repo.chunks(master_id))


def evaluate_folder(folder: Path, catalog: Catalog, encoders: Sequence[Encoder] = (), *, split: str | None = None,
                    k: int = 3, generate: Callable[[Master, KnowledgeService, str], tuple[str, list]] | None = None,
                    ) -> KnowledgeReport:
    """Index ``folder`` for a throwaway master (an in-memory database) and score its questions
    (see the module docstring). ``generate(master, service, question) -> (answer, citations)``
    turns on the model metrics."""
    questions = read_questions(folder, split)
    store = Store.in_memory()
    try:
        library = MasterLibrary(catalog, store.masters)
        base = next(iter(catalog.advisors()))
        master = library.save(base.model_copy(update={"id": "knowledge-eval"}), "draft", caller=LOCAL).master
        service = KnowledgeService(library, store.knowledge, encoders, top_k=max(8, k))
        chunks = load_folder(service, master.id, folder)
        report = KnowledgeReport(k=k, questions=len(questions), hits=0, chunks=chunks)
        times, facts, cites = [], [], []
        for item in questions:
            start = time.perf_counter()
            ranked = service.ranked(master.id, item["question"])[:k]
            times.append((time.perf_counter() - start) * 1000)
            want = _flat(item["passage"])
            hit = any(c.source == item["source"] and want in _flat(c.text) for c in ranked)
            slot = report.by_lang.setdefault(item.get("lang", ""), {"questions": 0, "hits": 0})
            slot["questions"] += 1
            if hit:
                report.hits += 1
                slot["hits"] += 1
            else:
                report.misses.append({"question": item["question"], "source": item["source"],
                                      "got": [c.source + (f" · {c.position}" if c.position else "") for c in ranked]})
            if generate is not None:
                answer, citations = generate(master, service, item["question"])
                if item.get("fact"):
                    facts.append(item["fact"].lower() in answer.lower())
                cites.append(any(c.get("source") == item["source"] for c in citations or []))
        for slot in report.by_lang.values():
            slot["hit_at_k"] = round(slot["hits"] / slot["questions"], 4)
        report.p50_ms = statistics.median(times) if times else 0.0
        if generate is not None:
            report.fact_rate = round(sum(facts) / len(facts), 4) if facts else None
            report.citation_accuracy = round(sum(cites) / len(cites), 4) if cites else None
        return report
    finally:
        store.close()
