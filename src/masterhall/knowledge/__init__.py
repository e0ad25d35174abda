"""Knowledge per master: files and curated Q&A pairs, retrieved with citations, never handed out.

No HTTP here. :mod:`.parse` reads files (TXT, Markdown, PDF, DOCX, HTML) into positioned
sections, :mod:`.chunk` cuts them, :mod:`.index` retrieves them (BM25 + sentence encoders,
fused), :mod:`.answer` lays a turn's knowledge out for the prompt, :mod:`.qa` reads Q&A files,
:mod:`.lore` maps card lorebooks, :mod:`.service` keeps it all stored, indexed and owned, and
:mod:`.evaluate` measures retrieval on a folder of sources and questions.
"""

from .answer import BUDGET_TOKENS, QA_THRESHOLD, Candidate, build_brief
from .chunk import Chunk, chunk_sections, estimate_tokens
from .index import HybridIndex
from .parse import Section, UnreadableFileError, file_format, parse_file
from .service import KnowledgeService

__all__ = ["BUDGET_TOKENS", "QA_THRESHOLD", "Candidate", "Chunk", "HybridIndex", "KnowledgeService", "Section",
           "UnreadableFileError", "build_brief", "chunk_sections", "estimate_tokens", "file_format", "parse_file"]
