#!/usr/bin/env python
"""Agreement benchmark: a project's agreement over ``--tasks`` tasks of which ``--overlap``
percent were labelled by two annotators (of ``--annotators``), the rest by one.

Builds a fresh database (SQLite, or PostgreSQL with ``--db postgresql`` at ``BENCH_PG_URL``)
with generated rows written by bulk insert (a single-choice intent config with 10 labels;
the two annotators of an overlapped task agree 80 % of the time), then times in-process:

- baseline: the raw read of the compared annotations (task, annotator, result of every
  finished annotation on a task with two or more: the query agreement starts from);
- ``project_agreement`` for each categorical metric: read + project, per-pair, per-annotator,
  per-label and per-task figures (what ``GET /api/projects/{id}/agreement`` computes);
- ``project_agreement_refresh``: every task's ``Task.agreement`` written, low ones escalated.

Prints one JSON document; the target is under 5 s for ``project_agreement``.

    python bench/agreement_bench.py                     # 100 000 tasks, 10 % overlap, SQLite
    python bench/agreement_bench.py --db postgresql
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

BENCH_DB = "annotator_agreement_bench"
LABELS = [f"intent_{i}" for i in range(10)]
TARGET_SECONDS = 5.0


def _result(label: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "c1",
            "from_name": "intent",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def _build(n: int, overlap_percent: int, n_annotators: int) -> Any:
    import numpy as np

    from annotator.models import User
    from projects.services import organization_create, project_create, project_member_set
    from tasks.models import Annotation, Task

    rng = np.random.default_rng(0)
    choices = "".join(f'<Choice value="{c}"/>' for c in LABELS)
    config = (
        '<View><Text name="text" value="$text"/>'
        f'<Choices name="intent" toName="text" choice="single">{choices}</Choices></View>'
    )
    manager = User.objects.create_user(username="manager", password=secrets.token_urlsafe())
    org = organization_create(title="Bench", owner=manager)
    project = project_create(
        organization=org, title="Agreement", created_by=manager, label_config=config
    )
    annotators = [
        User.objects.create_user(username=f"annotator{i}", password=secrets.token_urlsafe())
        for i in range(n_annotators)
    ]
    for user in annotators:
        project_member_set(project=project, user=user)
    results = {label: _result(label) for label in LABELS}
    step = 5000
    for start in range(0, n, step):
        size = min(step, n - start)
        overlapped = rng.random(size) < overlap_percent / 100
        tasks = Task.objects.bulk_create(
            [
                Task(
                    project=project,
                    data={"text": f"utterance {start + i}"},
                    overlap=2 if overlapped[i] else 1,
                    total_annotations=2 if overlapped[i] else 1,
                    is_labeled=True,
                )
                for i in range(size)
            ]
        )
        truth = rng.integers(0, len(LABELS), size=size)
        rows = []
        for i, task in enumerate(tasks):
            pair = rng.choice(n_annotators, size=2, replace=False)
            first = LABELS[truth[i]]
            rows.append(Annotation(task=task, project=project, completed_by=annotators[pair[0]],
                                   result=results[first]))  # fmt: skip
            if overlapped[i]:
                agree = rng.random() < 0.8
                second = first if agree else LABELS[rng.integers(0, len(LABELS))]
                rows.append(Annotation(task=task, project=project, completed_by=annotators[pair[1]],
                                       result=results[second]))  # fmt: skip
        Annotation.objects.bulk_create(rows, batch_size=2000)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--overlap", type=int, default=10, help="percent of tasks with 2")
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="annotator-agreement-bench-"))
    try:
        django_setup(data_dir, db=args.db, bench_db=BENCH_DB)
        from quality.agreement import METRICS, project_agreement, ratings_read
        from quality.services import project_agreement_refresh

        started = time.perf_counter()
        project = _build(args.tasks, args.overlap, args.annotators)
        build_seconds = time.perf_counter() - started
        baseline, timings = [], {m: [] for m in METRICS["categorical"]}
        report = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            ratings = ratings_read(project=project)
            baseline.append(time.perf_counter() - t0)
            for metric, runs in timings.items():
                t0 = time.perf_counter()
                report = project_agreement(project=project, control="intent", metric=metric)
                runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        refreshed = project_agreement_refresh(project=project)
        refresh_seconds = time.perf_counter() - t0
        assert report is not None and report.project.value is not None
        compared = len(ratings.task_ids)
        assert refreshed == compared
        medians = {m: round(statistics.median(r), 3) for m, r in timings.items()}
        floor = statistics.median(baseline)
        worst = max(medians.values())
        print(
            json.dumps(
                {
                    "db": args.db,
                    "tasks": args.tasks,
                    "overlapped_tasks": compared,
                    "annotators": args.annotators,
                    "build_seconds": round(build_seconds, 1),
                    "baseline_read_annotations_seconds": round(floor, 3),
                    "project_agreement_seconds_median": medians,
                    "ratio_to_baseline": round(worst / floor, 1),
                    "refresh_all_tasks_seconds": round(refresh_seconds, 3),
                    "gwet_ac1": round(report.project.value, 4),
                    "target_seconds": TARGET_SECONDS,
                    "within_target": worst < TARGET_SECONDS,
                },
                indent=2,
            )
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.db == "postgresql":
            from django.db import connections

            connections.close_all()
            # WITH (FORCE): the connection pool may still hold sessions.
            pg_admin(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
