"""What the Finder answers: ranked :class:`Match` es and a :class:`FinderResult` with the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .fit import Strength


@dataclass(frozen=True)
class Match:
    """One recommended master: ``score`` in [0, 1] (1 = first in every channel that ran; it
    orders, it does not say how well the master fits), ``reason`` one line in ``lang``, ``name``
    the master's name in ``lang``; ``fit`` in [0, 1] is the calibrated chance that the master
    fits the need (see :mod:`.fit`), ``strength`` ``"strong"``, ``"weak"`` (the reason is
    hedged) or ``None`` (under the threshold: not a recommendation)."""

    master_id: str
    name: str
    score: float
    reason: str
    lang: str
    fit: float = 1.0
    strength: Strength | None = "strong"

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class FinderResult:
    """The Finder's answer to a need: ``matches`` best first (all of them, whatever their
    strength), ``no_fit`` true when even the best one is under the threshold (then none has a
    strength; the hall says no master fits and offers to create one), ``lang`` the language of
    the reasons."""

    query: str
    lang: str
    matches: list[Match]
    no_fit: bool

    @property
    def recommended(self) -> list[Match]:
        """The matches that have a strength (the ones worth showing as recommendations)."""
        return [m for m in self.matches if m.strength is not None]
