"""Long Celery jobs (imports, exports, training) that survive their worker's death.

A job row carries ``status``, ``heartbeat_at`` and ``attempts``. While a worker runs a job, a
background thread (its own database connection, autocommit) writes ``heartbeat_at`` every
JOB_HEARTBEAT_SECONDS. So:

- a claim takes a queued job, or a running one whose heartbeat is older than
  JOB_STALE_SECONDS (its worker died: the message came back); a running job with a fresh
  heartbeat is left alone, so a message redelivered after the broker's visibility timeout
  while the job still runs does not run it twice;
- the periodic reaper (``jobs_stale_recover``) requeues running jobs whose heartbeat went
  stale (their task is sent again) until JOB_MAX_ATTEMPTS claims, then fails them with a
  message that says so;
- workers announce themselves in Redis (``worker_announce_start`` on Celery's
  ``worker_ready``), so a queued job can say that no worker is there to run it.

Each app registers its job models (``job_kind_register`` in its ``AppConfig.ready``): this
module imports none of them (DESIGN §2).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import F, Q
from django.utils import timezone

log = logging.getLogger(__name__)

NO_WORKER = "no Celery worker is running: start one with celery -A annotator worker"


@dataclass(frozen=True)
class JobKind:
    """One model of long jobs: its status values and the Celery task that runs a row."""

    name: str  # "import", "export", "training": shown in messages
    model: type[models.Model]
    task: str  # the Celery task's name, called with the row's id
    queued: str
    running: str
    failed: str
    # The fields that record a failure with this message (``errors``, ``error``...).
    failure: Callable[[str], dict[str, Any]]


_KINDS: dict[type[models.Model], JobKind] = {}


def job_kind_register(kind: JobKind) -> None:
    _KINDS[kind.model] = kind


def _rows(kind: JobKind) -> models.QuerySet[Any]:
    return kind.model._default_manager.all()


def job_kinds() -> list[JobKind]:
    return list(_KINDS.values())


def job_kind(model: type[models.Model]) -> JobKind:
    return _KINDS[model]


def _stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)


def _stale_q(kind: JobKind) -> Q:
    # A running row without a heartbeat was not started by job_claim (a synchronous run):
    # never taken for dead.
    return Q(status=kind.running, heartbeat_at__lt=_stale_before())


def job_claim(kind: JobKind, pk: int, **fields: Any) -> bool:
    """Take the job for this worker: queued, or running with a stale heartbeat (a dead
    worker's, while attempts remain). One UPDATE, so of two copies of a message one wins."""
    claimable = Q(status=kind.queued) | (_stale_q(kind) & Q(attempts__lt=settings.JOB_MAX_ATTEMPTS))
    now = timezone.now()
    return bool(
        _rows(kind)
        .filter(claimable, pk=pk)
        .update(status=kind.running, heartbeat_at=now, attempts=F("attempts") + 1, **fields)
    )


@contextmanager
def job_heartbeat(kind: JobKind, pk: int) -> Iterator[None]:
    """Beat while the body runs. The thread never delays the job's end: a beat blocked on
    a lock (SQLite's single writer) is abandoned, its daemon thread exits after it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat, args=(kind, pk, stop), name=f"job-heartbeat-{kind.name}-{pk}", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1)


def _beat(kind: JobKind, pk: int, stop: threading.Event) -> None:
    try:
        while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
            try:
                _rows(kind).filter(pk=pk, status=kind.running).update(heartbeat_at=timezone.now())
            except Exception:  # a missed beat is retried at the next; the job goes on
                log.warning("heartbeat of %s %s failed", kind.name, pk, exc_info=True)
    finally:
        connections.close_all()  # this thread's own connections only


def job_send(kind: JobKind, pk: int) -> None:
    """Queue the job's Celery task (run at once in embedded, eager mode)."""
    from celery import current_app

    task = current_app.tasks.get(kind.task)
    if task is None:
        current_app.send_task(kind.task, args=[pk])
    else:
        task.delay(pk)


def job_retry(kind: JobKind, pk: int, *, reset: dict[str, Any]) -> bool:
    """A failed job queued again (the user's retry), its task sent once this transaction
    commits; attempts start over. False when the job was not failed (any more)."""
    requeued = (
        _rows(kind)
        .filter(pk=pk, status=kind.failed)
        .update(status=kind.queued, attempts=0, heartbeat_at=None, finished_at=None, **reset)
    )
    if requeued:
        transaction.on_commit(lambda: job_send(kind, pk))
    return bool(requeued)


def worker_lost_message(kind: JobKind, attempts: int) -> str:
    nothing = "nothing was imported" if kind.name == "import" else "nothing was kept"
    return (
        f"the worker running this {kind.name} stopped {attempts} "
        f"time{'s' if attempts != 1 else ''}; {nothing}; retry"
    )


def jobs_stale_recover() -> dict[str, int]:
    """The reaper: each running job whose heartbeat went stale is queued again and its task
    sent again, or failed once JOB_MAX_ATTEMPTS claims died."""
    counts = {"requeued": 0, "failed": 0}
    for kind in job_kinds():
        stale = _rows(kind).filter(_stale_q(kind)).values_list("pk", "attempts")
        for pk, attempts in list(stale):
            # The same condition again in the UPDATE: a job that beat or finished since the
            # SELECT is left alone.
            row = _rows(kind).filter(_stale_q(kind), pk=pk)
            if attempts < settings.JOB_MAX_ATTEMPTS:
                if row.update(status=kind.queued, heartbeat_at=None):
                    job_send(kind, pk)
                    counts["requeued"] += 1
            elif row.update(
                status=kind.failed,
                finished_at=timezone.now(),
                **kind.failure(worker_lost_message(kind, attempts)),
            ):
                counts["failed"] += 1
    return counts


# --- workers present ----------------------------------------------------------------------------
def _workers_key() -> str:
    return f"{settings.REDIS_PREFIX}:celery-workers"


def _redis() -> Any:
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)


_workers_seen: list[Any] = []  # [monotonic time, key, count] of the last look


def workers_running() -> int | None:
    """Workers that announced themselves within 3 announce periods; None when jobs run in
    this process (eager) or Redis cannot say."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        return None
    now, key = time.monotonic(), _workers_key()
    if _workers_seen and now - _workers_seen[0] < 1 and _workers_seen[1] == key:
        return _workers_seen[2]  # a page of jobs asks once
    since = time.time() - 3 * settings.WORKER_ANNOUNCE_SECONDS
    client = _redis()
    try:
        count: int | None = int(client.zcount(key, since, "+inf"))
    except Exception:
        count = None
    finally:
        client.close()
    _workers_seen[:] = [now, key, count]
    return count


def job_waiting(*, status: str, heartbeat_at: datetime | None, queued: str, running: str) -> str:
    """What holds a job up, for the API and the project page ("" when nothing does): no
    worker to start it, or a running job whose worker went silent (resumed or failed soon)."""
    if status == queued and workers_running() == 0:
        return NO_WORKER
    if status == running and heartbeat_at is not None and heartbeat_at < _stale_before():
        return (
            "the worker running this job stopped answering: it will be resumed by another "
            f"worker (or failed after {settings.JOB_MAX_ATTEMPTS} attempts)"
        )
    return ""


def job_waiting_of(row: models.Model) -> str:
    """``job_waiting`` for a row of a registered job model (the API's ``waiting`` field)."""
    kind = job_kind(type(row))
    return job_waiting(
        status=row.status,  # type: ignore[attr-defined]
        heartbeat_at=row.heartbeat_at,  # type: ignore[attr-defined]
        queued=kind.queued,
        running=kind.running,
    )


def jobs_waiting_text(*, project_id: int) -> str:
    """The project page's line about its queued jobs when no worker can run them."""
    if workers_running() != 0:
        return ""
    queued = [
        kind.name
        for kind in job_kinds()
        if _rows(kind).filter(project_id=project_id, status=kind.queued).exists()
    ]
    if not queued:
        return ""
    return f"Queued ({', '.join(queued)}), not started: {NO_WORKER}."


def worker_announce_start(sender: Any = None, **kwargs: Any) -> None:
    """Celery's ``worker_ready``: announce this worker every WORKER_ANNOUNCE_SECONDS."""
    if not settings.REDIS_URL:
        return
    name = f"{getattr(sender, 'hostname', None) or socket.gethostname()}:{os.getpid()}"
    threading.Thread(
        target=_announce, args=(name,), name="celery-worker-announce", daemon=True
    ).start()


def _announce(name: str) -> None:
    client = _redis()
    key = _workers_key()
    while True:
        try:
            now = time.time()
            client.zadd(key, {name: now})
            client.zremrangebyscore(key, "-inf", now - 10 * settings.WORKER_ANNOUNCE_SECONDS)
        except Exception:
            log.warning("could not announce the worker in Redis", exc_info=True)
        time.sleep(settings.WORKER_ANNOUNCE_SECONDS)


def worker_announce_stop(sender: Any = None, **kwargs: Any) -> None:
    """Celery's ``worker_shutdown``: a worker stopped on purpose leaves at once."""
    if not settings.REDIS_URL:
        return
    name = f"{getattr(sender, 'hostname', None) or socket.gethostname()}:{os.getpid()}"
    client = _redis()
    try:
        client.zrem(_workers_key(), name)
    except Exception:
        log.warning("could not remove the worker from Redis", exc_info=True)
    finally:
        client.close()
