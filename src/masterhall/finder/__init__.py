"""The Master Finder: hybrid offline retrieval of the masters who fit a need.

::

    from masterhall import load_catalog
    from masterhall.finder import Finder

    finder = Finder(load_catalog())
    for m in finder.match("我总是半夜醒来然后想很多", k=3):
        print(m.master_id, m.score, m.reason)

See :mod:`masterhall.finder.finder` for the method and ``bench/README.md`` for measurements.
"""

from .encoders import E5Encoder, Encoder, EncoderUnavailableError, UseEncoder
from .finder import DenseChannel, Finder, FinderConfig, FinderStats, default_channels, tag_key, vector_key
from .guide import finder_guide_context
from .query import MAX_QUERY_CHARS, FinderQueryError
from .results import FinderResult, Match

__all__ = [
    "DenseChannel",
    "E5Encoder",
    "Encoder",
    "EncoderUnavailableError",
    "Finder",
    "FinderConfig",
    "FinderQueryError",
    "FinderResult",
    "FinderStats",
    "MAX_QUERY_CHARS",
    "Match",
    "UseEncoder",
    "default_channels",
    "finder_guide_context",
    "tag_key",
    "vector_key",
]
