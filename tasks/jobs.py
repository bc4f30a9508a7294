"""Celery jobs of the tasks app: thin wrappers that take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from tasks.services.next import task_locks_expired_delete
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
