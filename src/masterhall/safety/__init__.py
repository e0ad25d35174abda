"""Crisis safety: rules for the clear cases, a semantic classifier over an exemplar bank, a
conversation-level signal, a check of risky replies, and help answers for the operator's region.

::

    guard = SafetyGuard(UseEncoder(), region="CN")
    a = guard.assess(history, "东西都分给朋友了，该交代的也交代了，我可以放心地走了。", lang="zh")
    if a.crisis:
        print(guard.help_answer(a))

See :mod:`masterhall.safety.guard` for how the layers combine and the README's *Safety* section
for the figures and what the guard cannot promise.
"""

from .classifier import CrisisClassifier, Exemplar, load_bank
from .guard import Assessment, SafetyGuard, Thresholds
from .help import REGIONS, careful_note, help_answer, help_line, resolve_region
from .output import affirms, check_reply
from .rules import KINDS, RuleHit, match_rules

__all__ = [
    "Assessment",
    "CrisisClassifier",
    "Exemplar",
    "KINDS",
    "REGIONS",
    "RuleHit",
    "SafetyGuard",
    "Thresholds",
    "affirms",
    "careful_note",
    "check_reply",
    "help_answer",
    "help_line",
    "load_bank",
    "match_rules",
    "resolve_region",
]
