"""Monte-Carlo dropout over a built-in intent version, for active learning's BALD.

A fine-tuned transformer (``ProjectMLSettings.finetune``) keeps its own dropout layers on
at inference. A head version (logistic regression on embeddings and n-grams) has none: its
passes drop each input feature with probability ``HEAD_DROPOUT`` (inverted dropout, the
kept ones scaled by 1/(1-p)). That head was not trained with dropout, so its spread is an
approximation of the model's uncertainty, not Gal and Ghahramani's posterior sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack

from mlserve.builtin.encoders import encode
from mlserve.builtin.intent import IntentClassifier, MultiLabelIntentClassifier, softmax
from mlserve.models import ModelKind, ModelVersion
from mlserve.services.intents import model_load

HEAD_DROPOUT = 0.1


def mc_dropout_probabilities(
    *, version: ModelVersion, texts: list[str], passes: int = 10
) -> np.ndarray:
    """(passes, len(texts), classes) probabilities of ``version`` on ``texts``, each pass
    with dropout on and fresh masks; classes in the order of ``version.metrics["classes"]``.
    Rows sum to 1, except for a multi-label version (one probability per label)."""
    if version.kind != ModelKind.INTENT:
        raise ValueError(f"{version.name} is a {version.kind} model, not an intent classifier")
    if passes < 1:
        raise ValueError("passes must be at least 1")
    model = model_load(version)
    if not texts:
        return np.zeros((passes, 0, len(model.classes)), dtype=np.float32)
    if not model.needs_embeddings:
        return np.asarray(model.mc_dropout(texts, passes), dtype=np.float32)
    vectors = encode(texts, encoder=version.encoder)
    return _head_passes(model, texts, vectors, passes)


def _head_passes(model: Any, texts: list[str], vectors: Any, passes: int) -> np.ndarray:
    ngrams = model.vectorizer.transform(texts) * model.ngram_weight
    features = hstack([csr_matrix(vectors), ngrams]).tocsr()
    rng = np.random.default_rng()
    keep = 1.0 - HEAD_DROPOUT
    out = np.empty((passes, len(texts), len(model.classes)), dtype=np.float32)
    for p in range(passes):
        dropped = features.copy()
        dropped.data = dropped.data * (rng.random(dropped.data.shape) < keep) / keep
        out[p] = _head_probabilities(model, dropped)
    return out


def _head_probabilities(model: Any, features: Any) -> Any:
    if isinstance(model, MultiLabelIntentClassifier):
        logits = np.asarray(features @ model.coef.T) + model.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logits / model.temperature, -50, 50)))
    if not isinstance(model, IntentClassifier):
        raise ValueError("not an intent classifier")
    scores = model.head.decision_function(features)
    if scores.ndim == 1:
        scores = np.stack([-scores / 2, scores / 2], axis=1)
    return softmax(scores / model.temperature)
