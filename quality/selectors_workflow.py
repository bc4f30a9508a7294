"""Reads of the review workflow: the reviewers' queue."""

from __future__ import annotations

from django.db.models import QuerySet

from annotator.models import User
from projects.models import Project
from tasks.models import Annotation

REVIEW_QUEUE_SIZE = 50


def review_queue_list(
    *, project: Project, reviewer: User, size: int = REVIEW_QUEUE_SIZE
) -> QuerySet[Annotation]:
    """Annotations waiting for review, oldest first, never the reviewer's own. Driven from
    the partial review index (its condition is repeated so SQLite uses it)."""
    return (
        Annotation.objects.exclude(review_status="")
        .filter(project=project, was_cancelled=False, review_status="pending")
        .exclude(completed_by=reviewer)
        .select_related("task", "completed_by")
        .order_by("id")[:size]
    )
