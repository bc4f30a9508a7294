"""Webhook delivery: Label Studio's events, signed, retried with backoff, and logged.

An event becomes one ``WebhookDelivery`` row per matching webhook inside the transaction that
caused it, and is queued only after that transaction commits, so a rolled-back write sends
nothing and a queued delivery always finds its row. Each attempt posts the same bytes with

    X-Annotator-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>

keyed by the webhook's ``secret`` (``webhook_signature_valid`` is the receiver's check: the
timestamp bounds replays). A non-2xx answer, a timeout or a refused address is retried after
``WEBHOOK_RETRY_BASE_SECONDS`` * 2 ** (attempt - 1), up to ``WEBHOOK_MAX_ATTEMPTS`` attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotator.outbound import OutboundError, outbound_post
from projects.models import (
    Project,
    Webhook,
    WebhookAction,
    WebhookDelivery,
    WebhookDeliveryStatus,
    webhook_secret_new,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Annotator-Signature"
EVENT_HEADER = "X-Annotator-Event"
DELIVERY_HEADER = "X-Annotator-Delivery"
# Tasks named in one TASKS_CREATED / TASKS_DELETED event: a 100k import must not post 100k ids.
EVENT_MAX_TASKS = 1000
_ERROR_CHARS = 500
_MAX_BACKOFF_SECONDS = 3600.0
_GENERATION_KEY = "webhooks:generation"
_FLAG_KEY = "webhooks:project:{}:{}"
_FLAG_SECONDS = 30

# Set by projects.apps: queues a delivery (a Celery job, or a thread in embedded mode).
_queue: Callable[[int], None] | None = None


def delivery_queue_register(queue: Callable[[int], None]) -> None:
    global _queue
    _queue = queue


# --- signatures -----------------------------------------------------------------------------
def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_signature_valid(
    *, secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None
) -> bool:
    """The receiver's check: the header's MAC matches ``body`` and its timestamp is at most
    ``tolerance`` seconds away from ``now``."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, header.strip())


# --- which webhooks hear an event ------------------------------------------------------------
def project_has_webhooks(*, project_id: int) -> bool:
    """Whether an active webhook hears the project (its own or its organization's): cache
    reads on the hot paths (every submit asks), one EXISTS on a miss. Saving or deleting a
    webhook moves the generation, which retires every project's cached answer at once; with
    a per-process cache another process may answer from the old one for ``_FLAG_SECONDS``."""
    generation = cache.get(_GENERATION_KEY, 0)
    key = _FLAG_KEY.format(project_id, generation)
    flag = cache.get(key)
    if flag is None:
        flag = (
            Webhook.objects.filter(is_active=True)
            .filter(
                Q(project_id=project_id)
                | Q(project__isnull=True, organization__projects__id=project_id)
            )
            .exists()
        )
        cache.set(key, flag, _FLAG_SECONDS)
    return bool(flag)


def webhooks_flag_reset() -> None:
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:  # not set yet (or evicted)
        cache.set(_GENERATION_KEY, int(time.time()), None)


def webhooks_for_event(
    *, organization_id: int, project_id: int | None, action: str
) -> list[Webhook]:
    """Active webhooks of the project and the organization-wide ones that take ``action``."""
    hooks = Webhook.objects.filter(organization_id=organization_id, is_active=True).order_by("pk")
    return [
        hook
        for hook in hooks
        if (hook.project_id is None or hook.project_id == project_id)
        and (hook.send_for_all_actions or action in (hook.actions or []))
    ]


def project_payload(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "created_at": project.created_at.isoformat() if project.created_at else None,
        "updated_at": project.updated_at.isoformat() if project.updated_at else None,
    }


def webhook_event(
    *,
    project: Project,
    action: WebhookAction | str,
    payload: Callable[[], dict[str, Any]] | None = None,
) -> list[int]:
    """Record ``action`` of ``project`` for every webhook that takes it and queue their
    deliveries after the commit; the ids of the deliveries. ``payload`` (the event's own
    fields, e.g. ``{"annotation": ..., "task": ...}``) is built only when some webhook
    wants it."""
    if not project_has_webhooks(project_id=project.pk):
        return []
    hooks = webhooks_for_event(
        organization_id=project.organization_id, project_id=project.pk, action=str(action)
    )
    if not hooks:
        return []
    bare = {"action": str(action), "project": {"id": project.pk}}
    full: dict[str, Any] | None = None
    deliveries = []
    for hook in hooks:
        if hook.send_payload and full is None:
            full = {"action": str(action), "project": project_payload(project)}
            full |= payload() if payload is not None else {}
        deliveries.append(
            WebhookDelivery(
                webhook=hook, action=str(action), payload=full if hook.send_payload else bare
            )
        )
    WebhookDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _queue_all(ids))
    return ids


def _queue_all(ids: list[int]) -> None:
    for delivery_id in ids:
        if _queue is None:
            webhook_delivery_attempt(delivery_id=delivery_id)
        else:
            _queue(delivery_id)


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A new delivery of a logged event (same payload, fresh attempts), queued after commit."""
    again = WebhookDelivery.objects.create(
        webhook_id=delivery.webhook_id, action=delivery.action, payload=delivery.payload
    )
    transaction.on_commit(lambda: _queue_all([again.pk]))
    return again


# --- one attempt ----------------------------------------------------------------------------
def webhook_backoff(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones."""
    base = float(settings.WEBHOOK_RETRY_BASE_SECONDS)
    return float(min(base * 2 ** max(attempts - 1, 0), _MAX_BACKOFF_SECONDS))


def webhook_delivery_attempt(*, delivery_id: int) -> float | None:
    """Post the delivery once and log the outcome; the seconds to wait before the next
    attempt, or None when there is nothing more to do (delivered, failed for good, deleted)."""
    delivery = (
        WebhookDelivery.objects.select_related("webhook")
        .filter(pk=delivery_id, status=WebhookDeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return None
    hook = delivery.webhook
    if not hook.secret:  # inserted by an older release during a deploy
        hook.secret = webhook_secret_new()
        Webhook.objects.filter(pk=hook.pk, secret="").update(secret=hook.secret)
        hook.refresh_from_db(fields=["secret"])
    body = json.dumps(delivery.payload, separators=(",", ":"), default=str).encode()
    headers = {str(k): str(v) for k, v in (hook.headers or {}).items()}
    headers |= {
        SIGNATURE_HEADER: webhook_signature(
            secret=hook.secret, timestamp=int(time.time()), body=body
        ),
        EVENT_HEADER: delivery.action,
        DELIVERY_HEADER: str(delivery.pk),
    }
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        response = outbound_post(
            hook.url,
            body,
            content_type="application/json",
            headers=headers,
            allow_private=settings.OUTBOUND_ALLOW_PRIVATE_URLS,
            timeout=float(settings.WEBHOOK_TIMEOUT_SECONDS),
            max_bytes=64 * 1024,
        )
    except OutboundError as exc:
        delivery.response_status, delivery.error = None, str(exc)[:_ERROR_CHARS]
    else:
        delivery.response_status = response.status
        delivery.error = (
            ""
            if 200 <= response.status < 300
            else f"HTTP {response.status}: {response.content[:200].decode(errors='replace')}"
        )
    if not delivery.error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            WebhookDeliveryStatus.DELIVERED,
            now,
            None,
        )
        wait = None
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = WebhookDeliveryStatus.FAILED, None
        wait = None
        log.warning("webhook %s: delivery %s failed: %s", hook.pk, delivery.pk, delivery.error)
    else:
        wait = webhook_backoff(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=wait)
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "response_status",
            "error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    return wait
