"""The annotation queue: score the unlabelled tasks with the active model's probabilities and
write their priorities, which next-task follows (highest first).

A round gives every scored task ``priority = score`` (its informativeness) and puts the
chosen batch (diverse, rare classes covered, an exploration share) above all of them, in
batch order, at ``BATCH_PRIORITY + rank``; ``uncertainty`` gets the score for the data
manager. With no model yet, the batch is a cold-start seed set from the embeddings.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from django.db import connection, transaction

from activelearn import strategies
from activelearn.models import QueueRound, QueueSettings, Strategy
from mlserve.models import ModelKind, ModelStatus, ModelVersion, PredictionProbabilities
from mlserve.services import task_embeddings, task_texts
from projects.models import Project
from tasks.models import Task

BATCH_PRIORITY = 1000.0
COLD_START_POOL = 5000
WRITE_CHUNK = 5000


def queue_settings_get(*, project: Project) -> QueueSettings:
    found = QueueSettings.objects.filter(project=project).first()
    return found or QueueSettings(project=project)


def _active_version(project: Project) -> ModelVersion | None:
    return (
        ModelVersion.objects.filter(
            project=project, kind=ModelKind.INTENT, is_active=True, status=ModelStatus.READY
        )
        .order_by("-id")
        .first()
    )


def _pool(version: ModelVersion) -> tuple[Any, Any]:
    """Unlabelled task ids and the probability matrix of ``version``'s predictions."""
    rows = PredictionProbabilities.objects.filter(
        version=version, prediction__task__is_labeled=False
    ).values_list("prediction__task_id", "probabilities")
    ids, vectors = [], []
    for task_id, blob in rows.iterator(chunk_size=5000):
        ids.append(task_id)
        vectors.append(np.frombuffer(bytes(blob), dtype=np.float32))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 1))
    return np.array(ids, dtype=np.int64), np.stack(vectors)


def _texts(project: Project, ids: Any) -> list[tuple[int, str]]:
    return task_texts(project=project, task_ids=[int(i) for i in ids])


def _weights(project: Project, ids: Any, field: str) -> Any:
    if not field:
        return None
    data = dict(Task.objects.filter(pk__in=[int(i) for i in ids]).values_list("pk", "data"))
    values = []
    for i in ids:
        value = (data.get(int(i)) or {}).get(field)
        values.append(float(value) if isinstance(value, (int, float)) else 1.0)
    return np.array(values)


def _write(ids: Any, priorities: Any, uncertainties: Any) -> None:
    """priority and uncertainty of many tasks: one UPDATE per chunk (PostgreSQL: arrays
    unnested in a join; SQLite: executemany)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(ids), WRITE_CHUNK):
            part = slice(start, start + WRITE_CHUNK)
            rows = list(
                zip(
                    [int(i) for i in ids[part]],
                    [float(p) for p in priorities[part]],
                    [None if np.isnan(u) else float(u) for u in uncertainties[part]],
                    strict=True,
                )
            )
            if connection.vendor == "postgresql":
                cursor.execute(
                    "UPDATE tasks_task t SET priority = v.p, uncertainty = v.u FROM"
                    " (SELECT unnest(%s::bigint[]) AS id, unnest(%s::float8[]) AS p,"
                    " unnest(%s::float8[]) AS u) v WHERE t.id = v.id",
                    [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
                )
            else:
                cursor.executemany(
                    "UPDATE tasks_task SET priority = %s, uncertainty = %s WHERE id = %s",
                    [(p, u, i) for i, p, u in rows],
                )


def queue_refresh(*, project: Project, version: ModelVersion | None = None) -> QueueRound:
    """Score the project's unlabelled tasks and write the queue order (see the module doc)."""
    started = time.perf_counter()
    settings = queue_settings_get(project=project)
    version = version or _active_version(project)
    seed = int(time.time()) % 100_000
    reasons: list[list[Any]] = []
    if version is None:
        ids, chosen, scores = _cold_start(project, settings)
        reasons = [[int(ids[i]), "cold start: central to an embedding cluster"] for i in chosen]
    else:
        ids, probabilities = _pool(version)
        if settings.strategy == Strategy.RANDOM:
            scores = np.random.default_rng(seed).random(len(ids))
        else:
            scores = strategies.SCORERS[settings.strategy](probabilities)
        scores = strategies.weighted(scores, _weights(project, ids, settings.weight_field))
        chosen, reasons = _batch(project, settings, ids, probabilities, scores, seed)
    priorities = np.asarray(scores, dtype=float).copy()
    for rank, index in enumerate(chosen):
        priorities[index] = BATCH_PRIORITY + (len(chosen) - rank)
    uncertainties = (
        np.asarray(scores, dtype=float) if version is not None else np.full(len(ids), np.nan)
    )
    _write(ids, priorities, uncertainties)
    return QueueRound.objects.create(
        project=project,
        model_version=version.name if version is not None else "",
        strategy=settings.strategy if version is not None else "cold_start",
        scored=len(ids),
        batch=reasons,
        seconds=round(time.perf_counter() - started, 3),
    )


def _batch(
    project: Project,
    settings: QueueSettings,
    ids: Any,
    probabilities: Any,
    scores: Any,
    seed: int,
) -> tuple[list[int], list[list[Any]]]:
    size = min(settings.batch_size, len(ids))
    if size == 0:
        return [], []
    if settings.strategy == Strategy.RANDOM:
        order = np.argsort(-scores, kind="stable")[:size]
        return [int(i) for i in order], [[int(ids[i]), "random order"] for i in order]
    top = np.argsort(-scores, kind="stable")
    reason = {int(i): f"{settings.strategy} {scores[i]:.3f}" for i in top[: size * 10]}
    if settings.diversity and len(ids) > size:
        pool = top[: size * 10]
        vectors = task_embeddings(_texts(project, ids[pool]))
        local = strategies.diverse_top(scores[pool], vectors, size, seed=seed)
        chosen = pool[local]
        reason.update({int(i): f"{reason[int(i)]}, diverse pick" for i in chosen})
    else:
        chosen = top[:size]
    covered = strategies.rare_class_cover(chosen, probabilities, scores)
    for i in set(covered) - set(chosen):
        reason[int(i)] = f"rare predicted class ({int(probabilities[i].argmax())})"
    mixed = strategies.with_exploration(covered, len(ids), settings.exploration, seed=seed)
    for i in set(mixed) - set(covered):
        reason[int(i)] = "exploration (random)"
    return [int(i) for i in mixed], [[int(ids[i]), reason[int(i)]] for i in mixed]


def _cold_start(project: Project, settings: QueueSettings) -> tuple[Any, list[int], Any]:
    """No model yet: the batch is a diverse seed set over (at most COLD_START_POOL)
    unlabelled tasks' embeddings."""
    ids = np.array(
        list(
            Task.objects.filter(project=project, is_labeled=False)
            .order_by("id")
            .values_list("pk", flat=True)[:COLD_START_POOL]
        ),
        dtype=np.int64,
    )
    if len(ids) == 0:
        return ids, [], np.zeros(0)
    vectors = task_embeddings(_texts(project, ids))
    chosen = strategies.cold_start(vectors, min(settings.batch_size, len(ids)))
    return ids, [int(i) for i in chosen], np.zeros(len(ids))


def queue_settings_update(*, project: Project, **fields: Any) -> QueueSettings:
    settings, _ = QueueSettings.objects.get_or_create(project=project)
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    return settings


def queue_refresh_for_version(*, version: ModelVersion) -> QueueRound | None:
    """After a promoted version's predictions are stored (``mlserve.signals``)."""
    if version.kind != ModelKind.INTENT or not version.is_active:
        return None
    return queue_refresh(project=version.project, version=version)
