"""How well the Finder's best match fits a need: a calibrated ``fit`` in [0, 1], and abstention.

Ranking (reciprocal rank fusion, :mod:`.fusion`) always puts *some* master first, even for
``xyzzy qwerty`` or "book me a flight". Whether that master actually fits is a separate question,
answered here from the raw evidence behind the ranking, for one ranked row:

* ``use`` — its Universal Sentence Encoder cosine with the query (best of both languages);
* ``use_spread`` — the standard deviation of the query's USE cosines with the masters (the
  :data:`SPREAD_ROWS` best): a need that some masters cover pulls them apart from the rest,
  gibberish or an uncovered need is about equally far from all of them;
* ``e5`` and ``e5_spread`` — the same for multilingual-e5 (same-language profiles);
* ``bm25`` — ``log(1 + BM25 score)`` of its profile for the query (0 when no term is shared).

``fit = sigmoid(bias + weights · features)``: a logistic regression (Cox 1958) fitted on the
development split of the evaluation sets (``evalsets/README.md``: the in-scope needs of
``bench/finder-dev.jsonl`` as positives, ``evalsets/finder-oos-dev.jsonl`` as negatives) by
:func:`fit_logistic` on standardised features (L2 = 1, chosen by 5-fold cross-validation on the
dev split), then written back in raw units. ``masterhall eval finder --calibrate`` refits it and
prints the constants below. :data:`THRESHOLD` is the highest fit that abstains on at most 5% of
the in-scope dev needs (:func:`pick_threshold`); :data:`STRONG` the lowest fit that at most 2% of
the out-of-scope dev needs reach. A query whose best fit is under :data:`THRESHOLD` gets no
recommendation ("no master fits"); a match at or over :data:`STRONG` is ``strong``, between the
two ``weak`` (its reason is hedged), under the threshold it has no strength. A master the query
names (its name, id or one of its tags, see :mod:`.names`) is always ``strong``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

Strength = Literal["strong", "weak"]

#: Names of the features, in the order of :data:`WEIGHTS`.
FEATURES = ("use", "use_spread", "e5", "e5_spread", "bm25")
#: Cosines (per dense channel, best first) whose standard deviation is a ``*_spread`` feature.
SPREAD_ROWS = 40

# Fitted by ``masterhall eval finder bench/finder-dev.jsonl --calibrate evalsets/finder-oos-dev.jsonl``
# (124 in-scope and 70 out-of-scope dev needs; see the module docstring). On those rows: false
# abstention 4.8%, abstention recall 92.9%. The e5 weights are large because e5 cosines vary little.
WEIGHTS = np.array([2.2433, 81.7503, 49.8061, 730.1578, 0.7803])
BIAS = -56.3402
#: Below this fit the Finder says no master fits.
THRESHOLD = 0.3778
#: At or above this fit a match is ``strong``.
STRONG = 0.5933


@dataclass
class Evidence:
    """The raw signals behind one ranking: ``cosines`` (channel → row → cosine, rows the dense
    channel returned), ``lexical`` (BM25 score of every row, ``(n,)``), ``named`` (rows the name
    channel pointed at) and ``terms`` (how many search terms the query had)."""

    cosines: dict[str, dict[int, float]]
    lexical: np.ndarray
    named: set[int]
    terms: int

    def features(self, row: int) -> np.ndarray:
        """The :data:`FEATURES` of ``row`` (``(5,)`` float)."""
        values = []
        for channel in ("use", "e5"):
            cosines = self.cosines.get(channel, {})
            best = sorted(cosines.values(), reverse=True)[:SPREAD_ROWS]
            values += [cosines.get(row, min(best, default=0.0)), float(np.std(best)) if best else 0.0]
        bm25 = float(self.lexical[row]) if len(self.lexical) > row else 0.0
        return np.array([*values, float(np.log1p(max(0.0, bm25)))], dtype=np.float64)


def fit_of(features: np.ndarray, weights: np.ndarray | None = None, bias: float | None = None) -> float:
    """``sigmoid(bias + weights · features)`` rounded to 4 decimals (defaults: the fitted constants;
    ``features`` as :meth:`Evidence.features` returns them)."""
    w = WEIGHTS if weights is None else weights
    b = BIAS if bias is None else bias
    return round(float(1.0 / (1.0 + np.exp(-(b + float(np.dot(w, features)))))), 4)


def strength_of(fit: float, threshold: float = THRESHOLD, strong: float = STRONG) -> Strength | None:
    """``"strong"`` at or over ``strong``, ``"weak"`` at or over ``threshold``, else ``None``."""
    if fit >= strong:
        return "strong"
    if fit >= threshold:
        return "weak"
    return None


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression by Newton's method (IRLS).

    ``x``: ``(n, d)`` features, ``y``: ``(n,)`` labels in {0, 1}; ``l2`` penalises the weights
    (not the bias): standardise ``x`` first. Classes are weighted to count equally, so the fit does not lean to the
    larger one. Returns ``(weights (d,), bias)``.
    """
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    sample = np.where(y == 1, 0.5 / max(1, int(y.sum())), 0.5 / max(1, int(n - y.sum()))) * n
    penalty = np.eye(d + 1) * l2
    penalty[d, d] = 0.0
    beta = np.zeros(d + 1)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-design @ beta))
        grad = design.T @ (sample * (p - y)) + penalty @ beta
        hess = design.T @ (design * (sample * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:d], float(beta[d])


def pick_threshold(fits_in: Sequence[float], fits_out: Sequence[float], max_false_abstention: float = 0.05) -> float:
    """The highest threshold that abstains on at most ``max_false_abstention`` of the in-scope
    fits (a need that fits must still get its master), to abstain on as many out-of-scope needs
    as possible. Returns a value in (0, 1), midway between neighbouring fits."""
    ordered = sorted(fits_in)
    allowed = int(np.floor(max_false_abstention * len(ordered)))
    if not ordered:
        return THRESHOLD
    cut = ordered[allowed]  # abstaining below this loses at most `allowed` in-scope needs
    below = [f for f in list(fits_in) + list(fits_out) if f < cut]
    return round((cut + max(below)) / 2, 4) if below else round(cut / 2, 4)
