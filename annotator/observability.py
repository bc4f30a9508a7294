"""What operators watch: Prometheus metrics, a request id on every request and log line, and
the health checks.

Metrics live in prometheus_client's registry of this process. With several web or worker
processes on one host, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder shared by them,
emptied at deploy): ``/metrics`` then sums every process's figures. Celery jobs are timed
by Celery's own signals, so every job is measured without touching it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_ready
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client import REGISTRY as PROCESS_REGISTRY

from annotator.jobs_runtime import workers_running

# --- metrics --------------------------------------------------------------------------------
# Buckets from 5 ms (a cached read) to 10 s (a slow export page); the API's targets are < 50 ms.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_LATENCY = Histogram(
    "annotator_http_request_duration_seconds",
    "Time to answer a request, per view (the URL pattern's name), method and status class.",
    ["view", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)
ANNOTATIONS = Counter(
    "annotator_annotations_total",
    "Annotations submitted (skips included, as cancelled=true); rate() gives per minute.",
    ["cancelled"],
)
NEXT_TASK_LATENCY = Histogram(
    "annotator_next_task_duration_seconds",
    "Time to pick and lease the next task for an annotator (the service, without HTTP).",
    buckets=_LATENCY_BUCKETS,
)
JOB_DURATION = Histogram(
    "annotator_job_duration_seconds",
    "Celery job run time, per job and outcome.",
    ["job", "state"],
    buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
JOB_FAILURES = Counter("annotator_job_failures_total", "Celery jobs that raised.", ["job"])
TRAINING_SECONDS = Histogram(
    "annotator_model_training_seconds",
    "Time to train one built-in model version, per kind (intent, entities).",
    ["kind"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)


def metrics_text() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(PROCESS_REGISTRY)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape target. With ``METRICS_TOKEN`` set it wants
    ``Authorization: Bearer <token>``; otherwise keep it off the public network."""
    token = settings.METRICS_TOKEN
    if token and request.headers.get("Authorization", "") != f"Bearer {token}":
        return JsonResponse({"detail": "A bearer token is required."}, status=401)
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


# --- Celery jobs ----------------------------------------------------------------------------
_job_started: dict[str, float] = {}


def _job_prerun(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _job_started[task_id] = time.perf_counter()


def _job_postrun(
    task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    started = _job_started.pop(task_id or "", None)
    if task is None:
        return
    # An eager job (embedded mode) that raised propagates before Celery records a state.
    state = state or "FAILURE"
    if started is not None:
        JOB_DURATION.labels(task.name, state).observe(time.perf_counter() - started)
    if state == "FAILURE":
        JOB_FAILURES.labels(task.name).inc()


task_prerun.connect(_job_prerun, weak=False, dispatch_uid="metrics-prerun")
task_postrun.connect(_job_postrun, weak=False, dispatch_uid="metrics-postrun")


def _worker_metrics_serve(**kwargs: Any) -> None:
    """A Celery worker runs its jobs in child processes: with ``WORKER_METRICS_PORT`` set its
    main process serves their summed metrics (``PROMETHEUS_MULTIPROC_DIR`` is then needed)."""
    port = os.environ.get("WORKER_METRICS_PORT")
    if not port:
        return
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = PROCESS_REGISTRY
    start_http_server(int(port), registry=registry)


worker_ready.connect(_worker_metrics_serve, weak=False, dispatch_uid="metrics-worker")


# --- request id and timing ------------------------------------------------------------------
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# An id a proxy sent is kept when it looks like one (no header injection into our logs).
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestMiddleware:
    """Give each request an id (the caller's ``X-Request-ID`` when sane, else a new one),
    echo it in the response, log it on every line, and time the request per view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        match = request.resolver_match
        view = (match.view_name if match else "") or "unmatched"
        HTTP_LATENCY.labels(view, request.method or "", f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        response["X-Request-ID"] = rid
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


# --- health ---------------------------------------------------------------------------------
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: a load balancer restarts it when this fails."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def _check_storage() -> None:
    default_storage.exists("health-probe")


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks = {"database": _check_database, "storage": _check_storage}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    return checks


def ready(request: HttpRequest) -> JsonResponse:
    """Whether this process can serve: the database, Redis (when configured) and the file
    storage answer. 503 names what failed, so the balancer stops sending traffic here."""
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            check()
        except Exception as exc:  # any failure of a dependency is "not ready", with why
            results[name] = f"error: {type(exc).__name__}: {exc}"[:300]
        else:
            results[name] = "ok"
    healthy = all(value == "ok" for value in results.values())
    body: dict[str, Any] = {"status": "ok" if healthy else "unavailable", "checks": results}
    # Informative only: a web process serves without workers (jobs then wait, and say so).
    workers = workers_running()
    if workers is not None:
        body["celery_workers"] = workers
    return JsonResponse(body, status=200 if healthy else 503)
