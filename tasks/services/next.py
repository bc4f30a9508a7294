"""Next task and leases (DESIGN section 4)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotator.models import User
from projects.models import Project
from projects.services import project_broadcast
from tasks.models import Task, TaskLock
from tasks.selectors import (
    task_live_lock_count,
    task_next_candidates,
)

# --- next task and leases -------------------------------------------------------------------
NEXT_TASK_CANDIDATES = 20


@transaction.atomic
def task_next_take(*, project: Project, user: User) -> Task | None:
    """Hand the user their next task and lease it to them for ``project.task_lock_ttl`` s.

    Two annotators never get the same task unless its overlap asks for it: on PostgreSQL
    each candidate row is taken ``FOR UPDATE SKIP LOCKED`` and its slots are re-counted
    while held, so concurrent requests serialise per task and move on to the next one; on
    SQLite the IMMEDIATE transaction serialises all writers. A user who asks again gets the
    task they already hold.
    """
    now = timezone.now()
    expires = now + timedelta(seconds=project.task_lock_ttl)
    held = (
        TaskLock.objects.filter(task__project=project, user=user, expires_at__gt=now)
        .select_related("task")
        .order_by("created_at")
        .first()
    )
    if held is not None and not held.task.is_labeled:
        TaskLock.objects.filter(pk=held.pk).update(expires_at=expires)
        return held.task
    candidates = task_next_candidates(project=project, user=user, now=now)
    for task_id in candidates.values_list("pk", flat=True)[:NEXT_TASK_CANDIDATES]:
        # Row lock first, then count the leases in a NEW statement: in READ COMMITTED its
        # snapshot is taken after the lock is granted, so it sees the lease of a request that
        # handed this task out and committed while we waited. Counting in the locking
        # statement itself used a snapshot from before the wait: 2 double hand-outs in 800
        # (bench/api_bench.py, 8 annotators on PostgreSQL).
        task = Task.objects.select_for_update(skip_locked=True).filter(pk=task_id).first()
        if task is None:  # another request is handing this task out right now
            continue
        taken = task.total_annotations + task_live_lock_count(
            task_id=task.pk, now=now, exclude_user=user
        )
        if task.is_labeled or taken >= task.overlap:
            continue
        # Expired leases of this user are overwritten here (one row per task and user).
        TaskLock.objects.bulk_create(
            [TaskLock(task=task, user=user, expires_at=expires)],
            update_conflicts=True,
            unique_fields=["task", "user"],
            update_fields=["expires_at"],
        )
        project_broadcast(
            project_id=project.pk,
            event={
                "type": "task.locked",
                "task": task.pk,
                "user": user.pk,
                "expires_at": expires.isoformat(),
            },
        )
        return task
    return None


@transaction.atomic
def task_lock_extend(*, task: Task, user: User) -> TaskLock:
    """Heartbeat of an open labelling page: renew the user's lease (or take one if free).
    Holds the task row like next-task does, so the two never hand out the same slot."""
    now = timezone.now()
    current = Task.objects.select_for_update().get(pk=task.pk)
    taken = current.total_annotations + task_live_lock_count(
        task_id=task.pk, now=now, exclude_user=user
    )
    mine = TaskLock.objects.filter(task=task, user=user, expires_at__gt=now).exists()
    if not mine and (current.is_labeled or taken >= current.overlap):
        raise ValidationError({"task": ["the task is locked by other annotators"]})
    lock, _ = TaskLock.objects.update_or_create(
        task=task,
        user=user,
        defaults={"expires_at": now + timedelta(seconds=task.project.task_lock_ttl)},
    )
    return lock


@transaction.atomic
def task_lock_release(*, task: Task, user: User) -> None:
    if TaskLock.objects.filter(task=task, user=user).delete()[0]:
        project_broadcast(
            project_id=task.project_id,
            event={"type": "task.unlocked", "task": task.pk, "user": user.pk},
        )
