"""20 clients hammer next-task, submit and update on a 200-task project, over the API.

Leases: while a client holds a task (from its hand-out to its submit) nobody else is handed
it (overlap 1). Updates: clients edit annotations they share (reviewers may edit others'
work) with the version they read; every accepted write is in the final state (the version
counts them all and the last one's content is what is stored), every refused one got 409.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

import pytest
from django.db import close_old_connections

from tasks.models import Annotation, Task
from tasks.services import tasks_import
from tests.api_helpers import api
from tests.factories import add_member, make_project, make_user

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 20
TASKS = 200
ROUNDS = 6


def _result(marker: str) -> list[dict]:
    return [
        {
            "id": marker,
            "from_name": "intent",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["greet"]},
        }
    ]


def test_twenty_clients_never_share_a_task_and_lose_no_update():
    project = make_project()
    tasks_import(project=project, items=[{"text": f"t{i}"} for i in range(TASKS)], user=None)
    users = [make_user() for _ in range(CLIENTS)]
    for user in users:
        add_member(project, user, role="reviewer")
    clients = [api(user) for user in users]

    lock = threading.Lock()
    held: dict[int, list[tuple[float, float, int]]] = defaultdict(list)
    submitted: list[int] = []
    accepted: dict[int, list[tuple[int, str]]] = defaultdict(list)
    refused = 0
    errors: list[str] = []

    def patient(send, *args, **kwargs):
        # 20 clients share a pool of DB_POOL_MAX (10) connections; under CI load one can wait
        # longer than DB_POOL_TIMEOUT and get 503 with Retry-After before the view ran (no
        # connection, nothing done): a client retries then, as the API asks.
        for _ in range(5):
            answer = send(*args, **kwargs)
            if answer.status_code != 503:
                return answer
            close_old_connections()
            time.sleep(0.2)
        return answer

    def work(index: int) -> None:
        nonlocal refused
        client, rng = clients[index], random.Random(index)
        try:
            for round_ in range(ROUNDS):
                got = patient(client.get, f"/api/projects/{project.pk}/next")
                if got.status_code != 200:
                    errors.append(f"next {got.status_code}")
                    return
                task, start = got.json()["id"], time.monotonic()
                marker = f"c{index}-r{round_}"
                sent = patient(
                    client.post,
                    f"/api/tasks/{task}/annotations",
                    {"result": _result(marker)},
                    format="json",
                )
                if sent.status_code != 201:
                    errors.append(f"submit {sent.status_code} {sent.content[:200]!r}")
                    return
                with lock:
                    held[task].append((start, time.monotonic(), index))
                    submitted.append(sent.json()["id"])
                    pool = list(submitted)
                for edit in range(3):
                    target = rng.choice(pool)
                    read = patient(client.get, f"/api/annotations/{target}")
                    version = read.json()["version"]
                    marker = f"c{index}-r{round_}-e{edit}"
                    answer = patient(
                        client.patch,
                        f"/api/annotations/{target}",
                        {"result": _result(marker), "version": version},
                        format="json",
                    )
                    with lock:
                        if answer.status_code == 200:
                            accepted[target].append((answer.json()["version"], marker))
                        elif answer.status_code == 409:
                            refused += 1
                            assert answer.json()["current"]["version"] > version
                        else:
                            errors.append(f"update {answer.status_code} {answer.content[:200]!r}")
                # The test client keeps a thread's connection (a server returns it to the pool
                # after each request): 20 clients share a pool of DB_POOL_MAX (10), and one
                # waiting longer than DB_POOL_TIMEOUT gets a 503.
                close_old_connections()
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(submitted) == CLIENTS * ROUNDS
    # Leases: one holder per task (overlap 1), so no two holding intervals of a task overlap.
    for task, spans in held.items():
        assert len(spans) == 1, (task, spans)
    assert Task.objects.filter(project=project, total_annotations__gt=1).count() == 0
    # Updates: versions of accepted writes are distinct, and the stored row is the last one.
    assert sum(len(v) for v in accepted.values()) > 0
    assert refused > 0, "the workload must produce conflicts to check them"
    for pk, writes in accepted.items():
        stored = Annotation.objects.get(pk=pk)
        versions = sorted(v for v, _ in writes)
        assert versions == list(range(2, 2 + len(writes))), (pk, versions)
        assert stored.version == 1 + len(writes)
        assert stored.result[0]["id"] == max(writes)[1]
