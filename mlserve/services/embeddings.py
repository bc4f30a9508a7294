"""Sentence embeddings of tasks, cached per task and encoder, and the encoder a project's
language calls for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlserve.builtin.encoders import DEFAULT_ENCODER, ENCODERS, encode, encoder_for_language
from mlserve.models import TaskEmbedding
from mlserve.services.common import Progress, project_language
from projects.models import Project

EMBED_CHUNK = 256


def task_embeddings(
    items: Sequence[tuple[int, str]],
    *,
    encoder: str = DEFAULT_ENCODER,
    progress: Progress | None = None,
) -> Any:
    """Embeddings of (task id, text) pairs, in order: computed once per task and encoder and
    kept in ``TaskEmbedding`` (a task's text does not change after import)."""
    ids = [task_id for task_id, _ in items]
    stored = {
        task_id: np.frombuffer(bytes(vector), dtype=np.float32)
        for task_id, vector in TaskEmbedding.objects.filter(
            encoder=encoder, task_id__in=ids
        ).values_list("task_id", "vector")
    }
    missing = [(task_id, text) for task_id, text in items if task_id not in stored]
    for start in range(0, len(missing), EMBED_CHUNK):
        chunk = missing[start : start + EMBED_CHUNK]
        vectors = encode([text for _, text in chunk], encoder=encoder)
        TaskEmbedding.objects.bulk_create(
            [
                TaskEmbedding(task_id=task_id, encoder=encoder, vector=vector.tobytes())
                for (task_id, _), vector in zip(chunk, vectors, strict=True)
            ],
            ignore_conflicts=True,
        )
        stored.update({task_id: v for (task_id, _), v in zip(chunk, vectors, strict=True)})
        if progress is not None:
            progress(min(1.0, (start + len(chunk)) / len(missing)))
    if not ids:
        return np.zeros((0, ENCODERS[encoder]), dtype=np.float32)
    return np.stack([stored[task_id] for task_id in ids])


def project_encoder(*, project: Project) -> str:
    """The sentence encoder of the project's language (``ProjectMLSettings.language``, else
    its tasks' ``data.lang``): MiniLM for English, the multilingual encoder otherwise."""
    return encoder_for_language(project_language(project=project))
