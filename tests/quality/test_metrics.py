"""quality.metrics against the reference implementations, to 1e-9, on generated cases.

References: scikit-learn (Cohen), statsmodels (Fleiss), krippendorff (alpha), agreement
(Gwet's AC1, and Fleiss with missing ratings as its ``scotts_pi``). Degenerate cases (a
single rater, one label only) return a defined value or a reason, never raise.
"""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pytest
from agreement.metrics import gwets_gamma, scotts_pi
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from quality.metrics import (
    MISSING,
    NO_PAIRS,
    ONE_LABEL,
    Box,
    Span,
    box_f1,
    cohen_kappa,
    count_table,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    pairwise_cohen,
    per_label,
    span_f1_exact,
    span_f1_overlap,
    taxonomy_f1,
)

TOL = 1e-9
CASES = 300


def _cases(seed: int, *, missing: bool):
    """Rating matrices of varied size, scale and skew (one dominant label sometimes)."""
    rng = np.random.default_rng(seed)
    for _ in range(CASES):
        units, raters, q = rng.integers(2, 60), rng.integers(2, 7), rng.integers(2, 6)
        skew = rng.dirichlet(np.full(q, rng.choice([0.3, 1.0, 5.0])))
        ratings = rng.choice(q, size=(units, raters), p=skew).astype(np.int64)
        if missing:
            ratings[rng.random((units, raters)) < rng.uniform(0.1, 0.6)] = MISSING
        yield ratings, int(q)


def _reference_or_nan(fn, *args, **kwargs) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(fn(*args, **kwargs))
        except (ValueError, ZeroDivisionError):
            return float("nan")


def _same(ours, reference: float) -> None:
    """Equal to 1e-9 where the reference is defined; a reason where it is NaN."""
    if np.isnan(reference):
        assert ours.value is None and ours.reason
    else:
        assert ours.value is not None, ours.reason
        assert abs(ours.value - reference) < TOL


@pytest.mark.parametrize("missing", [False, True])
def test_cohen_kappa_equals_scikit_learn(missing):
    checked = 0
    for ratings, _q in _cases(1, missing=missing):
        a, b = ratings[:, 0], ratings[:, 1]
        both = (a != MISSING) & (b != MISSING)
        if not both.any():
            assert cohen_kappa(a, b).reason == NO_PAIRS
            continue
        _same(cohen_kappa(a, b), _reference_or_nan(cohen_kappa_score, a[both], b[both]))
        checked += 1
    assert checked > CASES / 2


def test_fleiss_kappa_equals_statsmodels_with_every_unit_fully_rated():
    for ratings, q in _cases(2, missing=False):
        table = count_table(ratings, q)
        _same(fleiss_kappa(ratings, q), _reference_or_nan(sm_fleiss, table, method="fleiss"))


def test_fleiss_kappa_with_missing_ratings_equals_the_generalised_formula():
    for ratings, q in _cases(3, missing=True):
        table = count_table(ratings, q)
        if not (table.sum(axis=1) >= 2).any():
            assert fleiss_kappa(ratings, q).reason == NO_PAIRS
            continue
        _same(fleiss_kappa(ratings, q), _reference_or_nan(scotts_pi, table.astype(float)))


@pytest.mark.parametrize("missing", [False, True])
def test_krippendorff_alpha_equals_the_krippendorff_package(missing):
    for ratings, q in _cases(4, missing=missing):
        data = np.where(ratings == MISSING, np.nan, ratings).T.astype(float)
        if not (count_table(ratings, q).sum(axis=1) >= 2).any():
            assert krippendorff_alpha(ratings, q).reason == NO_PAIRS
            continue
        reference = _reference_or_nan(
            krippendorff.alpha,
            reliability_data=data,
            level_of_measurement="nominal",
            value_domain=list(range(q)),
        )
        _same(krippendorff_alpha(ratings, q), reference)


@pytest.mark.parametrize("missing", [False, True])
def test_gwet_ac1_equals_the_agreement_package(missing):
    for ratings, q in _cases(5, missing=missing):
        table = count_table(ratings, q)
        rated = table[table.sum(axis=1) >= 1].astype(float)
        if not (table.sum(axis=1) >= 2).any():
            assert gwet_ac1(ratings, q).reason == NO_PAIRS
            continue
        _same(gwet_ac1(ratings, q), _reference_or_nan(gwets_gamma, rated))


def test_one_label_only_gives_a_reason_for_kappas_and_one_for_gwet():
    ratings = np.zeros((20, 3), dtype=np.int64)
    for score in (
        pairwise_cohen(ratings),
        fleiss_kappa(ratings, 2),
        krippendorff_alpha(ratings, 2),
    ):
        assert score.value is None and score.reason == ONE_LABEL and score.observed == 1.0
    assert gwet_ac1(ratings, 2).value == 1.0
    assert _reference_or_nan(gwets_gamma, count_table(ratings, 2).astype(float)) == 1.0


def test_a_single_rater_gives_no_pairs_for_every_metric():
    ratings = np.array([[0], [1], [1]])
    for score in (
        pairwise_cohen(ratings),
        fleiss_kappa(ratings),
        krippendorff_alpha(ratings),
        gwet_ac1(ratings),
    ):
        assert score.value is None and score.reason == NO_PAIRS


def test_an_empty_matrix_gives_no_pairs():
    assert krippendorff_alpha(np.zeros((0, 2), dtype=np.int64)).reason == NO_PAIRS
    assert cohen_kappa([], []).reason == NO_PAIRS


def test_gwet_ac1_stays_high_where_one_label_dominates_and_kappa_collapses():
    ratings = np.zeros((100, 2), dtype=np.int64)
    ratings[0] = [0, 1]  # one disagreement among 100 units, one label everywhere else
    assert gwet_ac1(ratings, 2).value > 0.98
    assert krippendorff_alpha(ratings, 2).value < 0.01


def test_per_label_scores_each_label_against_the_rest_and_macro_averages():
    ratings = np.array([[0, 0], [1, 1], [2, 1], [2, 2], [0, 0], [1, 1]])
    result = per_label(ratings, "cohen")
    assert set(result.labels) == {0, 1, 2}
    assert result.labels[0].value == pytest.approx(1.0)
    binary = (ratings == 1).astype(int)
    assert result.labels[1].value == pytest.approx(cohen_kappa_score(binary[:, 0], binary[:, 1]))
    values = [s.value for s in result.labels.values()]
    assert result.macro == pytest.approx(np.mean(values))


# --- spans -----------------------------------------------------------------------------------
def S(start, end, label="PER"):
    return Span(start, end, label)


def test_exact_span_f1_counts_identical_triples():
    a = [S(0, 5), S(10, 15), S(20, 25, "LOC")]
    b = [S(0, 5), S(10, 16), S(20, 25, "ORG")]
    assert span_f1_exact(a, b) == pytest.approx(2 * 1 / 6)


def test_two_empty_span_sets_agree():
    assert span_f1_exact([], []) == 1.0
    assert span_f1_overlap([], []) == 1.0
    assert span_f1_overlap([S(0, 3)], []) == 0.0


def test_nested_spans_each_need_their_own_partner():
    # A: an outer span and the span nested in it; B: only the outer one. A greedy "any
    # overlap" count would match both of A's spans to B's one span and report F1 = 1.
    a = [S(0, 20), S(0, 18)]
    b = [S(0, 20)]
    assert span_f1_overlap(a, b, threshold=0.5) == pytest.approx(2 * 1 / 3)
    assert span_f1_exact(a, b) == pytest.approx(2 * 1 / 3)


def test_overlapping_spans_are_matched_to_maximise_matches():
    # a0 overlaps both b0 and b1; a1 overlaps only b0. Greedy by best IoU pairs a0-b0 and
    # leaves a1 unmatched; the optimal matching pairs a0-b1 and a1-b0.
    a = [S(0, 10), S(2, 9)]
    b = [S(1, 10), S(0, 8)]
    assert span_f1_overlap(a, b, threshold=0.7) == pytest.approx(1.0)


def test_overlap_f1_ignores_spans_of_another_label_or_below_the_threshold():
    assert span_f1_overlap([S(0, 10)], [S(0, 10, "LOC")]) == 0.0
    assert span_f1_overlap([S(0, 10)], [S(6, 10)]) == 0.0  # IoU 0.4
    assert span_f1_overlap([S(0, 10)], [S(5, 10)]) == 1.0  # IoU 0.5


def test_identical_nested_and_overlapping_span_sets_agree_fully():
    spans = [S(0, 30), S(0, 10), S(5, 20), S(5, 20, "LOC"), S(25, 30)]
    assert span_f1_exact(spans, list(reversed(spans))) == 1.0
    assert span_f1_overlap(spans, list(reversed(spans)), threshold=0.9) == 1.0


# --- boxes -----------------------------------------------------------------------------------
def test_box_f1_matches_boxes_by_iou_one_to_one():
    a = [Box(0, 0, 10, 10, "car"), Box(50, 50, 10, 10, "car")]
    b = [Box(1, 1, 10, 10, "car"), Box(80, 80, 5, 5, "car")]
    assert box_f1(a, b) == pytest.approx(0.5)  # one match among 2 + 2 boxes
    assert box_f1(a, [Box(0, 0, 10, 10, "bus")]) == 0.0
    # Two boxes of B on top of A's one box: only one of them can match it.
    assert box_f1([a[0]], [a[0], a[0]]) == pytest.approx(2 / 3)


# --- taxonomy --------------------------------------------------------------------------------
def test_taxonomy_agreement_on_full_paths_and_per_level():
    a = [("Animal", "Mammal", "Cat")]
    b = [("Animal", "Mammal", "Dog")]
    assert taxonomy_f1(a, b) == 0.0
    assert taxonomy_f1(a, b, level=1) == 1.0
    assert taxonomy_f1(a, b, level=2) == 1.0
    assert taxonomy_f1(a, b, level=3) == 0.0
    assert taxonomy_f1([("Animal",)], [("Animal",)], level=2) is None
