"""Measuring parts of the hall on evaluation sets (the ``masterhall eval …`` commands).

Each module reads its set, runs the part under test and returns plain results; the command line
prints them. ``finder``: top-1 / top-3 accuracy of the Master Finder per language.
"""

from .finder import EvalSetError, FinderScores, evaluate_finder, read_finder_set

__all__ = ["EvalSetError", "FinderScores", "evaluate_finder", "read_finder_set"]
