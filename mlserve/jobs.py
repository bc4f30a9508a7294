"""Celery jobs of mlserve: take ids, call a service, report progress on the project's socket."""

from __future__ import annotations

import functools
import logging
from concurrent.futures import ThreadPoolExecutor

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from annotator.jobs_runtime import job_claim, job_heartbeat, job_kind
from annotator.observability import TRAINING_SECONDS
from mlserve.models import MLBackend, ModelStatus, ModelVersion
from mlserve.services import (
    french_preannotate,
    ml_backend_event_send,
    ml_backend_predict_all,
    ml_backend_train,
    ml_backends_of,
    model_version_create,
    model_version_train,
    predict_job_set,
    predictions_write,
    project_has_backends,
    retrain_due,
    trainable_controls,
)
from mlserve.signals import predictions_written, version_kept_back
from projects.models import Project
from projects.services import project_broadcast
from tasks.models import Annotation, Task

log = logging.getLogger(__name__)


def _announce(version: ModelVersion, **extra: object) -> None:
    project_broadcast(
        project_id=version.project_id,
        event={
            "type": "model.progress",
            "version": version.pk,
            "name": version.name,
            "status": version.status,
            **extra,
        },
    )


@shared_task(acks_late=True, max_retries=0)
def train_run(version_id: int) -> str:
    """Train a queued version (or one whose worker died); when it is promoted, predict every
    unlabelled task with it. A message delivered twice trains it once."""
    kind = job_kind(ModelVersion)
    claimed = job_claim(kind, version_id, progress=0.0, error="")
    version = ModelVersion.objects.select_related("project").get(pk=version_id)
    if not claimed:
        return str(version.status)  # run, or running elsewhere (a redelivered message)

    def progress(share: float) -> None:
        _announce(version, progress=round(share, 3))

    try:
        with job_heartbeat(kind, version_id), TRAINING_SECONDS.labels(version.kind).time():
            version = model_version_train(version=version, progress=progress)
    except ValidationError:
        version.refresh_from_db()
        _announce(version, error=version.error)
        return ModelStatus.FAILED
    _announce(version, progress=1.0, active=version.is_active, promotion=version.promotion)
    if version.is_active:
        unlabelled = Task.objects.filter(project_id=version.project_id, is_labeled=False)
        predictions_write(version=version, task_ids=unlabelled.values_list("pk", flat=True))
        _announce(version, predicted=True)
        predictions_written.send(sender=ModelVersion, version=version)
    elif version.status == ModelStatus.READY:
        version_kept_back.send(sender=ModelVersion, version=version)
    return str(version.status)


def retrain_queue(project: Project) -> int:
    """The data manager's retrain action (tasks.services.tasks_retrain): a new version of
    every trainable control, each trained by a job. Returns how many were queued."""
    controls = trainable_controls(project.parsed_config)
    for control in controls:
        version = model_version_create(project=project, control=control.name)
        transaction.on_commit(functools.partial(train_run.delay, version.pk))
    return len(controls)


@shared_task(max_retries=0)
def retrain_check() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): queue a version for each control due for retraining."""
    queued = 0
    for project in Project.objects.filter(ml_settings__retrain_every__gt=0).select_related(
        "ml_settings"
    ):
        for control in retrain_due(project=project):
            version = model_version_create(project=project, control=control)
            train_run.delay(version.pk)
            queued += 1
    return queued


# --- external ML backends -----------------------------------------------------------------------
@shared_task(acks_late=True, max_retries=0)
def backend_predict_run(backend_id: int, limit: int | None = None) -> dict:
    """Predict the project's tasks that lack the backend's model version; progress on the
    project's socket and in ``predict_job_get`` (GET /api/ml/<id> shows it)."""
    backend = MLBackend.objects.select_related("project").filter(pk=backend_id).first()
    if backend is None:
        return {"error": "the ML backend was deleted"}

    def progress(done: int, total: int) -> None:
        state = {"status": "running", "done": done, "total": total}
        predict_job_set(backend_id=backend_id, state=state)
        project_broadcast(
            project_id=backend.project_id,
            event={"type": "ml_backend.progress", "backend": backend_id, **state},
        )

    predict_job_set(backend_id=backend_id, state={"status": "running", "done": 0, "total": 0})
    report = ml_backend_predict_all(backend=backend, limit=limit, progress=progress)
    state = {"status": "failed" if report.error else "done", **report.to_dict()}
    predict_job_set(backend_id=backend_id, state=state)
    project_broadcast(
        project_id=backend.project_id,
        event={"type": "ml_backend.progress", "backend": backend_id, **state},
    )
    return state


@shared_task(acks_late=True, max_retries=0)
def backend_train_run(backend_id: int) -> str:
    backend = MLBackend.objects.select_related("project").filter(pk=backend_id).first()
    if backend is None:
        return "deleted"
    return str(ml_backend_train(backend=backend).state)


@shared_task(acks_late=True, max_retries=0)  # a failure is recorded on the backend (ER)
def backend_events_send(project_id: int, action: str, annotation_id: int) -> int:
    """Deliver an annotation event to every backend of the project; how many took it."""
    return sum(
        ml_backend_event_send(backend=backend, action=action, annotation_id=annotation_id)
        for backend in ml_backends_of(project_id=project_id)
    )


# Embedded mode runs jobs in the web process (eager): a training event must not make the
# annotator's submit wait on a backend, so there it goes to a small thread pool instead.
_event_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ml-backend-events")


def _events_in_thread(project_id: int, action: str, annotation_id: int) -> None:
    try:
        backend_events_send(project_id, action, annotation_id)
    except Exception:
        log.exception("ML backend event %s of annotation %s failed", action, annotation_id)
    finally:
        connections.close_all()


def backend_events_queue(*, project_id: int, action: str, annotation_id: int) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _event_pool.submit(_events_in_thread, project_id, action, annotation_id)
    else:
        backend_events_send.delay(project_id, action, annotation_id)


def annotation_saved_receiver(
    sender: object, *, annotation: Annotation, created: bool, **kwargs: object
) -> None:
    """tasks' ``annotation_saved``: O(1) on the submit path (one cached flag read); the
    event is queued after the commit, so a rolled-back submit sends nothing."""
    if not project_has_backends(project_id=annotation.project_id):
        return
    action = "ANNOTATION_CREATED" if created else "ANNOTATION_UPDATED"
    project_id, annotation_id = annotation.project_id, annotation.pk
    transaction.on_commit(
        lambda: backend_events_queue(
            project_id=project_id, action=action, annotation_id=annotation_id
        )
    )


@shared_task(max_retries=0)
def preannotate_run(project_id: int) -> int:
    """Pre-annotate a French project's tasks without entity predictions (idempotent: tasks
    that have one are skipped)."""
    project = Project.objects.get(pk=project_id)
    return french_preannotate(project=project)
