"""Celery jobs of the projects app: webhook deliveries."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from celery import Task, shared_task
from django.conf import settings
from django.db import connections

from projects.webhooks import webhook_delivery_attempt

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=None)
def webhook_deliver(self: Task, delivery_id: int) -> None:
    """One attempt; a failure is retried by Celery after the backoff the attempt logged (the
    attempt count lives on the delivery row, so a redelivered message cannot loop forever)."""
    wait = webhook_delivery_attempt(delivery_id=delivery_id)
    if wait is not None:
        raise self.retry(countdown=wait)


# Embedded mode runs jobs inside the web process: a webhook must not make a submit wait on
# the receiver, and its retries must not hold a request, so deliveries get their own threads.
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="webhooks")


def _deliver_in_thread(delivery_id: int) -> None:
    try:
        while (wait := webhook_delivery_attempt(delivery_id=delivery_id)) is not None:
            time.sleep(wait)
    except Exception:
        log.exception("webhook delivery %s failed", delivery_id)
    finally:
        connections.close_all()


def webhook_delivery_queue(delivery_id: int) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _pool.submit(_deliver_in_thread, delivery_id)
    else:
        webhook_deliver.delay(delivery_id)
