"""Celery jobs of mlserve: take ids, call a service, report progress on the project's socket."""

from __future__ import annotations

from celery import shared_task
from django.core.exceptions import ValidationError

from mlserve.models import ModelStatus, ModelVersion
from mlserve.services import (
    french_preannotate,
    model_version_create,
    model_version_train,
    predictions_write,
    retrain_due,
)
from projects.models import Project
from projects.services import project_broadcast
from tasks.models import Task


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
    """Train a queued version; when it is promoted, predict every unlabelled task with it."""
    version = ModelVersion.objects.select_related("project").get(pk=version_id)
    if version.status != ModelStatus.QUEUED:
        return str(version.status)  # already run (a redelivered message)

    def progress(share: float) -> None:
        _announce(version, progress=round(share, 3))

    try:
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
    return str(version.status)


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


@shared_task(max_retries=0)
def preannotate_run(project_id: int) -> int:
    """Pre-annotate a French project's tasks without entity predictions (idempotent: tasks
    that have one are skipped)."""
    project = Project.objects.get(pk=project_id)
    return french_preannotate(project=project)
