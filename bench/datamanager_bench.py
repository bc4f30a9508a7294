#!/usr/bin/env python
"""Data manager benchmark: table pages of a project with a million tasks on SQLite.

Builds a fresh SQLite database (migrations, then direct bulk inserts: tasks with priorities,
annotation counts and prediction scores full of ties, some annotations under review, some
assignments), then times ``GET /api/projects/<id>/data`` in-process (Django test client:
middleware, auth, DRF, selector, serializer; no HTTP socket) for the first page, a page
90% deep, and filtered and sorted pages. Baselines from the same run and table: a bare
``SELECT ... ORDER BY id LIMIT 50`` (the floor), the same at OFFSET 90% (what a page-number
API pays), and the API's own count. Prints one JSON document; read the ratios.

    python bench/datamanager_bench.py                 # 1 000 000 tasks
    python bench/datamanager_bench.py --tasks 20000   # quicker
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from inprocess import django_setup  # noqa: E402

WORDS = [
    "order", "refund", "delivery", "parcel", "invoice", "account", "password", "card",
    "payment", "late", "broken", "exchange", "size", "colour", "address", "store", "manager",
    "discount", "coupon", "subscription", "cancel",
]  # fmt: skip
RARE = "zanzibar"  # in 1 task of 2000: a search that must scan


def _build(n: int, seed: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from annotator.models import User
    from projects.services import organization_create, project_create, project_member_set
    from tasks.models import Annotation, Task, TaskAssignment
    from tasks.services.bulk import insert_rows
    from tasks.services.imports import TASK_COLUMNS
    from tests.factories import NER_CONFIG

    rng = random.Random(seed)
    manager = User.objects.create_user(username="manager", password=secrets.token_urlsafe())
    member = User.objects.create_user(username="annotator", password=secrets.token_urlsafe())
    org = organization_create(title="Bench", owner=manager)
    project = project_create(
        organization=org, title="1M", created_by=manager, label_config=NER_CONFIG
    )
    project_member_set(project=project, user=member, role="annotator")
    now = timezone.now()
    started = time.perf_counter()
    annotation_columns = (
        "task_id", "project_id", "completed_by_id", "result", "was_cancelled", "ground_truth",
        "review_status", "notes", "version", "created_at", "updated_at",
    )  # fmt: skip
    batch = 50_000
    with transaction.atomic():
        for start in range(1, n + 1, batch):
            tasks, annotations, assignments = [], [], []
            for i in range(start, min(start + batch, n + 1)):
                words = " ".join(rng.choice(WORDS) for _ in range(12))
                if i % 2000 == 0:
                    words += f" {RARE}"
                annotated = rng.random() < 0.3
                scored = rng.random() < 0.7
                tasks.append((
                    i, project.pk, json.dumps({"text": f"#{i} {words}"}), "{}",
                    round(rng.random(), 1), 1, int(annotated), 0, int(scored), annotated,
                    round(rng.random(), 2) if scored else None, now, now,
                ))  # fmt: skip
                if annotated:
                    status = "pending" if rng.random() < 0.05 else ""
                    annotations.append((
                        i, project.pk, member.pk, "[]", False, False, status, "", 1, now, now,
                    ))  # fmt: skip
                if rng.random() < 0.05:
                    assignments.append(
                        TaskAssignment(project=project, task_id=i, user=member, created_at=now)
                    )
            insert_rows(Task, TASK_COLUMNS, tasks)  # the importer's column order
            insert_rows(Annotation, annotation_columns, annotations)
            TaskAssignment.objects.bulk_create(assignments)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "project": project,
        "manager": manager,
        "member": member,
        "build_s": round(time.perf_counter() - started, 1),
    }


def _time(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    fn()  # warm the page cache and the statement cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "max_ms": round(samples[-1], 2),
    }


def run(n: int, repeat: int, size: int, seed: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from tasks.selectors_datamanager import Cursor, TaskFilter, TaskSort, datamanager_page

    built = _build(n, seed)
    project, manager, member = built["project"], built["manager"], built["member"]
    client = Client()
    client.force_login(manager)
    url = f"/api/projects/{project.pk}/data"
    deep = int(n * 0.9)

    def sql(query: str, params: list[Any]) -> Callable[[], Any]:
        def go() -> Any:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall()

        return go

    def deep_cursor(sort: str, column: str, descending: bool) -> str:
        """The cursor a client holds after reading 90% of the table (found once, by OFFSET)."""
        order = "DESC" if descending else "ASC"
        null_last = f"{column} IS NULL, " if column != "id" else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column}, id FROM tasks_task WHERE project_id = %s "
                f"ORDER BY {null_last}{column} {order}, id {order} LIMIT 1 OFFSET %s",
                [project.pk, deep],
            )
            key, task_id = cursor.fetchone()
        key = None if column == "id" else key
        segment = 1 if column != "id" and key is None else 0
        return Cursor(sort=sort, segment=segment, key=key, id=task_id).encode()

    def page(**params: Any) -> Callable[[], Any]:
        query = {"page_size": size, **params}

        def go() -> Any:
            response = client.get(url, query)
            assert response.status_code == 200, response.content[:300]
            return response

        return go

    def selector(sort: TaskSort, cursor: str | None) -> Callable[[], Any]:
        decoded = Cursor.decode(cursor, sort.text) if cursor else None
        return lambda: datamanager_page(
            project=project, flt=TaskFilter(), sort=sort, cursor=decoded, size=size
        )

    bare = "SELECT id, data FROM tasks_task WHERE project_id = %s ORDER BY id LIMIT %s"
    deep_id = deep_cursor("id", "id", False)
    deep_priority = deep_cursor("-priority", "priority", True)
    cases: dict[str, Callable[[], Any]] = {
        "baseline: bare SELECT ... ORDER BY id LIMIT 50": sql(bare, [project.pk, size]),
        "baseline: the same at OFFSET 90%": sql(f"{bare} OFFSET %s", [project.pk, size, deep]),
        "baseline: existing task list API, after=<90% id>": lambda: client.get(
            f"/api/projects/{project.pk}/tasks", {"after": deep, "page_size": size}
        ),
        "selector only: first page (id)": selector(TaskSort(), None),
        "selector only: 90% deep (id)": selector(TaskSort(), deep_id),
        "selector only: 90% deep (-priority)": selector(TaskSort("priority", True), deep_priority),
        "first page (id)": page(),
        "page 90% deep (id)": page(cursor=deep_id),
        "first page (-priority)": page(sort="-priority"),
        "page 90% deep (-priority)": page(sort="-priority", cursor=deep_priority),
        "page 90% deep (annotations)": page(
            sort="annotations", cursor=deep_cursor("annotations", "total_annotations", False)
        ),
        "first page (-prediction_score)": page(sort="-prediction_score"),
        "page 50% deep (-prediction_score)": page(
            sort="-prediction_score",
            cursor=Cursor(sort="-prediction_score", segment=0, key=0.5, id=n // 2).encode(),
        ),
        "filter not annotated, -prediction_score": page(
            annotated="false", sort="-prediction_score"
        ),
        "filter score 0.4-0.6, has predictions": page(
            score_min=0.4, score_max=0.6, has_predictions="true"
        ),
        "filter review=pending": page(review="pending"),
        "filter assignee, -priority": page(assignee=member.pk, sort="-priority"),
        "search common word (first page)": page(search="refund"),
        f"search rare word ({RARE}, one 20k window)": page(search=RARE),
        "count, no filter": lambda: client.get(f"{url}/count"),
        "count, not annotated": lambda: client.get(f"{url}/count", {"annotated": "false"}),
        "count, search rare word (full scan)": lambda: client.get(f"{url}/count", {"search": RARE}),
    }
    timings = {name: _time(fn, repeat) for name, fn in cases.items()}
    floor = timings["baseline: bare SELECT ... ORDER BY id LIMIT 50"]["median_ms"]
    for figures in timings.values():
        figures["x_baseline"] = round(figures["median_ms"] / floor, 1) if floor else None
    return {
        "tasks": n,
        "page_size": size,
        "repeat": repeat,
        "build_s": built["build_s"],
        "database": f"SQLite {connection.Database.sqlite_version}",
        "pages": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database directory")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="annotator-dm-bench-"))
    try:
        django_setup(data_dir, env={"ALLOWED_HOSTS": "testserver,localhost"})
        report = run(args.tasks, args.repeat, args.page_size, args.seed)
        print(json.dumps(report, indent=2))
    finally:
        if args.keep:
            print(f"database kept in {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
