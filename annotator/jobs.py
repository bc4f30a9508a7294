"""Celery jobs of the project package: the reaper of jobs whose worker died."""

from __future__ import annotations

from celery import shared_task

from annotator.jobs_runtime import jobs_stale_recover


@shared_task(max_retries=0)
def jobs_stale_recover_run() -> dict[str, int]:
    """Periodic (CELERY_BEAT_SCHEDULE): requeue or fail the running jobs whose heartbeat
    went stale (annotator/jobs_runtime.py)."""
    return jobs_stale_recover()
