#!/usr/bin/env python
"""Offline screen of queue settings on BANKING77: labels to 95 % of the full-data accuracy.

``al_simulate`` runs the loop through the real services (one 3-seed default-and-random run
takes tens of minutes on the 2-core machine); this screen replays the same loop in memory
in about a minute a seed, to compare settings before confirming one through the command:
the same intent model (``IntentClassifier``: MiniLM embeddings and TF-IDF n-grams, a
logistic head warm-started from the active version, a temperature fitted on a held-out
fifth of the labels), the same promotion gate (a version replaces the active one unless McNemar's
test finds it worse on the validation labels), the same strategy functions
(``activelearn.strategies``: margin, k-means diversity among the top candidates,
rare-class cover, adaptive exploration, the k-means cold start). It leaves out the
database and next-task; like the product, it re-scores the pool with the active version
after every round (also when the new version was kept back). Embeddings are computed once
and cached (``--cache``).

    python bench/al_screen.py '{"pf": 10, "rare": true}' [--seeds 0,1,2]

Settings (JSON; ``{}`` is the product's default queue): ``pf`` candidate pool factor (20,
``activelearn.services.CANDIDATES_PER_PICK``), ``pick`` "centre" (nearest the weighted
centroid) or "best", ``div`` false for plain top-k, ``wp`` the power of the scores weighting
the k-means (1), ``dens`` the power of the candidates' information density (``density``)
multiplying their scores (off), ``hel`` the weight of the predicted distribution (its square
root) next to the embedding in the k-means (off), ``rare`` rare-class cover (false),
``gate`` "mcnemar" (the product's promotion gate) or "higher" (promoted when at least as
accurate), ``expl`` exploration share (0.15), ``sched`` "lin2" (the product's adaptive share), "fixed"
or "sq" (the share times the square of the adaptive factor), ``random`` true for random
order. Prints one line per seed and a JSON summary; ``--full`` is the full-data accuracy the
target is 95 % of (al_simulate's figure).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 100
COLD_POOL = 5000


def _read(path: Path) -> tuple[list[str], Any]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle) if r["text"]]
    return [t for t, _ in rows], np.array([c for _, c in rows])


def _embeddings(texts: list[str], cache: Path) -> Any:
    if cache.is_file():
        vectors = np.load(cache)
        if len(vectors) == len(texts):
            return vectors
    from mlserve.builtin.encoders import encode

    vectors = encode(texts, batch_size=128)
    np.save(cache, vectors)
    return vectors


def density(candidates: Any, pool: Any, *, neighbours: int = 20, chunk: int = 1000) -> Any:
    """Information density of each candidate: the mean cosine similarity to its
    ``neighbours`` most similar tasks of ``pool`` (embeddings, rows of both). Typical tasks
    score high, outliers low; weighting uncertainty by it (Settles and Craven, 2008) keeps
    a batch away from odd, ambiguous texts that teach the model little about the rest."""
    pool = pool / np.clip(np.linalg.norm(pool, axis=1, keepdims=True), 1e-12, None)
    candidates = candidates / np.clip(
        np.linalg.norm(candidates, axis=1, keepdims=True), 1e-12, None
    )
    k = max(1, min(neighbours, len(pool)))
    out = np.empty(len(candidates))
    for start in range(0, len(candidates), chunk):
        similar = candidates[start : start + chunk] @ pool.T
        out[start : start + chunk] = np.partition(similar, -k, axis=1)[:, -k:].mean(axis=1)
    return out


def contrastive(p: Any, v: Any, lp: Any, lv: Any, k: int = 10) -> Any:
    """CAL (Margatina et al., 2021): mean KL(p(labelled neighbour) || p(candidate)) over
    the ``k`` labelled tasks nearest each candidate in the embedding space."""
    out = np.empty(len(p))
    logp = np.log(np.clip(p, 1e-12, 1.0))
    loglp = np.log(np.clip(lp, 1e-12, 1.0))
    for start in range(0, len(p), 2000):
        sim = v[start : start + 2000] @ lv.T
        near = np.argpartition(-sim, min(k, lv.shape[0] - 1), axis=1)[:, :k]
        nl = lp[near]  # (chunk, k, classes)
        kl = (nl * (loglp[near] - logp[start : start + 2000, None, :])).sum(axis=2)
        out[start : start + 2000] = kl.mean(axis=1)
    return out


def _select(
    probabilities: Any,
    vectors: Any,
    accuracy: float,
    cfg: dict[str, Any],
    seed: int,
    extra: dict[str, Any] | None = None,
) -> Any:
    from activelearn import strategies as st

    scores = st.margin(probabilities)
    if cfg.get("cal"):
        cal = contrastive(probabilities, vectors, extra["labelled_p"], extra["labelled_v"])
        scores = cal if cfg["cal"] == "only" else scores * cal
    top = np.argsort(-scores, kind="stable")
    factor = int(cfg.get("pf", 20))
    if cfg.get("dens"):
        head = top[: BATCH * factor]
        weight = np.clip(density(vectors[head], vectors), 0.0, None) ** float(cfg["dens"])
        scores = scores.copy()
        scores[head] = scores[head] * weight
        scores[top[BATCH * factor :]] = 0.0
        top = np.argsort(-scores, kind="stable")
    if cfg.get("div", True):
        pool = top[: BATCH * factor]
        space = vectors
        if cfg.get("hel"):  # cluster on the embedding and the predicted distribution
            space = np.hstack([vectors, float(cfg["hel"]) * np.sqrt(probabilities)])
        local = st.diverse_top(
            scores[pool] ** float(cfg.get("wp", 1.0)), space[pool], BATCH, pool_factor=factor,
            seed=seed,
            pick="best" if cfg.get("pick") == "best" else "centre",
        )  # fmt: skip
        chosen = pool[local]
    else:
        chosen = top[:BATCH]
    if cfg.get("rare", False):
        chosen = st.rare_class_cover(chosen, probabilities, scores)
    share = float(cfg.get("expl", 0.15))
    schedule = cfg.get("sched", "lin2")
    if schedule == "lin2":
        share = st.adaptive_exploration(share, accuracy)
    elif schedule == "sq":
        share *= min(1.0, max(0.0, 2 * (1 - accuracy))) ** 2
    return st.with_exploration(chosen, len(probabilities), share, seed=seed)


def run(data: dict[str, Any], cfg: dict[str, Any], seed: int, target: float, cap: int) -> list:
    from activelearn import strategies as st
    from mlserve.builtin.intent import IntentClassifier

    texts, vectors, gold = data["texts"], data["vectors"], data["gold"]
    n = len(texts)
    rng = np.random.default_rng(seed)
    held = rng.random(n) < 0.2  # the product holds out a fifth of the labels (by task hash)
    labelled = np.zeros(n, dtype=bool)
    if cfg.get("random"):
        labelled[rng.choice(n, BATCH, replace=False)] = True
    else:
        sample = np.sort(rng.choice(n, min(COLD_POOL, n), replace=False))
        labelled[sample[st.cold_start(vectors[sample], BATCH, seed=seed)]] = True
    active: Any = None
    active_accuracy = 0.0
    curve = []
    rounds = 0
    while True:
        rounds += 1
        done = np.flatnonzero(labelled)
        train, valid = done[~held[done]], done[held[done]]
        model = IntentClassifier.fit(
            [texts[i] for i in train], vectors[train], list(gold[train]),
            encoder="minilm", warm_from=active,
        )  # fmt: skip
        valid_texts = [texts[i] for i in valid]
        if len(valid) >= 10:
            model.calibrate(valid_texts, vectors[valid], list(gold[valid]))

        def right(m: Any, rows: Any, row_texts: list[str], truth: Any) -> Any:
            p = m.predict_proba(row_texts, vectors[rows] if rows is not None else data["tv"])
            return np.array(m.classes)[p.argmax(axis=1)] == truth

        def accuracy(m: Any, rows: Any, row_texts: list[str], truth: Any) -> float:
            return float(right(m, rows, row_texts, truth).mean())

        ours = accuracy(model, valid, valid_texts, gold[valid]) if len(valid) else 0.0
        if active is None:
            better = True
        elif cfg.get("gate", "mcnemar") == "mcnemar":
            from mlserve.services.common import clearly_worse

            new_right = right(model, valid, valid_texts, gold[valid])
            old_right = right(active, valid, valid_texts, gold[valid])
            better = not clearly_worse(new_right, old_right)[0]
        else:
            better = ours >= accuracy(active, valid, valid_texts, gold[valid])
        if better:
            active, active_accuracy = model, ours
        test = accuracy(active, None, data["test_texts"], data["test_gold"])
        curve.append((int(labelled.sum()), round(test, 4)))
        if test >= target or labelled.sum() >= cap:
            return curve
        pool = np.flatnonzero(~labelled)
        if cfg.get("random"):
            picked = rng.choice(pool, BATCH, replace=False)
        else:
            p = active.predict_proba([texts[i] for i in pool], vectors[pool])
            extra = {}
            if cfg.get("cal"):
                done = np.flatnonzero(labelled)
                extra["labelled_v"] = vectors[done]
                extra["labelled_p"] = active.predict_proba([texts[i] for i in done], vectors[done])
            picked = pool[
                _select(p, vectors[pool], active_accuracy, cfg, seed * 1000 + rounds, extra)
            ]
        labelled[picked] = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("settings", nargs="?", default="{}", help="JSON settings (see above)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared/data/banking77"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--full", type=float, default=0.936, help="full-data test accuracy")
    parser.add_argument("--max-labels", type=int, default=4000)
    parser.add_argument("--cache", default="/tmp/al_screen_minilm.npy")
    args = parser.parse_args()
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    import django

    django.setup()
    cfg = json.loads(args.settings)
    folder = Path(args.data)
    texts, gold = _read(folder / "train.csv")
    test_texts, test_gold = _read(folder / "test.csv")
    everything = _embeddings(texts + test_texts, Path(args.cache))
    data = {
        "texts": texts, "gold": gold, "vectors": everything[: len(texts)],
        "test_texts": test_texts, "test_gold": test_gold, "tv": everything[len(texts):],
    }  # fmt: skip
    started = time.perf_counter()
    reached = []
    for seed in (int(s) for s in args.seeds.split(",")):
        curve = run(data, cfg, seed, 0.95 * args.full, args.max_labels)
        labels, accuracy = curve[-1]
        reached.append(labels if accuracy >= 0.95 * args.full else None)
        print(f"seed {seed}: {curve[-1][0]} labels (test accuracy {curve[-1][1]})", flush=True)
    print(
        json.dumps(
            {
                "settings": cfg,
                "labels_to_95": reached,
                "mean": round(float(np.mean(reached)), 1) if None not in reached else None,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
