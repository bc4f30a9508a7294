"""External ML backends: the client side of Label Studio's ML-backend protocol.

We speak it as Label Studio 1.x does (``ml/api_connector.py``), so any backend written with
``label-studio-ml-backend`` works unchanged:

- ``GET /health`` -> ``{"status": "UP", ...}``
- ``POST /setup`` ``{project, schema, hostname, access_token, model_version, extra_params}``
  -> ``{"model_version": ...}``
- ``POST /predict`` ``{tasks, project: "<id>.<created timestamp>", label_config, params}``
  -> ``{"results": [{"result": [...], "score", "model_version"}, ...]}`` (older backends
  answer a bare list, or put ``model_version`` beside ``results``: both are read)
- ``POST /webhook`` ``{action: ANNOTATION_CREATED | ANNOTATION_UPDATED | START_TRAINING,
  project, task?, annotation?}``; a backend without /webhook gets ``POST /train`` instead.

Every call goes through the SSRF-safe client (annotator.outbound) under the backend's
timeout (a shorter one to connect), never inside a database transaction, and a failure of
any kind (refused address, timeout, HTTP error, bad JSON) becomes ``BackendError`` with a
message saying which call failed and why, recorded on the backend (state ER).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from annotator.outbound import OutboundError, OutboundResponse, outbound_get, outbound_post_json
from mlserve.models import MLBackend, MLBackendAuth, MLBackendState
from projects.models import Project
from tasks.api.render import annotation_dict
from tasks.models import Annotation, Prediction, Task
from tasks.services.common import result_check, task_counters_refresh
from tasks.services.labelling import PredictionFetch

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0  # seconds to open a connection, whatever the backend's timeout
PREDICT_CHUNK = 16  # tasks per /predict request of a batch job
ERROR_SNIPPET = 200  # characters of a bad answer quoted in the error message
# A backend that failed is not asked again when a task is opened for this long: a page
# must not wait on a backend known to be down at every task.
ON_OPEN_RETRY_AFTER = 60.0
_FLAG_KEY = "mlserve:project-has-backends:{}"
_FLAG_SECONDS = 300
_JOB_KEY = "mlserve:backend-predict-job:{}"
_JOB_SECONDS = 24 * 3600

Progress = Callable[[int, int], None]


class BackendError(Exception):
    """A call to an ML backend that failed; the message is what the user is shown."""


@dataclass(frozen=True)
class RemotePrediction:
    result: list[dict[str, Any]]
    score: float | None
    model_version: str


@dataclass
class PredictReport:
    """What a prediction run did: predictions stored, items refused (with the reason)."""

    total: int = 0
    done: int = 0
    stored: int = 0
    invalid: list[str] = field(default_factory=list)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "done": self.done,
            "stored": self.stored,
            "invalid": self.invalid[:50],
            "invalid_count": len(self.invalid),
            "error": self.error,
        }


# --- the project's flag: any backend? (read on every submit, so cached) ----------------------
def project_has_backends(*, project_id: int) -> bool:
    """Whether the project has an ML backend: one cache read, one indexed EXISTS on a miss.
    Backend create/delete reset it; another process may see the old answer for at most
    ``_FLAG_SECONDS`` with a per-process cache (the locmem default)."""
    key = _FLAG_KEY.format(project_id)
    flag = cache.get(key)
    if flag is None:
        flag = MLBackend.objects.filter(project_id=project_id).exists()
        cache.set(key, flag, _FLAG_SECONDS)
    return bool(flag)


def project_backends_flag_reset(*, project_id: int) -> None:
    cache.delete(_FLAG_KEY.format(project_id))


# --- one call ---------------------------------------------------------------------------------
def _endpoint(backend: MLBackend, path: str) -> str:
    parts = urlsplit(backend.url)
    base = parts.path.rstrip("/") + path
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if backend.auth_method == MLBackendAuth.BASIC_AUTH and backend.basic_auth_user:
        # The outbound client sends a URL's user:password as basic auth (and never logs it).
        user = quote(backend.basic_auth_user, safe="")
        password = quote(backend.basic_auth_pass, safe="")
        netloc = f"{user}:{password}@{netloc}"
    elif "@" in parts.netloc:
        netloc = parts.netloc
    return urlunsplit((parts.scheme, netloc, base, parts.query, ""))


def _send(
    backend: MLBackend, path: str, payload: object | None, timeout: float | None = None
) -> OutboundResponse:
    seconds = min(backend.timeout, timeout) if timeout else backend.timeout
    options = {
        "allow_private": settings.OUTBOUND_ALLOW_PRIVATE_URLS,
        "timeout": seconds,
        "connect_timeout": min(seconds, CONNECT_TIMEOUT),
    }
    url = _endpoint(backend, path)
    try:
        if payload is None:
            return outbound_get(url, **options)  # type: ignore[arg-type]
        return outbound_post_json(url, payload, **options)  # type: ignore[arg-type]
    except OutboundError as exc:
        raise BackendError(f"ML backend {path} failed: {exc.reason}") from exc


def _json(response: OutboundResponse, path: str) -> Any:
    if response.status >= 400:
        body = response.content[:ERROR_SNIPPET].decode(errors="replace").strip()
        raise BackendError(f"ML backend {path} answered HTTP {response.status}: {body}")
    try:
        return response.json()
    except ValueError:
        body = response.content[:ERROR_SNIPPET].decode(errors="replace").strip()
        raise BackendError(f"ML backend {path} answered with invalid JSON: {body!r}") from None


def _call(
    backend: MLBackend, path: str, payload: object | None = None, timeout: float | None = None
) -> Any:
    return _json(_send(backend, path, payload, timeout), path)


def _state_set(backend: MLBackend, state: str, error: str = "", **fields: Any) -> MLBackend:
    """Record the outcome of a call (its own small write, outside any transaction)."""
    backend.state = state
    backend.error_message = error
    for name, value in fields.items():
        setattr(backend, name, value)
    backend.updated_at = timezone.now()
    MLBackend.objects.filter(pk=backend.pk).update(
        state=state, error_message=error, updated_at=backend.updated_at, **fields
    )
    return backend


def _failed(backend: MLBackend, exc: BackendError) -> MLBackend:
    log.warning("ML backend %s (%s): %s", backend.pk, backend.project_id, exc)
    return _state_set(backend, MLBackendState.ERROR, str(exc))


# --- payloads ---------------------------------------------------------------------------------
def _project_key(project: Project) -> str:
    # Label Studio's "<id>.<created timestamp>": backends key their model cache on it.
    return f"{project.pk}.{int(project.created_at.timestamp())}"


def _project_payload(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
        "title": project.title,
        "label_config": project.label_config,
        "created_at": project.created_at.isoformat(),
    }


def _task_payload(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "data": task.data,
        "meta": task.meta,
        "project": task.project_id,
        "annotations": [],
        "predictions": [],
    }


def _hostname() -> str:
    return getattr(settings, "ANNOTATOR_HOST", "") or ""


# --- health and setup -------------------------------------------------------------------------
def ml_backend_check(*, backend: MLBackend) -> MLBackend:
    """Health, then setup (which gives the model version): CO with the version, or ER with
    the reason. Called when a backend is connected or its connection changes."""
    try:
        health = _call(backend, "/health")
        if not isinstance(health, dict) or str(health.get("status", "")).upper() != "UP":
            raise BackendError(f"ML backend /health did not answer status UP: {health!r}"[:300])
        project = backend.project
        setup = _call(
            backend,
            "/setup",
            {
                "project": _project_key(project),
                "schema": project.label_config,
                "hostname": _hostname(),
                "access_token": "",
                "model_version": backend.model_version or None,
                "extra_params": None,
            },
        )
    except BackendError as exc:
        return _failed(backend, exc)
    version = setup.get("model_version") if isinstance(setup, dict) else None
    return _state_set(
        backend, MLBackendState.CONNECTED, model_version=str(version or backend.model_version)
    )


# --- predictions ------------------------------------------------------------------------------
def _parse_item(item: Any, default_version: str) -> RemotePrediction:
    if isinstance(item, list):  # a bare result list
        return RemotePrediction(result=item, score=None, model_version=default_version)
    if not isinstance(item, dict):
        raise BackendError(f"ML backend /predict gave a prediction that is not an object: {item!r}")
    result = item.get("result", [])
    if not isinstance(result, list):
        raise BackendError("ML backend /predict gave a prediction whose result is not a list")
    score = item.get("score")
    return RemotePrediction(
        result=result,
        score=float(score) if isinstance(score, int | float) else None,
        model_version=str(item.get("model_version") or default_version),
    )


def ml_backend_predict(
    *, backend: MLBackend, tasks: list[Task], timeout: float | None = None
) -> list[RemotePrediction]:
    """One /predict call for ``tasks``; a prediction per task, in order (raises
    BackendError, without recording it)."""
    project = backend.project
    answer = _call(
        backend,
        "/predict",
        {
            "tasks": [_task_payload(t) for t in tasks],
            "model_version": backend.model_version or None,
            "project": _project_key(project),
            "label_config": project.label_config,
            "params": {"login": None, "password": None, "context": None},
        },
        timeout,
    )
    default_version = backend.model_version or backend.title or f"ml-backend-{backend.pk}"
    if isinstance(answer, dict):
        default_version = str(answer.get("model_version") or default_version)
        answer = answer.get("results")
    if not isinstance(answer, list):
        raise BackendError("ML backend /predict answered without a list of results")
    if len(answer) != len(tasks):
        raise BackendError(
            f"ML backend /predict answered {len(answer)} predictions for {len(tasks)} tasks"
        )
    return [_parse_item(item, default_version) for item in answer]


@transaction.atomic
def remote_predictions_store(
    *, tasks: list[Task], predictions: list[RemotePrediction], report: PredictReport
) -> list[Prediction]:
    """Store the predictions that fit the project's config (as imports check them); the
    others are counted in ``report.invalid`` with the reason, never stored. A task's earlier
    prediction of the same model version is replaced."""
    rows: list[Prediction] = []
    for task, predicted in zip(tasks, predictions, strict=True):
        if not predicted.result:
            continue
        problems = result_check(
            config=task.project.parsed_config, result=predicted.result, data=task.data
        )
        if problems:
            report.invalid.append(f"task {task.pk}: {'; '.join(problems)}")
            continue
        rows.append(
            Prediction(
                task=task,
                project_id=task.project_id,
                result=predicted.result,
                score=predicted.score,
                model_version=predicted.model_version,
            )
        )
    for row in rows:
        Prediction.objects.filter(task_id=row.task_id, model_version=row.model_version).delete()
    stored = Prediction.objects.bulk_create(rows)
    if stored:
        task_counters_refresh(task_ids=[p.task_id for p in stored])
    report.stored += len(stored)
    return stored


def ml_backend_tasks_to_predict(*, backend: MLBackend) -> Any:
    """The project's tasks without a prediction of the backend's model version (all of them
    while the version is unknown)."""
    tasks = Task.objects.filter(project_id=backend.project_id)
    if backend.model_version:
        tasks = tasks.exclude(
            predictions__model_version=backend.model_version,
        )
    return tasks.order_by("id")


def ml_backend_predict_all(
    *, backend: MLBackend, limit: int | None = None, progress: Progress | None = None
) -> PredictReport:
    """Predict the tasks that lack the backend's model version, ``PREDICT_CHUNK`` per call,
    storing each chunk as it comes; the first failure stops the run and is recorded."""
    ids = list(ml_backend_tasks_to_predict(backend=backend).values_list("pk", flat=True))
    if limit:
        ids = ids[:limit]
    report = PredictReport(total=len(ids))
    _state_set(backend, MLBackendState.PREDICTING, backend.error_message)
    for start in range(0, len(ids), PREDICT_CHUNK):
        chunk = list(
            Task.objects.filter(pk__in=ids[start : start + PREDICT_CHUNK])
            .select_related("project")
            .order_by("id")
        )
        try:
            predictions = ml_backend_predict(backend=backend, tasks=chunk)
        except BackendError as exc:
            report.error = str(exc)
            _failed(backend, exc)
            return report
        remote_predictions_store(tasks=chunk, predictions=predictions, report=report)
        if not backend.model_version and predictions:
            # Learnt from the answers when /setup gave none: the next run skips these tasks.
            _state_set(backend, backend.state, model_version=predictions[0].model_version)
        report.done += len(chunk)
        if progress is not None:
            progress(report.done, report.total)
    _state_set(backend, MLBackendState.CONNECTED)
    return report


def predict_job_get(*, backend_id: int) -> dict[str, Any] | None:
    """The last prediction run of a backend (progress while it runs), for polling."""
    value = cache.get(_JOB_KEY.format(backend_id))
    return value if isinstance(value, dict) else None


def predict_job_set(*, backend_id: int, state: dict[str, Any]) -> None:
    cache.set(_JOB_KEY.format(backend_id), state, _JOB_SECONDS)


def ml_backend_task_predict(task: Task) -> PredictionFetch | None:
    """The labelling page's fetcher (registered in apps.py): a task opened without a
    prediction is predicted by the project's first backend, within its timeout (capped by
    ML_BACKEND_ON_OPEN_TIMEOUT). None when the project has no backend."""
    if not project_has_backends(project_id=task.project_id):
        return None
    backend = MLBackend.objects.filter(project_id=task.project_id).order_by("id").first()
    if backend is None:
        return None
    label = backend.title or backend.url
    if backend.state == MLBackendState.ERROR:
        since = (timezone.now() - backend.updated_at).total_seconds()
        if since < ON_OPEN_RETRY_AFTER:
            return PredictionFetch(
                prediction=None,
                notice=f"No prediction: ML backend {label!r} is failing ({backend.error_message})",
            )
    cap = float(settings.ML_BACKEND_ON_OPEN_TIMEOUT)
    try:
        predictions = ml_backend_predict(backend=backend, tasks=[task], timeout=cap)
    except BackendError as exc:
        _failed(backend, exc)
        return PredictionFetch(prediction=None, notice=f"No prediction from {label!r}: {exc}")
    report = PredictReport(total=1)
    stored = remote_predictions_store(tasks=[task], predictions=predictions, report=report)
    if backend.state != MLBackendState.CONNECTED:
        _state_set(backend, MLBackendState.CONNECTED)
    if stored:
        return PredictionFetch(prediction=stored[0])
    if report.invalid:
        return PredictionFetch(
            prediction=None,
            notice=f"The prediction of {label!r} does not fit the labelling config: "
            + report.invalid[0],
        )
    return PredictionFetch(prediction=None)


# --- training ---------------------------------------------------------------------------------
def ml_backend_train(*, backend: MLBackend) -> MLBackend:
    """Ask the backend to train: START_TRAINING to /webhook (Label Studio 1.x), or, for a
    backend without /webhook (404), the project's annotations to /train (older ones)."""
    project = backend.project
    try:
        response = _send(
            backend, "/webhook", {"action": "START_TRAINING", "project": _project_payload(project)}
        )
        if response.status in (404, 405):
            annotations = Annotation.objects.filter(project=project, was_cancelled=False)
            _call(
                backend,
                "/train",
                {
                    "annotations": [annotation_dict(a) for a in annotations.order_by("id")],
                    "project": _project_key(project),
                    "label_config": project.label_config,
                    "params": {},
                },
            )
        else:
            _json(response, "/webhook")
    except BackendError as exc:
        return _failed(backend, exc)
    return _state_set(backend, MLBackendState.TRAINING)


def ml_backend_event_send(*, backend: MLBackend, action: str, annotation_id: int) -> bool:
    """Send an annotation event to the backend's /webhook; False (recorded) on failure."""
    annotation = (
        Annotation.objects.filter(pk=annotation_id).select_related("task", "project").first()
    )
    if annotation is None:
        return False
    payload = {
        "action": action,
        "annotation": annotation_dict(annotation),
        "task": _task_payload(annotation.task),
        "project": _project_payload(annotation.project),
    }
    try:
        _call(backend, "/webhook", payload)
    except BackendError as exc:
        _failed(backend, exc)
        return False
    return True


def ml_backends_of(*, project_id: int) -> Iterable[MLBackend]:
    return MLBackend.objects.filter(project_id=project_id).select_related("project").order_by("id")
