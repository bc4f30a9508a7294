"""Active-learning strategies: small numpy functions over a model's outputs (DESIGN §6).

Every scorer takes the probability matrix of the unlabelled pool, ``probabilities`` of shape
(tasks, classes), rows summing to 1, and returns one informativeness score per task: higher
means "label this first". They are vectorised, so 100k tasks x 77 classes score in
milliseconds. The batch helpers then turn scores into a batch: diversity (one task per
k-means cluster of the top candidates), coverage of rarely predicted classes, a business
priority weight and a share of random exploration; with no model yet, ``cold_start`` picks a
diverse seed set from the embeddings alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

Array = Any  # numpy arrays (numpy's typing of shapes adds nothing here)
_EPS = 1e-12


def _kmeans(points: Array, k: int, seed: int, weights: Array | None = None) -> KMeans:
    """One k-means++ start, on one thread: on a busy 2-core machine scikit-learn's OpenMP
    threads spin against each other (0.9 s against 0.09 s for 1 000 x 384 into 100 clusters,
    bench/al_bench.py), and three starts buy nothing measurable for picking a batch."""
    with threadpool_limits(1):
        return KMeans(n_clusters=k, random_state=seed, n_init=1, max_iter=50).fit(
            points, sample_weight=weights
        )


# --- uncertainty of one model ---------------------------------------------------------------
def least_confidence(probabilities: Array) -> Array:
    """1 - p(top class)."""
    return 1.0 - probabilities.max(axis=1)


def margin(probabilities: Array) -> Array:
    """1 - (p(top class) - p(second class)): a small margin is a close call."""
    if probabilities.shape[1] < 2:
        return np.zeros(probabilities.shape[0])
    top2 = np.partition(probabilities, -2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def entropy(probabilities: Array) -> Array:
    """Shannon entropy in nats."""
    p = np.clip(probabilities, _EPS, 1.0)
    return -(probabilities * np.log(p)).sum(axis=1)


def expected_gradient_length(probabilities: Array, features: Array) -> Array:
    """Expected model change of a multinomial logistic head: the norm of the gradient of the
    log-loss with respect to the weights, ``(p - e_y) x^T``, expected over ``y ~ p``. For one
    label ``y`` its norm is ``||p - e_y|| * ||x||``, and ``||p - e_y||^2 = sum(p^2) - 2 p_y + 1``."""
    x_norm = np.linalg.norm(features, axis=1)
    squares = (probabilities**2).sum(axis=1, keepdims=True)
    per_label = np.sqrt(np.clip(squares - 2 * probabilities + 1.0, 0.0, None))
    return (probabilities * per_label).sum(axis=1) * x_norm


# --- committees -----------------------------------------------------------------------------
def vote_entropy(committee: Array) -> Array:
    """Entropy of the members' votes; ``committee`` has shape (members, tasks, classes)."""
    members, tasks, classes = committee.shape
    votes = committee.argmax(axis=2)  # (members, tasks)
    counts = np.zeros((tasks, classes))
    for member_votes in votes:
        counts[np.arange(tasks), member_votes] += 1
    return entropy(counts / members)


def consensus_kl(committee: Array) -> Array:
    """Mean KL divergence of each member from the committee's mean distribution."""
    consensus = committee.mean(axis=0)
    p = np.clip(committee, _EPS, 1.0)
    q = np.clip(consensus, _EPS, 1.0)
    return (committee * (np.log(p) - np.log(q)[None])).sum(axis=2).mean(axis=0)


def bald(samples: Array) -> Array:
    """BALD over Monte Carlo dropout passes, ``samples`` of shape (passes, tasks, classes):
    the mutual information between the label and the model's weights, i.e. the entropy of
    the mean prediction minus the mean entropy of the passes. High when the passes are each
    confident but disagree (the model's own doubt), zero when they all say the same."""
    return entropy(samples.mean(axis=0)) - np.mean([entropy(p) for p in samples], axis=0)


# --- entities ---------------------------------------------------------------------------------
def span_uncertainty(span_scores: list[list[float]], *, how: str = "min") -> Array:
    """Per task, 1 - the minimum (or mean) confidence of its predicted spans; a task with no
    predicted span scores 0.5 (the model may have missed everything, or nothing is there)."""
    out = np.full(len(span_scores), 0.5)
    for i, scores in enumerate(span_scores):
        if scores:
            out[i] = 1.0 - (min(scores) if how == "min" else float(np.mean(scores)))
    return out


SCORERS: dict[str, Callable[[Array], Array]] = {
    "least_confidence": least_confidence,
    "margin": margin,
    "entropy": entropy,
}


# --- from scores to a batch -----------------------------------------------------------------
def weighted(scores: Array, weights: Array | None, *, strength: float = 1.0) -> Array:
    """Scale scores by a business priority (a task field, >= 0; 1 is neutral)."""
    if weights is None:
        return scores
    return scores * np.power(np.clip(weights, 0.0, None), strength)


def diverse_top(
    scores: Array,
    embeddings: Array,
    batch: int,
    *,
    pool_factor: int = 10,
    seed: int = 0,
    pick: str = "best",
) -> Array:
    """Indexes of ``batch`` tasks: the top ``batch * pool_factor`` by score are clustered into
    ``batch`` k-means clusters and one task of each cluster is taken, best-scored first, so
    one batch never holds two tasks of a cluster while another cluster has candidates.

    ``pick="best"``: each cluster's best-scored task. ``pick="centre"``: the k-means is
    weighted by the scores (its centroids lean to the most uncertain tasks) and each
    cluster's task nearest its centroid is taken, uncertain and typical of its cluster at
    once (the weighted k-means of Zhdanov, "Diverse mini-batch active learning", 2019). On
    BANKING77 the latter needed fewer labels (bench/al_screen.py)."""
    n = len(scores)
    if batch >= n:
        return np.argsort(-scores, kind="stable")
    pool = np.argsort(-scores, kind="stable")[: min(n, batch * pool_factor)]
    if len(pool) <= batch:
        return pool
    points = embeddings[pool]
    if pick == "centre":
        weights = np.clip(scores[pool], _EPS, None)
        km = _kmeans(points, batch, seed, weights)
        labels = km.labels_
        distances = np.linalg.norm(points - km.cluster_centers_[labels], axis=1)
        order = distances  # nearest its centroid first
    elif pick == "best":
        labels = _kmeans(points, batch, seed).labels_
        order = -scores[pool]  # best-scored first
    else:
        raise ValueError(f"pick is 'best' or 'centre', not {pick!r}")
    picked = []
    for cluster in range(batch):
        members = np.flatnonzero(labels == cluster)
        if len(members):
            picked.append(pool[members[np.argmin(order[members])]])
    chosen = np.array(picked, dtype=int)
    if len(chosen) < batch:  # empty clusters: fill with the next best of the pool
        rest = pool[~np.isin(pool, chosen)]
        chosen = np.concatenate([chosen, rest[: batch - len(chosen)]])
    return chosen[np.argsort(-scores[chosen], kind="stable")]


def rare_class_cover(
    chosen: Array,
    probabilities: Array,
    scores: Array,
    *,
    per_class: int = 1,
    rare_share: float = 0.02,
) -> Array:
    """Make sure each rarely predicted class (under ``rare_share`` of the pool's predictions)
    has ``per_class`` of its most uncertain tasks in the batch, replacing the lowest-scored
    picks; the batch size stays the same."""
    predicted = probabilities.argmax(axis=1)
    counts = np.bincount(predicted, minlength=probabilities.shape[1])
    rare = [c for c in np.flatnonzero(counts) if counts[c] < rare_share * len(predicted)]
    batch = list(chosen)
    present = set(batch)
    for c in rare:
        have = sum(1 for i in batch if predicted[i] == c)
        if have >= per_class:
            continue
        candidates = np.flatnonzero(predicted == c)
        candidates = candidates[~np.isin(candidates, list(present))]
        for i in candidates[np.argsort(-scores[candidates], kind="stable")][: per_class - have]:
            # Replace the lowest-scored pick that is not itself a rare-class cover.
            replaceable = [j for j in batch if counts[predicted[j]] >= rare_share * len(predicted)]
            if not replaceable:
                break
            worst = min(replaceable, key=lambda j: scores[j])
            batch[batch.index(worst)] = int(i)
            present.discard(worst)
            present.add(int(i))
    return np.array(batch, dtype=int)


def with_exploration(chosen: Array, pool_size: int, share: float, *, seed: int = 0) -> Array:
    """Replace the last ``round(share * len(chosen))`` picks with random tasks of the pool not
    already chosen (a random share keeps the model honest about regions it thinks it knows)."""
    k = round(share * len(chosen))
    if k == 0 or pool_size <= len(chosen):
        return chosen
    rng = np.random.default_rng(seed)
    outside = np.setdiff1d(np.arange(pool_size), chosen, assume_unique=False)
    random_picks = rng.choice(outside, size=min(k, len(outside)), replace=False)
    return np.concatenate([chosen[: len(chosen) - len(random_picks)], random_picks])


def adaptive_exploration(share: float, accuracy: float) -> float:
    """The exploration share for a model of validation ``accuracy``: ``share`` while the
    model is poor (accuracy <= 0.5), then shrinking in proportion to its error, e.g. a
    third of it at 83 %: a good model's uncertainty finds the informative tasks by itself,
    and random picks then mostly add what it already knows."""
    return share * min(1.0, max(0.0, 2.0 * (1.0 - accuracy)))


def cold_start(embeddings: Array, n: int, *, seed: int = 0) -> Array:
    """A diverse seed set without any model: k-means over the embeddings, the task nearest to
    each centroid."""
    if n >= len(embeddings):
        return np.arange(len(embeddings))
    km = _kmeans(embeddings, n, seed)
    labels = km.labels_
    distances = np.linalg.norm(embeddings - km.cluster_centers_[labels], axis=1)
    picked = []
    for cluster in range(n):
        members = np.flatnonzero(labels == cluster)
        if len(members):
            picked.append(members[np.argmin(distances[members])])
    return np.array(picked, dtype=int)
