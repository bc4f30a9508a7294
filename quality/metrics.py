"""Agreement metrics: pure, vectorised numpy functions (no database).

Categorical ratings come as a matrix ``ratings[unit, rater]`` of category codes ``0..q-1``
with ``MISSING`` (-1) where a rater did not rate a unit. Every metric returns a ``Score``:
``value`` is a float, or ``None`` with a ``reason`` when the coefficient is undefined for
the data. The degenerate cases, decided once for all metrics:

- fewer than two ratings on every unit (a single rater, no overlap): no pairs to compare,
  ``None`` with reason ``"no unit has two ratings"``;
- every rating is the same label: observed agreement is 1 but so is chance agreement, and
  kappa-type coefficients are 0/0: ``None`` with reason ``"one label only ..."`` and
  ``observed`` = 1.0 (the references return NaN or raise here). Gwet's AC1 stays defined as
  long as the scale has two categories (that is its point: it is robust when one label
  dominates), so it returns 1.0.

Each metric equals its reference implementation to 1e-9 (tests/quality/test_metrics.py):
Cohen = scikit-learn's ``cohen_kappa_score``; Fleiss = statsmodels' ``fleiss_kappa`` (equal
raters per unit; with missing ratings it is Fleiss' formula over the units' own rater counts,
the ``agreement`` package's ``scotts_pi``); Krippendorff = the ``krippendorff`` package,
nominal; Gwet's AC1 = the ``agreement`` package's ``gwets_gamma``.

Spans, boxes and taxonomies are compared as sets between two annotators: F1 over a one-to-one
matching (so one span never matches two nested spans of the other annotator).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

MISSING = -1
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

NO_PAIRS = "no unit has two ratings"
ONE_LABEL = "one label only: chance agreement is 1, the coefficient is 0/0"
ONE_CATEGORY = "the scale has one category only"


@dataclass(frozen=True)
class Score:
    """A coefficient over ``units`` units (those with two ratings or more); ``observed`` is
    the raw share of agreeing pairs. ``value`` is None exactly when ``reason`` is set."""

    value: float | None
    units: int
    observed: float | None = None
    reason: str | None = None


def _undefined(reason: str, units: int = 0, observed: float | None = None) -> Score:
    return Score(value=None, units=units, observed=observed, reason=reason)


def as_ratings(ratings: npt.ArrayLike) -> IntArray:
    """A units x raters int64 matrix (a copy only when the input is not one already)."""
    array = np.asarray(ratings, dtype=np.int64)
    if array.ndim != 2:
        raise ValueError("ratings must be a units x raters matrix")
    return array


def count_table(ratings: npt.ArrayLike, q: int | None = None) -> IntArray:
    """counts[unit, category]: how many raters gave the unit that category."""
    r = as_ratings(ratings)
    q = int(r.max(initial=MISSING)) + 1 if q is None else q
    q = max(q, 1)
    units = np.broadcast_to(np.arange(r.shape[0])[:, None], r.shape)
    present = r != MISSING
    flat = units[present] * q + r[present]
    return np.bincount(flat, minlength=r.shape[0] * q).reshape(r.shape[0], q).astype(np.int64)


def _pairable(counts: IntArray) -> IntArray:
    return counts[counts.sum(axis=1) >= 2]


def _observed(counts: IntArray) -> float:
    """Mean over units of the share of agreeing rater pairs (units with 2+ ratings)."""
    n = counts.sum(axis=1).astype(np.float64)
    per_unit = (counts * (counts - 1)).sum(axis=1) / (n * (n - 1))
    return float(per_unit.mean())


def unit_observed_agreement(counts: IntArray) -> FloatArray:
    """Per unit: the share of its rater pairs that agree (NaN below two ratings)."""
    n = counts.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = (counts * (counts - 1)).sum(axis=1) / (n * (n - 1))
    result[n < 2] = np.nan
    return result


def _kappa(po: float, pe: float, units: int) -> Score:
    if np.isclose(pe, 1.0, rtol=0.0, atol=1e-15):
        return _undefined(ONE_LABEL, units, po)
    return Score(value=(po - pe) / (1.0 - pe), units=units, observed=po)


# --- categorical --------------------------------------------------------------------------
def cohen_kappa(a: npt.ArrayLike, b: npt.ArrayLike) -> Score:
    """Cohen's kappa of two raters over the units both rated (codes, MISSING skipped)."""
    x, y = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    both = (x != MISSING) & (y != MISSING)
    x, y = x[both], y[both]
    n = x.size
    if n == 0:
        return _undefined(NO_PAIRS)
    q = int(max(x.max(), y.max())) + 1
    po = float(np.mean(x == y))
    pe = float(np.dot(np.bincount(x, minlength=q), np.bincount(y, minlength=q))) / (n * n)
    return _kappa(po, pe, n)


def fleiss_kappa(ratings: npt.ArrayLike, q: int | None = None) -> Score:
    """Fleiss' kappa over the units with two ratings or more. Chance agreement uses each
    category's mean share of a unit's ratings (equal to the pooled share when every unit
    has the same number of raters, Fleiss' original setting)."""
    counts = _pairable(count_table(ratings, q))
    if counts.shape[0] == 0:
        return _undefined(NO_PAIRS)
    n = counts.sum(axis=1, keepdims=True).astype(np.float64)
    share = (counts / n).mean(axis=0)
    return _kappa(_observed(counts), float(np.dot(share, share)), counts.shape[0])


def krippendorff_alpha(ratings: npt.ArrayLike, q: int | None = None) -> Score:
    """Krippendorff's alpha, nominal, with missing ratings (units with one rating ignored)."""
    counts = _pairable(count_table(ratings, q)).astype(np.float64)
    if counts.shape[0] == 0:
        return _undefined(NO_PAIRS)
    m = counts.sum(axis=1)
    # The coincidence matrix's diagonal and margins are all alpha needs (nominal distance).
    agree = float(((counts * (counts - 1)).sum(axis=1) / (m - 1)).sum())
    n_c = counts.sum(axis=0)
    total = float(n_c.sum())
    expected = total * total - float(np.dot(n_c, n_c))
    po = _observed(counts.astype(np.int64))
    if expected <= 0.0:
        return _undefined(ONE_LABEL, counts.shape[0], po)
    value = 1.0 - (total - 1.0) * (total - agree) / expected
    return Score(value=value, units=counts.shape[0], observed=po)


def gwet_ac1(ratings: npt.ArrayLike, q: int | None = None) -> Score:
    """Gwet's AC1 with missing ratings: agreement over units with 2+ ratings, category
    prevalence over units with 1+; ``q`` is the size of the scale (default: codes seen)."""
    table = count_table(ratings, q)
    q = table.shape[1]
    counts = _pairable(table)
    if counts.shape[0] == 0:
        return _undefined(NO_PAIRS)
    po = _observed(counts)
    if q < 2:
        return _undefined(ONE_CATEGORY, counts.shape[0], po)
    rated = table[table.sum(axis=1) >= 1]
    share = (rated / rated.sum(axis=1, keepdims=True)).mean(axis=0)
    pe = float((share * (1.0 - share)).sum()) / (q - 1)
    return _kappa(po, pe, counts.shape[0])


def pairwise_cohen(ratings: npt.ArrayLike) -> Score:
    """Light's kappa: the mean of Cohen's kappa over every pair of raters with shared units
    (undefined pairs left out; their reason is kept when none is defined)."""
    r = as_ratings(ratings)
    values: list[float] = []
    reason = NO_PAIRS
    for i in range(r.shape[1]):
        for j in range(i + 1, r.shape[1]):
            score = cohen_kappa(r[:, i], r[:, j])
            if score.value is None:
                reason = score.reason or reason
            else:
                values.append(score.value)
    counts = _pairable(count_table(r))
    po = _observed(counts) if counts.shape[0] else None
    if not values:
        return _undefined(reason, counts.shape[0], po)
    return Score(value=float(np.mean(values)), units=counts.shape[0], observed=po)


CATEGORICAL: dict[str, Callable[..., Score]] = {
    "cohen": pairwise_cohen,
    "fleiss": fleiss_kappa,
    "krippendorff": krippendorff_alpha,
    "gwet": gwet_ac1,
}


@dataclass(frozen=True)
class PerLabel:
    """One-vs-rest scores per category code and their macro mean (defined labels only)."""

    labels: dict[int, Score] = field(default_factory=dict)
    macro: float | None = None


def per_label(ratings: npt.ArrayLike, metric: str) -> PerLabel:
    """The metric on each category against all others (MISSING kept), and the macro mean."""
    r = as_ratings(ratings)
    fn = CATEGORICAL[metric]
    present = r[r != MISSING]
    scores: dict[int, Score] = {}
    for code in np.unique(present):
        binary = np.where(r == MISSING, MISSING, (r == code).astype(np.int64))
        scores[int(code)] = fn(binary) if metric == "cohen" else fn(binary, 2)
    defined = [s.value for s in scores.values() if s.value is not None]
    return PerLabel(labels=scores, macro=float(np.mean(defined)) if defined else None)


# --- spans, boxes, taxonomies -------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    start: float
    end: float
    label: str


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    label: str


def f1_from_matches(matches: int, a: int, b: int) -> float:
    """F1 (Dice) of two sets with ``matches`` matched items; two empty sets agree (1.0)."""
    return 1.0 if a + b == 0 else 2.0 * matches / (a + b)


def _matched(eligible: npt.NDArray[np.bool_], weight: FloatArray) -> int:
    """Size of a maximum one-to-one matching among eligible pairs (ties broken by weight)."""
    if eligible.size == 0 or not eligible.any():
        return 0
    # Each eligible pair is worth 1 plus a tie-break below 1, so the assignment first
    # maximises the number of matches, then their overlap.
    gain = np.where(eligible, 1.0 + 0.5 * weight, 0.0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return int(eligible[rows, cols].sum())


def span_iou(a: Sequence[Span], b: Sequence[Span]) -> FloatArray:
    """Interval IoU of every span of ``a`` with every span of ``b`` (0 across labels)."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    s1 = np.array([[s.start, s.end] for s in a], dtype=np.float64)
    s2 = np.array([[s.start, s.end] for s in b], dtype=np.float64)
    inter = np.clip(
        np.minimum(s1[:, None, 1], s2[None, :, 1]) - np.maximum(s1[:, None, 0], s2[None, :, 0]),
        0.0,
        None,
    )
    union = np.maximum(s1[:, None, 1], s2[None, :, 1]) - np.minimum(s1[:, None, 0], s2[None, :, 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, (s1[:, None, 0] == s2[None, :, 0]) * 1.0)
    same = np.array([[x.label == y.label for y in b] for x in a])
    return np.where(same, iou, 0.0)


def span_f1_exact(a: Sequence[Span], b: Sequence[Span]) -> float:
    """F1 on exact (start, end, label) triples, as multisets (a span repeated counts twice)."""
    matches = sum((Counter(a) & Counter(b)).values())
    return f1_from_matches(matches, len(a), len(b))


def span_f1_overlap(a: Sequence[Span], b: Sequence[Span], threshold: float = 0.5) -> float:
    """F1 where a span matches one span of the other annotator with the same label and an
    interval IoU of at least ``threshold``; one-to-one, so nested or overlapping spans each
    need their own partner."""
    iou = span_iou(a, b)
    return f1_from_matches(_matched(iou >= threshold, iou), len(a), len(b))


def box_iou(a: Sequence[Box], b: Sequence[Box]) -> FloatArray:
    """Rectangle IoU (axis-aligned; rotation ignored) of every box pair, 0 across labels."""
    if not a or not b:
        return np.zeros((len(a), len(b)))
    p = np.array([[x.x, x.y, x.x + x.width, x.y + x.height] for x in a], dtype=np.float64)
    r = np.array([[x.x, x.y, x.x + x.width, x.y + x.height] for x in b], dtype=np.float64)
    w = np.clip(
        np.minimum(p[:, None, 2], r[None, :, 2]) - np.maximum(p[:, None, 0], r[None, :, 0]), 0, None
    )
    h = np.clip(
        np.minimum(p[:, None, 3], r[None, :, 3]) - np.maximum(p[:, None, 1], r[None, :, 1]), 0, None
    )
    inter = w * h
    area_a = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
    area_b = (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    same = np.array([[x.label == y.label for y in b] for x in a])
    return np.where(same, iou, 0.0)


def box_f1(a: Sequence[Box], b: Sequence[Box], threshold: float = 0.5) -> float:
    """F1 of boxes matched one-to-one (Hungarian) with the same label and IoU >= threshold."""
    iou = box_iou(a, b)
    return f1_from_matches(_matched(iou >= threshold, iou), len(a), len(b))


Path = tuple[str, ...]


def taxonomy_f1(a: Sequence[Path], b: Sequence[Path], level: int | None = None) -> float | None:
    """F1 of two sets of taxonomy paths: on full paths (``level`` None), or on the paths cut
    to ``level`` nodes (1 = top level; paths shorter than that are left out). None when
    neither annotator has a path that deep."""
    if level is None:
        x, y = set(a), set(b)
    else:
        x = {p[:level] for p in a if len(p) >= level}
        y = {p[:level] for p in b if len(p) >= level}
        if not x and not y:
            return None
    return f1_from_matches(len(x & y), len(x), len(y))
