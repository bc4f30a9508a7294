"""Celery jobs of the tasks app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction

from tasks.models import Annotation, S3ImportStorage
from tasks.services.next import task_locks_expired_delete
from tasks.services.storages import (
    export_sync,
    export_task_write,
    import_sync,
    project_has_export_storage,
    storage_sync_queue,
    storages_due,
)
from tasks.services.transfers import export_job_run, import_job_run


@shared_task(acks_late=True, max_retries=0)
def import_run(job_id: int) -> str:
    # No retry: an import is all or nothing and a failure is recorded on the job.
    job, _ = import_job_run(job_id=job_id)
    return job.status


@shared_task(acks_late=True, max_retries=0)
def export_run(job_id: int) -> str:
    return export_job_run(job_id=job_id).status


@shared_task(max_retries=0)
def locks_expire() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): drop the leases that ran out, and idempotency keys
    older than a day."""
    from tasks.services.idempotency import idempotency_keys_expire

    idempotency_keys_expire()
    return task_locks_expired_delete()


# --- cloud storage connections (tasks/services/storages.py) -------------------------------
# No retries: a sync is idempotent and records its failure on the storage; the next sync
# (on demand or scheduled) picks up where it stopped.
@shared_task(acks_late=True, max_retries=0)
def storage_import_sync(storage_id: int) -> str:
    return import_sync(storage_id=storage_id).status


@shared_task(acks_late=True, max_retries=0)
def storage_export_sync(storage_id: int) -> str:
    return export_sync(storage_id=storage_id).status


@shared_task(acks_late=True, max_retries=0)
def storage_export_task(task_id: int, project_id: int) -> int:
    return export_task_write(task_id=task_id, project_id=project_id)


@shared_task(max_retries=0)
def storages_sync_due() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): queue the source storages due a scheduled sync."""
    due = storages_due()
    for storage in S3ImportStorage.objects.filter(pk__in=due):
        storage_sync_queue(storage=storage)
        storage_import_sync.delay(storage.pk)
    return len(due)


def annotation_export_queue(sender: Any, *, annotation: Annotation, **kwargs: Any) -> None:
    """``annotation_saved`` receiver (tasks/apps.py): a project with a target storage gets
    the task written there once the annotation's transaction commits (one cached check,
    no query, on the hot path)."""
    if project_has_export_storage(annotation.project_id):
        task_id, project_id = annotation.task_id, annotation.project_id
        transaction.on_commit(lambda: storage_export_task.delay(task_id, project_id))
