"""The annotation queue: score the unlabelled tasks with the active model's probabilities and
write their priorities, which next-task follows (highest first).

A round scores every unlabelled task; the chosen batch (diverse, rare classes covered, an
exploration share) goes first, in batch order, at ``BATCH_PRIORITY + rank``, then the next
best-scored tasks at ``priority = score`` (their informativeness), ``QUEUE_DEPTH`` tasks in
all; the rest of the pool goes back to priority 0 (id order). ``uncertainty`` gets the
score for the data manager. With no model yet, the batch is a cold-start seed set from the
embeddings.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from django.db import connection, transaction

from activelearn import strategies
from activelearn.models import QueueRound, QueueSettings, Strategy
from mlserve.models import ModelKind, ModelVersion
from mlserve.selectors import active_versions
from mlserve.services import task_embeddings, task_texts
from projects.models import Project
from tasks.models import Task

BATCH_PRIORITY = 1000.0
# Tasks whose priority a round writes: the batch and the best-scored after it. Writing all
# 100k cost 5 s on PostgreSQL (priority is indexed, so every row update touches every index
# of the table); annotators take far fewer before the next model version re-scores the pool.
QUEUE_DEPTH = 5000
COLD_START_POOL = 5000
WRITE_CHUNK = 5000


def queue_settings_get(*, project: Project) -> QueueSettings:
    found = QueueSettings.objects.filter(project=project).first()
    return found or QueueSettings(project=project)


def _active_version(project: Project) -> ModelVersion | None:
    versions = active_versions(project_id=project.pk)
    return versions[0] if versions else None


def _pool(version: ModelVersion) -> tuple[Any, Any]:
    """Unlabelled task ids and the probability matrix of ``version``'s predictions: one
    plain query, and the vectors joined into one buffer (a row-by-row read of 100k blobs
    through the ORM took most of a round)."""
    sql = (
        "SELECT pr.task_id, pp.probabilities FROM mlserve_predictionprobabilities pp"
        " JOIN tasks_prediction pr ON pr.id = pp.prediction_id"
        " JOIN tasks_task t ON t.id = pr.task_id"
        " WHERE pp.version_id = %s AND NOT t.is_labeled ORDER BY pr.task_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [version.pk])
        rows = cursor.fetchall()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 1))
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=np.float32)
    return ids, matrix.reshape(len(rows), -1)


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


def _write(project: Project, ids: Any, priorities: Any, uncertainties: Any) -> None:
    """Set priority and uncertainty of the given tasks and reset the project's other
    unlabelled tasks that a previous round raised (priority back to 0, uncertainty unset):
    the tasks change only where the queue changed (PostgreSQL: arrays unnested; SQLite: a
    temporary table, UPDATE ... FROM)."""
    values = [
        (int(i), float(p), None if np.isnan(u) else float(u))
        for i, p, u in zip(ids, priorities, uncertainties, strict=True)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE tasks_task t SET priority = v.p, uncertainty = v.u FROM"
                " (SELECT unnest(%s::bigint[]) AS id, unnest(%s::float8[]) AS p,"
                " unnest(%s::float8[]) AS u) v WHERE t.id = v.id",
                [[r[0] for r in values], [r[1] for r in values], [r[2] for r in values]],
            )
            cursor.execute(
                "UPDATE tasks_task SET priority = 0, uncertainty = NULL WHERE project_id = %s"
                " AND NOT is_labeled AND priority <> 0 AND NOT (id = ANY(%s::bigint[]))",
                [project.pk, [r[0] for r in values]],
            )
            return
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS al_priorities"
            " (id INTEGER PRIMARY KEY, p REAL NOT NULL, u REAL)"
        )
        cursor.execute("DELETE FROM al_priorities")
        cursor.executemany("INSERT INTO al_priorities (id, p, u) VALUES (%s, %s, %s)", values)
        cursor.execute(
            "UPDATE tasks_task SET priority = s.p, uncertainty = s.u"
            " FROM al_priorities s WHERE tasks_task.id = s.id"
        )
        cursor.execute(
            "UPDATE tasks_task SET priority = 0, uncertainty = NULL WHERE project_id = %s"
            " AND NOT is_labeled AND priority <> 0 AND id NOT IN (SELECT id FROM al_priorities)",
            [project.pk],
        )
        cursor.execute("DELETE FROM al_priorities")


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
    head = np.argsort(-priorities, kind="stable")[:QUEUE_DEPTH]
    _write(project, ids[head], priorities[head], uncertainties[head])
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
