"""Next task and leases (DESIGN section 4).

The hand-out is the hottest write of the product (every annotator, every task), so it is
written as a few plain SQL statements that both backends run, instead of ORM querysets whose
compilation cost more than the database work. A next-task request went from 10 statements
(counted with CaptureQueriesContext, BEGIN and COMMIT included) to 7: the token, the project
and the three below; 8 since review sends rejected work back (``_RETURNED``, one indexed
read over the project's few rejected annotations).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from annotator.models import User
from annotator.observability import NEXT_TASK_LATENCY
from annotator.rawsql import columns_of, fetch_model, prepared_cursor
from projects.models import AnnotatorLevel, Project, ProjectMember
from projects.services import project_broadcast
from tasks.models import Task, TaskLock
from tasks.selectors import task_live_lock_count
from tasks.services.certification import (
    certification_passed,
    certification_pending,
    certification_task_take,
    gold_task_due,
)

# Live leases of OTHER users on task ``t``: with finished annotations they fill its overlap.
_OTHERS_LEASES = (
    "(SELECT COUNT(*) FROM tasks_tasklock l"
    " WHERE l.task_id = t.id AND l.expires_at > %s AND l.user_id <> %s)"
)
# The user's live lease in the project, renewed: asking again returns the same task.
_RENEW_HELD = (
    "UPDATE tasks_tasklock SET expires_at = %s WHERE id = ("
    " SELECT l.id FROM tasks_tasklock l JOIN tasks_task t ON t.id = l.task_id"
    " WHERE l.user_id = %s AND l.expires_at > %s AND t.project_id = %s AND NOT t.is_labeled"
    " ORDER BY l.created_at, l.id LIMIT 1"
    ") RETURNING task_id"
)
# Take the lease unless the task filled up meanwhile (one lease row per task and user: an
# expired one of the same user is overwritten).
_TAKE = (
    "INSERT INTO tasks_tasklock (task_id, user_id, expires_at, created_at)"  # nosec B608 # noqa: S608 (constants; values are parameters)
    " SELECT t.id, %s, %s, %s FROM tasks_task t"
    f" WHERE t.id = %s AND NOT t.is_labeled AND t.overlap > t.total_annotations + {_OTHERS_LEASES}"
    " ON CONFLICT (task_id, user_id) DO UPDATE SET expires_at = excluded.expires_at"
    " RETURNING task_id"
)
# A task whose annotation by the user was rejected (lowest task id first): it comes back to
# them before anything else. It repeats the partial index annotation_review_idx's condition
# and orders by its last column, so both SQLite and PostgreSQL walk that index (the rejected
# rows are few) instead of the user's annotations.
_RETURNED = (
    "SELECT a.task_id FROM tasks_annotation a"
    " WHERE a.project_id = %s AND NOT (a.review_status = '') AND NOT a.was_cancelled"
    " AND a.review_status = 'rejected' AND a.completed_by_id = %s ORDER BY a.task_id LIMIT 1"
)
# Confidence routing: the routes a junior is never handed (quality.services.routing).
_JUNIOR_EXCLUDED_ROUTE = "senior"
_TASK_COLUMNS = columns_of(Task, "t")
# How many rows a request may find taken under it before it gives up (each one means a
# concurrent request handed that task out between our scan and our lease).
MAX_TAKE_ATTEMPTS = 20


def task_next_sql(
    *,
    project_id: int,
    user_id: int,
    now: datetime,
    skip: Sequence[int] = (),
    exclude_route: str | None = None,
) -> tuple[str, list[Any]]:
    """The candidate query: the best task the user may be handed (DESIGN §4), best first.

    It walks the partial index ``task_next_idx`` (project, -priority, id WHERE NOT is_labeled)
    in order, so LIMIT 1 stops at the first row that passes two indexed checks: the user has
    not annotated or skipped it, and finished annotations plus others' live leases leave a
    slot of its overlap. On PostgreSQL the row is taken ``FOR UPDATE SKIP LOCKED``: a task
    another request is handing out right now is stepped over, not waited for.
    """
    when = connection.ops.adapt_datetimefield_value(now)
    sql = (
        f"SELECT {_TASK_COLUMNS} FROM tasks_task t"  # nosec B608 # noqa: S608 (constants; values are parameters)
        " WHERE t.project_id = %s AND NOT t.is_labeled"
        " AND NOT EXISTS (SELECT 1 FROM tasks_annotation a"
        " WHERE a.task_id = t.id AND a.completed_by_id = %s)"
        f" AND t.overlap > t.total_annotations + {_OTHERS_LEASES}"
    )
    params: list[Any] = [project_id, user_id, when, user_id]
    if exclude_route is not None:
        sql += " AND t.route <> %s"
        params.append(exclude_route)
    if skip:
        sql += f" AND t.id NOT IN ({', '.join(['%s'] * len(skip))})"
        params.extend(skip)
    sql += " ORDER BY t.priority DESC, t.id LIMIT 1"
    if connection.features.has_select_for_update_skip_locked:
        sql += " FOR UPDATE OF t SKIP LOCKED"
    return sql, params


def _one(sql: str, params: list[Any]) -> Any:
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _junior(project: Project, user: User) -> bool:
    """Whether routing keeps the user off the tasks routed to seniors (one membership read,
    only in projects with routing on)."""
    level = (
        ProjectMember.objects.filter(project=project, user=user)
        .values_list("level", flat=True)
        .first()
    )
    return level == AnnotatorLevel.JUNIOR


def _returned_task(project: Project, user: User) -> Task | None:
    task_id = _one(_RETURNED, [project.pk, user.pk])
    return Task.objects.get(pk=task_id) if task_id is not None else None


def _in_certification(project: Project, user: User) -> bool:
    member = certification_pending(project=project, user=user)
    return member is not None and not certification_passed(
        project=project, user=user, member=member
    )


@NEXT_TASK_LATENCY.time()
@transaction.atomic
def task_next_take(*, project: Project, user: User) -> Task | None:
    """Hand the user their next task and lease it to them for ``project.task_lock_ttl`` s.

    Two annotators never get the same task unless its overlap asks for it. On PostgreSQL the
    candidate row is locked, then the lease is written by a NEW statement that re-counts the
    others' leases: in READ COMMITTED its snapshot is taken after the row lock was granted,
    so it sees the lease of a request that handed this task out and committed while we
    scanned. (Counting in the locking statement alone used the older snapshot: 2 double
    hand-outs in 800, bench/api_bench.py with 8 annotators.) On SQLite the IMMEDIATE
    transaction serialises all writers. A user who asks again gets the task they hold.

    In a project with certification on, an annotator not yet certified gets gold tasks
    instead (tasks/services/certification.py); the test below reads a column of the loaded
    project, so projects without certification pay nothing for it.

    Then, in this order: a task whose annotation by the user a reviewer rejected comes back
    to them (one indexed query over the project's few rejected annotations); with a
    ``gold_rate``, a gold task is mixed in unannounced when one is due
    (``gold_task_due``); with confidence routing on, a junior is not handed tasks routed to
    seniors. Each costs a query only in projects that turned it on.
    """
    if project.certification_tasks and _in_certification(project, user):
        return certification_task_take(project=project, user=user)
    now = timezone.now()
    when = connection.ops.adapt_datetimefield_value(now)
    expires = now + timedelta(seconds=project.task_lock_ttl)
    until = connection.ops.adapt_datetimefield_value(expires)
    held = _one(_RENEW_HELD, [until, user.pk, when, project.pk])
    if held is not None:
        return Task.objects.get(pk=held)
    returned = _returned_task(project, user)
    if returned is not None:
        return returned
    if project.gold_rate and gold_task_due(project=project, user=user):
        gold = certification_task_take(project=project, user=user)
        if gold is not None:
            return gold
    exclude_route = (
        _JUNIOR_EXCLUDED_ROUTE if project.routing_on and _junior(project, user) else None
    )
    skip: list[int] = []
    for _ in range(MAX_TAKE_ATTEMPTS):
        sql, params = task_next_sql(
            project_id=project.pk, user_id=user.pk, now=now, skip=skip, exclude_route=exclude_route
        )
        task = fetch_model(Task, sql, params)
        if task is None:
            return None
        if _one(_TAKE, [user.pk, until, when, task.pk, when, user.pk]) is None:
            skip.append(task.pk)  # handed out under us: try the next one
            continue
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


def task_locks_expired_delete(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete leases that ran out (the periodic clean-up: ``tasks.jobs.locks_expire``).

    Nothing depends on it for correctness (an expired lease counts for nobody and is
    overwritten when its user asks again), but without it the table keeps a row per task
    an annotator ever opened and left. Deleted in batches, so no long lock is held."""
    moment = now or timezone.now()
    deleted = 0
    while True:
        ids = list(
            TaskLock.objects.filter(expires_at__lte=moment).values_list("id", flat=True)[:batch]
        )
        if not ids:
            return deleted
        deleted += TaskLock.objects.filter(id__in=ids, expires_at__lte=moment).delete()[0]
