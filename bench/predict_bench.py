#!/usr/bin/env python
"""On-open prediction benchmark: a task opened without a prediction is predicted by the
project's active built-in intent model (``mlserve.services.training.builtin_task_predict``:
embed the text, cache the embedding, run the head, store the prediction and its
probabilities). Target: under 100 ms per task on the 2-core machine.

Builds a fresh SQLite database with a demo intent project (``--train`` annotated tasks),
trains and promotes a version, imports ``--tasks`` new tasks, then times the fetcher on each
(warm: the encoder and the model are loaded by a first call). Baseline in the same run: the
sentence encoder alone on the same texts. Prints one JSON document.

    python bench/predict_bench.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=300)
    parser.add_argument("--tasks", type=int, default=50)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="annotator-predict-bench-"))
    os.environ.update(
        {
            "ANNOTATOR_DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    for key in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(key, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from annotator.demo.text import generate_utterances, intent_entity_config, utterance_task
        from annotator.models import User
        from mlserve.builtin.encoders import encode
        from mlserve.services import model_version_create, model_version_train
        from mlserve.services.training import builtin_task_predict
        from projects.services import organization_create, project_create
        from tasks.models import Task
        from tasks.services import tasks_import

        user = User.objects.create_user(username="bench", password=secrets.token_urlsafe())
        org = organization_create(title="Bench", owner=user)
        project = project_create(
            organization=org, title="predict", created_by=user, label_config=intent_entity_config()
        )
        rng = random.Random(0)
        utterances = generate_utterances(args.train + args.tasks + 1, seed=11)
        train = [
            utterance_task(u, with_annotation=True, with_prediction=False, rng=rng)
            for u in utterances[: args.train]
        ]
        tasks_import(project=project, items=train, user=user)
        version = model_version_create(project=project, control="intent")
        model_version_train(version=version)
        fresh = [{"text": u.text, "context": []} for u in utterances[args.train :]]
        ids = tasks_import(project=project, items=fresh, user=None).task_ids
        tasks = list(Task.objects.filter(pk__in=ids).select_related("project").order_by("id"))
        builtin_task_predict(tasks[0])  # warm: encoder and model loaded once per process
        timings = []
        for task in tasks[1:]:
            t0 = time.perf_counter()
            fetched = builtin_task_predict(task)
            timings.append(time.perf_counter() - t0)
            assert fetched is not None and fetched.prediction is not None
        floor = []
        for task in tasks[1:]:
            t0 = time.perf_counter()
            encode([task.data["text"]])
            floor.append(time.perf_counter() - t0)
        ordered = sorted(timings)
        median = statistics.median(timings)
        print(
            json.dumps(
                {
                    "tasks": len(timings),
                    "median_ms": round(1000 * median, 1),
                    "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
                    "baseline_encode_median_ms": round(1000 * statistics.median(floor), 1),
                    "ratio_to_baseline": round(median / statistics.median(floor), 1),
                    "target_ms": 100,
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
