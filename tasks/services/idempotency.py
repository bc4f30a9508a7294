"""Submits that are safe to retry: ``Idempotency-Key`` (the header Stripe and the IETF draft
name). A client that lost the answer to a submit sends it again with the same key and gets
the annotation the first one made; keys are kept ``IDEMPOTENCY_KEY_HOURS`` (beat clears)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.models import User
from tasks.models import Annotation, IdempotencyKey, Task

HEADER = "Idempotency-Key"
KEEP_HOURS = 24
_VALID = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class Outcome:
    annotation: Annotation
    replayed: bool  # True: an earlier request with this key made it


def idempotency_key_check(value: str | None) -> str | None:
    if value is None:
        return None
    if not _VALID.match(value):
        raise ValidationError(
            {HEADER: ["1 to 200 printable ASCII characters without spaces (e.g. a UUID)"]}
        )
    return value


def _replay(found: IdempotencyKey, task: Task) -> Outcome:
    if found.task_id != task.pk:
        raise ValidationError(
            {HEADER: [f"this key was used to submit task {found.task_id}; use a new key"]}
        )
    return Outcome(found.annotation, replayed=True)


def annotation_create_once(
    *, task: Task, user: User, key: str | None, create: Callable[[], Annotation]
) -> Outcome:
    """``create()`` once per (user, key); without a key, every call creates."""
    if key is None:
        return Outcome(create(), replayed=False)
    found = IdempotencyKey.objects.select_related("annotation").filter(user=user, key=key).first()
    if found is not None:
        return _replay(found, task)
    try:
        with transaction.atomic():
            annotation = create()
            IdempotencyKey.objects.create(user=user, key=key, task=task, annotation=annotation)
    except IntegrityError:
        # The same key committed first from another request: its annotation is the one.
        found = (
            IdempotencyKey.objects.select_related("annotation").filter(user=user, key=key).first()
        )
        if found is None:
            raise
        return _replay(found, task)
    return Outcome(annotation, replayed=False)


def idempotency_keys_expire(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - timedelta(hours=KEEP_HOURS)
    return IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()[0]
