#!/usr/bin/env python
"""Active-learning queue benchmark: score and re-prioritise a pool of unlabelled tasks with
cached probabilities (``activelearn.services.queue_refresh``: read the active version's
probability vectors, margin scores, k-means diversity over the top candidates' cached
embeddings, rare-class cover, exploration, then one UPDATE per 5 000 tasks of priority and
uncertainty).

Builds a fresh database (SQLite, or PostgreSQL with ``--db postgresql`` at ``BENCH_PG_URL``)
with ``--tasks`` unlabelled tasks, each with a prediction of an active 77-class version, its
probability vector and its embedding (random: the timing does not depend on the values), then
times rounds in-process. Baseline in the same run: reading the probability rows alone.
Prints one JSON document.

    python bench/al_bench.py                      # 100 000 tasks, SQLite
    python bench/al_bench.py --db postgresql
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from inprocess import django_setup, pg_admin  # noqa: E402

BENCH_DB = "annotator_al_bench"


def _build(n: int, classes: int) -> Any:
    import numpy as np

    from annotator.models import User
    from mlserve.models import ModelVersion, PredictionProbabilities, TaskEmbedding
    from projects.services import organization_create, project_create
    from tasks.models import Prediction, Task

    rng = np.random.default_rng(0)
    names = [f"intent_{i}" for i in range(classes)]
    choices = "".join(f'<Choice value="{c}"/>' for c in names)
    config = (
        '<View><Text name="text" value="$text"/>'
        f'<Choices name="intent" toName="text" choice="single">{choices}</Choices></View>'
    )
    manager = User.objects.create_user(username="manager", password=secrets.token_urlsafe())
    org = organization_create(title="Bench", owner=manager)
    project = project_create(organization=org, title="AL", created_by=manager, label_config=config)
    version = ModelVersion.objects.create(
        project=project, control="intent", kind="intent", number=1, name="intent-v1",
        status="ready", is_active=True, encoder="minilm", metrics={"classes": names},
    )  # fmt: skip
    step = 5000
    for start in range(0, n, step):
        size = min(step, n - start)
        tasks = Task.objects.bulk_create(
            [Task(project=project, data={"text": f"utterance {start + i}"}) for i in range(size)]
        )
        probabilities = rng.dirichlet(np.full(classes, 0.3), size=size).astype(np.float32)
        predictions = Prediction.objects.bulk_create(
            [
                Prediction(
                    task=t,
                    project=project,
                    result=[],
                    score=float(p.max()),
                    model_version=version.name,
                )
                for t, p in zip(tasks, probabilities, strict=True)
            ]
        )
        PredictionProbabilities.objects.bulk_create(
            [
                PredictionProbabilities(prediction=pr, version=version, probabilities=p.tobytes())
                for pr, p in zip(predictions, probabilities, strict=True)
            ]
        )
        vectors = rng.normal(size=(size, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        TaskEmbedding.objects.bulk_create(
            [
                TaskEmbedding(task=t, encoder="minilm", vector=v.tobytes())
                for t, v in zip(tasks, vectors, strict=True)
            ]
        )
    return project, version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=77)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="annotator-al-bench-"))
    try:
        django_setup(data_dir, db=args.db, bench_db=BENCH_DB)
        from activelearn.models import QueueSettings
        from activelearn.services import _pool, queue_refresh

        started = time.perf_counter()
        project, version = _build(args.tasks, args.classes)
        build_seconds = time.perf_counter() - started
        QueueSettings.objects.create(project=project, batch_size=100, exploration=0.15)
        floors, rounds = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            _pool(version)  # the probability rows alone: the floor
            floors.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            round_ = queue_refresh(project=project)
            rounds.append(time.perf_counter() - t0)
        assert round_.scored == args.tasks and len(round_.batch) == 100
        median = statistics.median(rounds)
        floor = statistics.median(floors)
        print(
            json.dumps(
                {
                    "db": args.db,
                    "tasks": args.tasks,
                    "classes": args.classes,
                    "build_seconds": round(build_seconds, 1),
                    "round_seconds_median": round(median, 3),
                    "round_seconds_all": [round(r, 3) for r in rounds],
                    "seconds_per_10k": round(median / args.tasks * 10_000, 3),
                    "baseline_read_probabilities_seconds": round(floor, 3),
                    "ratio_to_baseline": round(median / floor, 1),
                    "target_seconds": 2.0,
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.db == "postgresql":
            from django.db import connections

            connections.close_all()
            pg_admin(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")  # the pool holds sessions


if __name__ == "__main__":
    main()
