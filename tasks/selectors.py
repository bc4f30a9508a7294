from __future__ import annotations

from datetime import datetime

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from annotator.models import User
from projects.models import Project
from projects.selectors import project_list_for_user
from tasks.models import Annotation, Draft, Prediction, Task, TaskLock


def task_list_for_user(*, user: User) -> QuerySet[Task]:
    return Task.objects.filter(project__in=project_list_for_user(user=user))


def task_get_for_user(*, task_id: int, user: User) -> Task | None:
    return task_list_for_user(user=user).select_related("project").filter(pk=task_id).first()


def annotation_get_for_user(*, annotation_id: int, user: User) -> Annotation | None:
    return (
        Annotation.objects.filter(project__in=project_list_for_user(user=user), pk=annotation_id)
        .select_related("task__project")
        .first()
    )


def prediction_get_for_user(*, prediction_id: int, user: User) -> Prediction | None:
    return (
        Prediction.objects.filter(project__in=project_list_for_user(user=user), pk=prediction_id)
        .select_related("task__project")
        .first()
    )


def draft_get_for_user(*, draft_id: int, user: User) -> Draft | None:
    """Drafts are private: only their author sees them."""
    return Draft.objects.filter(pk=draft_id, user=user).select_related("task__project").first()


def tasks_with_children(queryset: QuerySet[Task]) -> QuerySet[Task]:
    """Prefetch annotations and predictions in two queries, whatever the page size."""
    return queryset.prefetch_related(
        Prefetch("annotations", queryset=Annotation.objects.order_by("id")),
        Prefetch("predictions", queryset=Prediction.objects.order_by("id")),
    )


def task_next_candidates(*, project: Project, user: User, now: datetime) -> QuerySet[Task]:
    """Tasks the user may be handed, best first (DESIGN §4).

    Walks ``task_next_idx`` (project, is_labeled, -priority, id) and checks each row with two
    indexed EXISTS: the user has not annotated or skipped it, and others' live leases plus
    finished annotations leave a slot of the task's overlap.
    """
    done_by_user = Annotation.objects.filter(task=OuterRef("pk"), completed_by=user)
    others_locks = (
        TaskLock.objects.filter(task=OuterRef("pk"), expires_at__gt=now)
        .exclude(user=user)
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Task.objects.filter(project=project, is_labeled=False)
        .exclude(Exists(done_by_user))
        .alias(live_locks=Coalesce(Subquery(others_locks, output_field=IntegerField()), Value(0)))
        .filter(overlap__gt=F("total_annotations") + F("live_locks"))
        .order_by("-priority", "id")
    )


def task_live_lock_count(*, task_id: int, now: datetime, exclude_user: User | None = None) -> int:
    locks = TaskLock.objects.filter(task_id=task_id, expires_at__gt=now)
    if exclude_user is not None:
        locks = locks.exclude(user=exclude_user)
    return locks.count()
