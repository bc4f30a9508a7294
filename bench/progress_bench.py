#!/usr/bin/env python
"""Labelling progress benchmark: ``GET /api/projects/<id>/label/progress`` at a million tasks.

Builds the same SQLite database as bench/datamanager_bench.py (1 000 000 tasks, 30% of them
annotated by one annotator), then times in-process (Django test client, no socket): the
progress of a user with no annotation in the project (the "remaining" figure alone), of the
annotator with 300 000 annotations, the selector's parts, and, as the baseline, the count the
endpoint used to run (every unlabelled task without an annotation of the user). "cold" clears
the cache first (SQLite's estimate is one full count shared for REMAINING_CACHE_SECONDS);
"warm" reads it. Prints one JSON document.

    python bench/progress_bench.py                 # 1 000 000 tasks
    python bench/progress_bench.py --tasks 20000   # quicker
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datamanager_bench import _build, _time  # noqa: E402  (bench/ is the script's folder)
from inprocess import django_setup  # noqa: E402


def run(n: int, repeat: int, seed: int) -> dict[str, Any]:
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Exists, OuterRef
    from django.test import Client

    from tasks import label_selectors
    from tasks.models import Annotation, Task

    built = _build(n, seed)
    project, manager, member = built["project"], built["manager"], built["member"]
    url = f"/api/projects/{project.pk}/label/progress"
    clients = {}
    for name, user in (("manager", manager), ("annotator", member)):
        clients[name] = Client()
        clients[name].force_login(user)

    def get(name: str, cold: bool) -> Any:
        def go() -> Any:
            if cold:
                cache.clear()
            response = clients[name].get(url)
            assert response.status_code == 200, response.content[:300]
            return response.json()

        return go

    def old_remaining(user: Any) -> Any:
        annotated = Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)
        return lambda: (
            Task.objects.filter(project=project, is_labeled=False)
            .exclude(Exists(annotated))
            .count()
        )

    cases = {
        "baseline: the former remaining count (no annotation of the user)": old_remaining(manager),
        "baseline: the former remaining count (annotator)": old_remaining(member),
        "progress, user without annotations, warm": get("manager", cold=False),
        "progress, user without annotations, cold cache": get("manager", cold=True),
        "progress, annotator with 30% of the tasks, warm": get("annotator", cold=False),
        "selector part: bounded unlabelled count (cap)": lambda: Task.objects.filter(
            project=project, is_labeled=False
        )[: label_selectors.REMAINING_EXACT_UP_TO + 1].count(),
    }
    timings = {name: _time(fn, repeat) for name, fn in cases.items()}
    return {
        "tasks": n,
        "repeat": repeat,
        "build_s": built["build_s"],
        "database": f"SQLite {connection.Database.sqlite_version}",
        "answers": {name: get(name, cold=True)() for name in clients},
        "timings": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="annotator-progress-bench-"))
    try:
        django_setup(data_dir, env={"ALLOWED_HOSTS": "testserver,localhost"})
        print(json.dumps(run(args.tasks, args.repeat, args.seed), indent=2))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
