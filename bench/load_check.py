#!/usr/bin/env python
"""Load with a correctness audit: N simulated annotators against a real server, then the
database is checked row by row.

Each annotator loops for ``--seconds``: next-task, a draft auto-save, the submit (with an
Idempotency-Key) and, one time in five, the same submit again (a client retrying after a lost
answer). Afterwards:
- every accepted submit's annotation is there exactly once (lost = 0, duplicates = 0);
- no task was handed to two people at once outside overlap (no task holds two annotations);
- each task's counters match its rows (total_annotations, is_labeled);
- no draft survives a submitted task.
Latency percentiles come with GET /health under the same concurrency, measured in the same
run (compare the ratio: the machine is shared).

``--think`` paces each annotator like a person: a pause drawn uniformly from [0.5, 1.5] times the
given seconds before each draft save and each submit (reading the task, labelling it). The
default, 2 s, makes a task take about 4 s per annotator, which is fast for human labelling
(intent labelling runs at 5 to 30 s a task); ``--think 0`` is the closed loop, every
annotator firing its next request as soon as the last one answers: a throughput test whose
latency is the queue, not what an annotator waits.

    python bench/load_check.py                       # PostgreSQL, 50 annotators, 60 s, 2 s think
    python bench/load_check.py --think 0             # the closed loop (saturation)
    python bench/load_check.py --db sqlite --annotators 8 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_bench import (  # noqa: E402
    Client,
    Server,
    _create_project,
    _percentiles,
    _setup_users,
    health_latency,
    workload,
)

RESULT = [
    {
        "id": "i1",
        "from_name": "intent",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["track_order"]},
    }
]

AUDIT = """
import json
from django.db.models import Count, Q
from tasks.models import Annotation, Draft, Task
project = {project}
accepted = json.loads(open({accepted_path!r}).read())
ids = list(Annotation.objects.filter(project_id=project).values_list("id", flat=True))
present = set(ids)
lost = [a for a in accepted if a not in present]
per_task_user = (
    Annotation.objects.filter(project_id=project)
    .values("task_id", "completed_by_id").annotate(n=Count("id")).filter(n__gt=1).count()
)
doubles = (
    Task.objects.filter(project_id=project, overlap=1)
    .annotate(n=Count("annotations", filter=Q(annotations__was_cancelled=False)))
    .filter(n__gt=1).count()
)
mismatched = 0
for t in Task.objects.filter(project_id=project).annotate(
    n=Count("annotations", filter=Q(annotations__was_cancelled=False))
):
    if t.total_annotations != t.n or t.is_labeled != (t.n >= t.overlap):
        mismatched += 1
stale_drafts = sum(
    1 for d in Draft.objects.filter(task__project_id=project, annotation__isnull=True)
    if Annotation.objects.filter(task_id=d.task_id, completed_by_id=d.user_id).exists()
)
print(json.dumps({{
    "annotations_in_db": len(ids),
    "accepted_submits": len(accepted),
    "lost": len(lost),
    "duplicate_annotations": per_task_user,
    "tasks_held_by_two": doubles,
    "counter_mismatches": mismatched,
    "drafts_over_submitted_work": stale_drafts,
}}))
"""


def drive(
    server: Server, project: int, tokens: list[str], seconds: float, think: float = 0.0
) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"next": [], "draft": [], "submit": []}
    accepted: list[int] = []
    replays = {"sent": 0, "same_annotation": 0}
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def timed(kind: str, client: Client, method: str, path: str, body: Any = None,
              headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
        saved = client.headers
        client.headers = {**saved, **(headers or {})}
        t0 = time.perf_counter()
        try:
            return client.request(method, path, body)
        finally:
            elapsed = time.perf_counter() - t0
            client.headers = saved
            with lock:
                latencies[kind].append(elapsed)

    def annotator(token: str, seed: int) -> None:
        rng = random.Random(seed)
        client = Client(server.port, token)

        def pause() -> None:
            if think:
                time.sleep(think * rng.uniform(0.5, 1.5))

        # Annotators arrive spread over one think time, not all in the same millisecond.
        time.sleep(think * rng.random())
        while time.monotonic() < stop_at:
            status, body = timed("next", client, "GET", f"/api/projects/{project}/next")
            if status == 404:
                return  # no task left for this annotator
            if status != 200:
                errors[f"next {status}"] += 1
                return
            task = json.loads(body)["id"]
            pause()
            status, _ = timed(
                "draft", client, "POST", f"/api/tasks/{task}/label/draft",
                {"result": RESULT, "lead_time": 1.0},
            )  # fmt: skip
            if status != 200:
                errors[f"draft {status}"] += 1
            pause()
            key = {"Idempotency-Key": uuid.uuid4().hex}
            path = f"/api/tasks/{task}/label/submit"
            body_in = {"result": RESULT, "lead_time": 2.0, "next": False}
            status, body = timed("submit", client, "POST", path, body_in, key)
            if status != 201:
                errors[f"submit {status}"] += 1
                continue
            annotation = json.loads(body)["annotation"]["id"]
            with lock:
                accepted.append(annotation)
            if rng.random() < 0.2:
                status, body = timed("submit", client, "POST", path, body_in, key)
                with lock:
                    replays["sent"] += 1
                    if status == 201 and json.loads(body)["annotation"]["id"] == annotation:
                        replays["same_annotation"] += 1

    threads = [
        threading.Thread(target=annotator, args=(token, n)) for n, token in enumerate(tokens)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "seconds": round(elapsed, 1),
        "think_seconds": think,
        "requests_per_s": round(sum(len(v) for v in latencies.values()) / elapsed, 1),
        "submits_accepted": len(accepted),
        "annotations_per_s": round(len(accepted) / elapsed, 1),
        "latency": {kind: _percentiles(values) for kind, values in latencies.items()},
        "idempotent_replays": replays,
        "errors": dict(errors),
        "accepted": accepted,
    }


def run(
    db: str, annotators: int, seconds: float, tasks: int, workers: int, think: float = 0.0
) -> dict[str, Any]:
    server = Server(db, workers)
    try:
        server.start()
        manager_token, tokens = _setup_users(server, annotators)
        manager = Client(server.port, manager_token)
        project = _create_project(manager, "load check")
        status, body = manager.request("POST", f"/api/projects/{project}/import", workload(tasks))
        assert status == 201, body
        for token in tokens:
            me = json.loads(Client(server.port, token).get("/api/current-user")[1])
            status, body = manager.request(
                "POST", f"/api/projects/{project}/members", {"user": me["id"], "role": "annotator"}
            )
            assert status == 201, body
        figures = drive(server, project, tokens, seconds, think)
        accepted_path = server.data_dir / "accepted.json"
        accepted_path.write_text(json.dumps(figures.pop("accepted")))
        audit = json.loads(
            server.manage(
                "shell",
                "-v0",
                "-c",
                AUDIT.format(project=project, accepted_path=str(accepted_path)),
            )
            .strip()
            .splitlines()[-1]
        )
        baseline = health_latency(server, annotators, 20)
        return {
            "annotators": annotators,
            **figures,
            "audit": audit,
            "baseline_health": baseline,
            "p95_ratio_to_health_p95": {
                kind: round(values["p95_ms"] / max(baseline["p95_ms"], 0.1), 1)
                for kind, values in figures["latency"].items()
            },
        }
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="seconds an annotator pauses per step; 0: closed loop",
    )
    args = parser.parse_args(argv)
    report = {
        "machine": {"cpus": os.cpu_count()},
        args.db: run(args.db, args.annotators, args.seconds, args.tasks, args.workers, args.think),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
