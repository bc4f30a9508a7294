"""The annotation queue: score the unlabelled tasks with the active model's probabilities and
write their priorities, which next-task follows (highest first).

A round scores every unlabelled task; the chosen batch (diverse, rare classes covered when
``rare_cover`` is on, an exploration share) goes first, in batch order, at ``BATCH_PRIORITY + rank``, then the next
best-scored tasks at ``priority = score`` (their informativeness), ``QUEUE_DEPTH`` tasks in
all; the rest of the pool goes back to priority 0 (id order). ``uncertainty`` gets the
score for the data manager. With no model yet, the batch is a cold-start seed set from the
embeddings.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
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
# Which task of each k-means cluster of the top candidates a batch takes (strategies.diverse_top):
# the one nearest the score-weighted centroid, among the CANDIDATES_PER_PICK x batch
# best-scored tasks (20: fewer labels to 95 % on BANKING77 than 10 or 30, bench/al_screen.py).
DIVERSE_PICK = "centre"
CANDIDATES_PER_PICK = 20
WRITE_CHUNK = 5000
REASON_CHARS = 200  # Task.queue_reason's length
# MC dropout samples a transformer PASSES times per task: only the tasks of smallest margin.
MC_DROPOUT_POOL = 2000
MC_DROPOUT_PASSES = 10


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


def _write(project: Project, ids: Any, priorities: Any, uncertainties: Any, reasons: Any) -> None:
    """Set priority, uncertainty and queue reason of the given tasks (the head of the queue)
    and reset the project's other unlabelled tasks that a previous round raised (priority
    back to 0, uncertainty and reason unset; a task has a reason only with a raised priority): the tasks change only where the queue changed
    (PostgreSQL: arrays unnested; SQLite: a temporary table, UPDATE ... FROM)."""
    values = [
        (int(i), float(p), None if np.isnan(u) else float(u), r)
        for i, p, u, r in zip(ids, priorities, uncertainties, reasons, strict=True)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE tasks_task t SET priority = v.p, uncertainty = v.u, queue_reason = v.r"
                " FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::float8[]) AS p,"
                " unnest(%s::float8[]) AS u, unnest(%s::text[]) AS r) v WHERE t.id = v.id",
                [[r[0] for r in values], [r[1] for r in values], [r[2] for r in values],
                 [r[3] for r in values]],
            )  # fmt: skip
            cursor.execute(
                "UPDATE tasks_task SET priority = 0, uncertainty = NULL, queue_reason = NULL"
                " WHERE project_id = %s AND NOT is_labeled AND priority <> 0"
                " AND NOT (id = ANY(%s::bigint[]))",
                [project.pk, [r[0] for r in values]],
            )
            return
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS al_queue_head"
            " (id INTEGER PRIMARY KEY, p REAL NOT NULL, u REAL, r TEXT)"
        )
        cursor.execute("DELETE FROM al_queue_head")
        cursor.executemany(
            "INSERT INTO al_queue_head (id, p, u, r) VALUES (%s, %s, %s, %s)", values
        )
        cursor.execute(
            "UPDATE tasks_task SET priority = s.p, uncertainty = s.u, queue_reason = s.r"
            " FROM al_queue_head s WHERE tasks_task.id = s.id"
        )
        cursor.execute(
            "UPDATE tasks_task SET priority = 0, uncertainty = NULL, queue_reason = NULL"
            " WHERE project_id = %s AND NOT is_labeled AND priority <> 0"
            " AND id NOT IN (SELECT id FROM al_queue_head)",
            [project.pk],
        )
        cursor.execute("DELETE FROM al_queue_head")


def queue_refresh(
    *, project: Project, version: ModelVersion | None = None, seed: int | None = None
) -> QueueRound:
    """Score the project's unlabelled tasks and write the queue order (see the module doc).
    ``seed`` fixes the random parts (k-means, exploration, random order); by default the
    clock."""
    started = time.perf_counter()
    settings = queue_settings_get(project=project)
    version = version or _active_version(project)
    seed = int(time.time()) % 100_000 if seed is None else seed
    note = ""
    if version is None:
        ids, chosen, scores, reasons = _cold_start(project, settings, seed)
        uncertainties = np.full(len(ids), np.nan)
    else:
        ids, probabilities = _pool(version)
        scores, uncertainties, note = _scores(project, settings, version, ids, probabilities, seed)
        scores = strategies.weighted(scores, _weights(project, ids, settings.weight_field))
        chosen, reasons = _batch(
            project,
            settings,
            version,
            ids,
            probabilities,
            scores,
            seed,
            _scorer_name(settings, note),
        )
    priorities = np.asarray(scores, dtype=float).copy()
    for rank, index in enumerate(chosen):
        priorities[index] = BATCH_PRIORITY + (len(chosen) - rank)
    head = np.argsort(-priorities, kind="stable")[:QUEUE_DEPTH]
    why = {task_id: text[:REASON_CHARS] for task_id, text in reasons}
    # A reason only where the priority is raised: the next round's reset finds the previous
    # head by ``priority <> 0`` on the priority index alone (testing queue_reason there too
    # read every task row: 4.5 s instead of 2.8 s for 100k tasks on the loaded 2-core box).
    after = f"{_scorer_name(settings, note)}: next after the batch" if version else None
    head_reasons = [why.get(int(ids[i])) or (after if priorities[i] else None) for i in head]
    _write(project, ids[head], priorities[head], np.asarray(uncertainties)[head], head_reasons)
    return QueueRound.objects.create(
        project=project,
        model_version=version.name if version is not None else "",
        strategy=settings.strategy if version is not None else "cold_start",
        scored=len(ids),
        batch=reasons,
        note=note,
        seconds=round(time.perf_counter() - started, 3),
    )


def _scorer_name(settings: QueueSettings, note: str) -> str:
    return Strategy.MARGIN.value if note else str(settings.strategy)


def _scores(
    project: Project,
    settings: QueueSettings,
    version: ModelVersion,
    ids: Any,
    probabilities: Any,
    seed: int,
) -> tuple[Any, Any, str]:
    """(scores, uncertainties shown, a note when the strategy fell back to margin)."""
    if settings.strategy == Strategy.RANDOM:
        return np.random.default_rng(seed).random(len(ids)), strategies.margin(probabilities), ""
    if settings.strategy == Strategy.MC_DROPOUT:
        scores, note = _mc_dropout_scores(project, version, ids, probabilities)
        return scores, scores, note
    scores = strategies.SCORERS[settings.strategy](probabilities)
    return scores, scores, ""


def _mc_dropout_scores(
    project: Project, version: ModelVersion, ids: Any, probabilities: Any
) -> tuple[Any, str]:
    """BALD over Monte Carlo dropout passes of the active intent model (the fine-tuned
    transformer's dropout, or dropped input features for a logistic head), for the
    MC_DROPOUT_POOL tasks of smallest margin (the others score 0: not sampled); margin when
    the version cannot be sampled (the round's note says why)."""
    from mlserve.services.finetuning import mc_dropout_probabilities

    fallback = strategies.margin(probabilities)
    pool = np.argsort(-fallback, kind="stable")[:MC_DROPOUT_POOL]
    texts = [text for _, text in _texts(project, ids[pool])]
    try:
        samples = np.asarray(
            mc_dropout_probabilities(version=version, texts=texts, passes=MC_DROPOUT_PASSES)
        )
    except (ValueError, TypeError, ValidationError, NotImplementedError, OSError) as exc:
        return fallback, f"mc_dropout not possible with {version.name} ({exc}); scored by margin"
    if samples.ndim != 3 or samples.shape[1] != len(pool):
        return fallback, f"mc_dropout gave shape {samples.shape}; scored by margin"
    scores = np.zeros(len(ids))
    scores[pool] = strategies.bald(samples)
    return scores, ""


def _batch(
    project: Project,
    settings: QueueSettings,
    version: ModelVersion,
    ids: Any,
    probabilities: Any,
    scores: Any,
    seed: int,
    name: str,
) -> tuple[list[int], list[list[Any]]]:
    size = min(settings.batch_size, len(ids))
    if size == 0:
        return [], []
    if settings.strategy == Strategy.RANDOM:
        order = np.argsort(-scores, kind="stable")[:size]
        return [int(i) for i in order], [[int(ids[i]), "random order"] for i in order]
    top = np.argsort(-scores, kind="stable")
    reason = {int(i): f"{name} {scores[i]:.3f}" for i in top[: size * CANDIDATES_PER_PICK]}
    if settings.diversity and len(ids) > size:
        pool = top[: size * CANDIDATES_PER_PICK]
        vectors = task_embeddings(_texts(project, ids[pool]))
        local = strategies.diverse_top(
            scores[pool],
            vectors,
            size,
            pool_factor=CANDIDATES_PER_PICK,
            seed=seed,
            pick=DIVERSE_PICK,
        )
        chosen = pool[local]
        reason.update({int(i): f"{reason[int(i)]}, diverse pick" for i in chosen})
    else:
        chosen = top[:size]
    covered = (
        strategies.rare_class_cover(chosen, probabilities, scores)
        if settings.rare_cover
        else chosen
    )
    for i in set(covered) - set(chosen):
        reason[int(i)] = f"rare predicted class ({int(probabilities[i].argmax())})"
    share = exploration_share(settings, version)
    mixed = strategies.with_exploration(covered, len(ids), share, seed=seed)
    for i in set(mixed) - set(covered):
        reason[int(i)] = f"exploration (random, {share:.0%} of the batch)"
    return [int(i) for i in mixed], [[int(ids[i]), reason[int(i)]] for i in mixed]


def exploration_share(settings: QueueSettings, version: ModelVersion | None) -> float:
    """The batch's random share: ``exploration``, or with ``exploration_adaptive`` scaled
    down as the active version's validation accuracy rises (the model needs less help
    finding what it does not know; ``strategies.adaptive_exploration``)."""
    if not settings.exploration_adaptive or version is None:
        return settings.exploration
    accuracy = version.metrics.get("accuracy")
    if not isinstance(accuracy, (int, float)):
        return settings.exploration
    return strategies.adaptive_exploration(settings.exploration, float(accuracy))


def _cold_start(
    project: Project, settings: QueueSettings, seed: int
) -> tuple[Any, list[int], Any, list[list[Any]]]:
    """No model yet: the batch is a diverse seed set over the embeddings of (at most
    COLD_START_POOL, sampled) unlabelled tasks; with the random strategy, random tasks."""
    ids = np.array(
        list(
            Task.objects.filter(project=project, is_labeled=False)
            .order_by("id")
            .values_list("pk", flat=True)
        ),
        dtype=np.int64,
    )
    rng = np.random.default_rng(seed)
    if len(ids) > COLD_START_POOL:
        ids = np.sort(rng.choice(ids, COLD_START_POOL, replace=False))
    if len(ids) == 0:
        return ids, [], np.zeros(0), []
    size = min(settings.batch_size, len(ids))
    if settings.strategy == Strategy.RANDOM:
        chosen = [int(i) for i in rng.choice(len(ids), size, replace=False)]
        return ids, chosen, np.zeros(len(ids)), [[int(ids[i]), "random order"] for i in chosen]
    vectors = task_embeddings(_texts(project, ids))
    picked = [int(i) for i in strategies.cold_start(vectors, size, seed=seed)]
    reasons = [[int(ids[i]), "cold start: central to an embedding cluster"] for i in picked]
    return ids, picked, np.zeros(len(ids)), reasons


def queue_settings_update(*, project: Project, **fields: Any) -> QueueSettings:
    settings, _ = QueueSettings.objects.get_or_create(project=project)
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    return settings


def queue_refresh_for_version(
    *, version: ModelVersion, seed: int | None = None
) -> QueueRound | None:
    """After an intent version trained (``mlserve.signals``): promoted, once its predictions
    are stored, the pool is scored with it; kept back, the pool is scored again with the
    active version, so the next batch is again diverse and explored (the previous round's
    batch has been taken, and the rest of its head is ranked by score alone)."""
    if version.kind != ModelKind.INTENT:
        return None
    if version.is_active:
        return queue_refresh(project=version.project, version=version, seed=seed)
    active = next(
        (v for v in active_versions(project_id=version.project_id) if v.control == version.control),
        None,
    )
    if active is None:
        return None
    return queue_refresh(project=version.project, version=active, seed=seed)
