"""Each strategy against hand-computed values on small matrices (and scipy's entropy), and
the batch helpers' guarantees: diversity, rare-class cover, exploration share, cold start."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import entropy as scipy_entropy
from sklearn.datasets import make_blobs

from activelearn import strategies as s

P = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1.0, 0.0, 0.0], [0.5, 0.3, 0.2]])


def test_least_confidence_margin_and_entropy_by_hand():
    assert s.least_confidence(P) == pytest.approx([0.3, 0.6, 0.0, 0.5])
    assert s.margin(P) == pytest.approx([0.5, 1.0, 0.0, 0.8])
    expected = [-(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1)),
                -(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2)), 0.0,
                -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))]  # fmt: skip
    assert s.entropy(P) == pytest.approx(expected)


def test_entropy_equals_scipys_on_random_rows():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(77), size=500)
    assert s.entropy(p) == pytest.approx(scipy_entropy(p, axis=1))


def test_expected_gradient_length_equals_the_explicit_gradients():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(5), size=20)
    x = rng.normal(size=(20, 8))
    brute = []
    for probs, features in zip(p, x, strict=True):
        total = 0.0
        for y in range(5):
            onehot = np.eye(5)[y]
            gradient = np.outer(probs - onehot, features)  # d loss / d W for label y
            total += probs[y] * np.linalg.norm(gradient)
        brute.append(total)
    assert s.expected_gradient_length(p, x) == pytest.approx(brute)


def test_committee_disagreement_by_hand():
    # 3 members, 2 tasks, 2 classes: task 0 votes (0, 0, 1), task 1 votes (1, 1, 1).
    committee = np.array(
        [[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.1, 0.9]], [[0.3, 0.7], [0.4, 0.6]]]
    )
    two_thirds = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert s.vote_entropy(committee) == pytest.approx([two_thirds, 0.0])
    consensus = committee.mean(axis=0)
    expected = [
        np.mean([scipy_entropy(committee[m, t], consensus[t]) for m in range(3)]) for t in range(2)
    ]
    assert s.consensus_kl(committee) == pytest.approx(expected)


def test_span_uncertainty_min_and_mean():
    scores = [[0.9, 0.6], [], [0.99]]
    assert s.span_uncertainty(scores) == pytest.approx([0.4, 0.5, 0.01])
    assert s.span_uncertainty(scores, how="mean") == pytest.approx([0.25, 0.5, 0.01])


def test_business_weight_scales_scores():
    scores = np.array([0.5, 0.5, 0.2])
    assert s.weighted(scores, np.array([1.0, 2.0, 0.0])) == pytest.approx([0.5, 1.0, 0.0])
    assert s.weighted(scores, None) is scores


def test_diversity_takes_one_task_per_cluster():
    # Four tight, far-apart clusters; the 40 most uncertain tasks all lie in cluster 0.
    x, blob = make_blobs(n_samples=400, centers=4, cluster_std=0.05, random_state=3)
    scores = np.where(blob == 0, 0.9, 0.1) + np.random.default_rng(0).random(400) * 0.01
    plain = np.argsort(-scores)[:4]
    assert set(blob[plain]) == {0}
    chosen = s.diverse_top(scores, x, 4, pool_factor=100)
    assert sorted(blob[chosen]) == [0, 1, 2, 3]
    # Within each cluster it is the most uncertain member that is taken.
    for i in chosen:
        assert scores[i] == scores[blob == blob[i]].max()


def test_weighted_diversity_takes_the_task_nearest_each_weighted_centroid():
    x, blob = make_blobs(n_samples=400, centers=4, cluster_std=0.05, random_state=3)
    scores = np.where(blob == 0, 0.9, 0.1) + np.random.default_rng(0).random(400) * 0.01
    chosen = s.diverse_top(scores, x, 4, pool_factor=100, pick="centre")
    assert sorted(blob[chosen]) == [0, 1, 2, 3]  # still one task per cluster
    for i in chosen:
        members = np.flatnonzero(blob == blob[i])
        centre = np.average(x[members], axis=0, weights=scores[members])
        nearest = members[np.argmin(np.linalg.norm(x[members] - centre, axis=1))]
        assert i == nearest
    assert [scores[i] for i in chosen] == sorted(scores[chosen], reverse=True)
    with pytest.raises(ValueError):
        s.diverse_top(scores, x, 4, pick="worst")


def test_rare_predicted_classes_are_covered_without_growing_the_batch():
    rng = np.random.default_rng(2)
    p = rng.dirichlet([5, 5, 0.2], size=1000)
    p[:, 2] = 0.0
    p[:3] = [0.1, 0.1, 0.8]  # only three tasks are predicted as class 2 (rare)
    p = p / p.sum(axis=1, keepdims=True)
    scores = s.margin(p)
    scores[:3] = 0.0  # and they are the least uncertain: plain ranking never takes them
    chosen = np.argsort(-scores)[:10]
    covered = s.rare_class_cover(chosen, p, scores)
    assert len(covered) == 10 and len(set(covered)) == 10
    assert (p[covered].argmax(axis=1) == 2).sum() == 1


def test_exploration_share_is_honoured():
    scores = np.linspace(1.0, 0.0, 1000)
    chosen = np.argsort(-scores)[:100]
    mixed = s.with_exploration(chosen, 1000, 0.15, seed=4)
    assert len(mixed) == 100 and len(set(mixed)) == 100
    assert np.array_equal(mixed[:85], chosen[:85])
    assert not set(mixed[85:]) & set(chosen)
    assert np.array_equal(mixed, s.with_exploration(chosen, 1000, 0.15, seed=4))
    assert np.array_equal(s.with_exploration(chosen, 1000, 0.0), chosen)


def test_cold_start_picks_one_central_task_per_cluster():
    x, blob = make_blobs(n_samples=300, centers=5, cluster_std=0.1, random_state=7)
    seed = s.cold_start(x, 5)
    assert sorted(blob[seed]) == [0, 1, 2, 3, 4]
    for i in seed:
        members = x[blob == blob[i]]
        centre = members.mean(axis=0)
        assert np.linalg.norm(x[i] - centre) <= np.sort(np.linalg.norm(members - centre, axis=1))[3]


def test_bald_is_the_entropy_of_the_mean_minus_the_mean_entropy():
    samples = np.array(
        [
            [[1.0, 0.0], [0.5, 0.5], [0.9, 0.1], [0.8, 0.2]],  # pass 1
            [[0.0, 1.0], [0.5, 0.5], [0.5, 0.5], [0.8, 0.2]],  # pass 2
        ]
    )
    h_half = math.log(2)
    h_09 = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    h_07 = -(0.7 * math.log(0.7) + 0.3 * math.log(0.3))
    expected = [
        h_half - 0.0,  # confident passes that disagree: all of the doubt is the model's
        h_half - h_half,  # both passes unsure the same way: none is
        h_07 - (h_09 + h_half) / 2,  # 0.6109 - 0.5091
        0.0,  # identical passes
    ]
    assert s.bald(samples) == pytest.approx(expected, abs=1e-9)
    assert s.bald(samples)[2] == pytest.approx(0.1018, abs=1e-4)


def test_adaptive_exploration_shrinks_with_accuracy():
    assert s.adaptive_exploration(0.15, 0.3) == pytest.approx(0.15)
    assert s.adaptive_exploration(0.15, 0.5) == pytest.approx(0.15)
    assert s.adaptive_exploration(0.15, 0.8) == pytest.approx(0.06)
    assert s.adaptive_exploration(0.15, 0.95) == pytest.approx(0.015)
    assert s.adaptive_exploration(0.15, 1.0) == 0.0
