"""Annotations: submit, update with optimistic concurrency, delete, skip."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from annotator.audit import COLUMNS as AUDIT_COLUMNS
from annotator.audit import audit_params, audit_record, insert_sql
from annotator.models import User
from annotator.observability import ANNOTATIONS
from annotator.rawsql import prepared_cursor
from projects.services import project_broadcast
from tasks.models import Annotation, Prediction, Task
from tasks.services.bulk import as_json
from tasks.services.common import (
    AnnotationConflict,
    result_check,
    task_counters_refresh,
    task_row_lock,
)
from tasks.services.webhooks import annotations_deleted_webhooks
from tasks.signals import annotation_deleted, annotation_saved

_INSERT_ANNOTATION = (
    "INSERT INTO tasks_annotation (task_id, project_id, completed_by_id, result, was_cancelled,"
    " ground_truth, review_status, lead_time, notes, version, parent_prediction_id,"
    " parent_annotation_id, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s{json}, %s, %s, '', %s, '', 1, %s, NULL, %s, %s) RETURNING {returning}"
)
_DROP_DRAFT = (
    "DELETE FROM tasks_draft WHERE task_id = %s AND user_id = %s AND annotation_id IS NULL"
)
_DROP_LEASE = "DELETE FROM tasks_tasklock WHERE task_id = %s AND user_id = %s"
# Increments, not a recount: under a concurrent writer PostgreSQL re-evaluates them on the
# row version that writer committed, so no row lock has to be taken first; and a recount
# elsewhere (under that lock) either sees this annotation or runs before it is added.
_COUNT_ANNOTATION = (
    "UPDATE tasks_task SET total_annotations = total_annotations + %s,"
    " cancelled_annotations = cancelled_annotations + %s,"
    " is_labeled = (total_annotations + %s >= overlap) WHERE id = %s"
)
# The audit event of a submit, from the inserted row (PostgreSQL): the result is not sent
# twice. Columns as annotator.audit.COLUMNS.
_AUDIT_SUBMIT_PG = (
    "INSERT INTO annotator_audit_event (created_at, actor_id, actor_username, ip, action,"
    " object_type, object_id, organization_id, project_id, before, after, detail)"
    " SELECT %s::timestamptz, %s::bigint, %s::varchar, %s::inet, 'annotation.create',"
    " 'annotation', a.id, %s::bigint, a.project_id, NULL::jsonb,"
    " jsonb_build_object('result', a.result, 'was_cancelled', a.was_cancelled,"
    " 'task', a.task_id), '{}'::jsonb FROM a"
)
_AUDIT_SUBMIT_PG_PARAMS = ("created_at", "actor_id", "actor_username", "ip", "organization_id")
# PostgreSQL runs the five writes of a submit as one statement (data-modifying CTEs): the
# annotation, the draft and lease gone, the counters, the audit event.
_SUBMIT_PG = (  # noqa: S608 (constants only; values are parameters)
    "WITH a AS ({insert}), d AS ({draft}), l AS ({lease}), u AS ({count}), e AS ({audit})"  # nosec B608 - constants; values are parameters
    " SELECT id FROM a"
).format(
    insert=_INSERT_ANNOTATION.format(
        json="::jsonb", returning="id, result, was_cancelled, project_id, task_id"
    ),
    draft=_DROP_DRAFT,
    lease=_DROP_LEASE,
    count=_COUNT_ANNOTATION,
    audit=_AUDIT_SUBMIT_PG,
)


def annotation_create(
    *,
    task: Task,
    user: User,
    result: Any,
    lead_time: float | None = None,
    was_cancelled: bool = False,
    ground_truth: bool = False,
    parent_prediction: Prediction | None = None,
) -> Annotation:
    """Submit (or skip, ``was_cancelled``): the annotation, the task's counters, and the end
    of the user's draft and lease on the task, all or nothing. Written as SQL: it is the
    hottest write. On PostgreSQL it is one statement, atomic by itself, so it needs no
    transaction block (two round trips fewer); on SQLite four statements in one."""
    if not was_cancelled or result:
        problems = result_check(config=task.project.parsed_config, result=result, data=task.data)
        if problems:
            raise ValidationError({"result": problems})
    if lead_time is not None and lead_time < 0:
        raise ValidationError({"lead_time": ["lead_time must be zero or more seconds"]})
    now = timezone.now()
    annotation = Annotation(
        task=task,
        project_id=task.project_id,
        completed_by=user,
        result=result or [],
        lead_time=lead_time,
        was_cancelled=was_cancelled,
        ground_truth=ground_truth,
        parent_prediction=parent_prediction,
        created_at=now,
        updated_at=now,
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    row: list[Any] = [
        task.pk, task.project_id, user.pk, as_json(annotation.result), was_cancelled,
        ground_truth, lead_time, annotation.parent_prediction_id, stamp, stamp,
    ]  # fmt: skip
    who = [task.pk, user.pk]
    done, cancelled = (0, 1) if was_cancelled else (1, 0)
    counts = [done, cancelled, done, task.pk]
    postgresql = connection.vendor == "postgresql"
    event = audit_params(
        action="annotation.create",
        actor=user,
        object_type="annotation",
        organization_id=task.project.organization_id,
        project_id=task.project_id,
        # PostgreSQL builds ``after`` from the inserted row (the result is not sent twice).
        after=None
        if postgresql
        else {"result": annotation.result, "was_cancelled": was_cancelled, "task": task.pk},
    )
    if postgresql:
        values = dict(zip(AUDIT_COLUMNS, event, strict=True))
        audit = [values[c] for c in _AUDIT_SUBMIT_PG_PARAMS]
        with prepared_cursor() as cursor:
            cursor.execute(_SUBMIT_PG, [*row, *who, *who, *counts, *audit])
            annotation.pk = cursor.fetchone()[0]
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_INSERT_ANNOTATION.format(json="", returning="id"), row)
            annotation.pk = cursor.fetchone()[0]
            cursor.execute(_DROP_DRAFT, who)
            cursor.execute(_DROP_LEASE, who)
            cursor.execute(_COUNT_ANNOTATION, counts)
            event[AUDIT_COLUMNS.index("object_id")] = annotation.pk
            cursor.execute(insert_sql(), event)
    annotation._state.adding = False
    project_broadcast(
        project_id=task.project_id,
        event={"type": "annotation.created", "task": task.pk, "annotation": annotation.pk},
    )
    ANNOTATIONS.labels("true" if was_cancelled else "false").inc()
    if not was_cancelled:
        annotation_saved.send(sender=Annotation, annotation=annotation, created=True)
    return annotation


@transaction.atomic
def annotation_update(
    *,
    annotation: Annotation,
    version: int,
    result: Any | None = None,
    lead_time: float | None = None,
    was_cancelled: bool | None = None,
    ground_truth: bool | None = None,
) -> Annotation:
    """Update with optimistic concurrency: ``version`` must be the stored one, else
    AnnotationConflict carries the current state (HTTP 409)."""
    changes: dict[str, Any] = {}
    before = {
        "result": annotation.result,
        "lead_time": annotation.lead_time,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "version": version,
    }
    if result is not None:
        task = annotation.task
        problems = result_check(config=task.project.parsed_config, result=result, data=task.data)
        if problems:
            raise ValidationError({"result": problems})
        changes["result"] = result
    for name, value in (
        ("lead_time", lead_time),
        ("was_cancelled", was_cancelled),
        ("ground_truth", ground_truth),
    ):
        if value is not None:
            changes[name] = value
    updated = Annotation.objects.filter(pk=annotation.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    if not updated:
        raise AnnotationConflict(Annotation.objects.get(pk=annotation.pk))
    if "was_cancelled" in changes:
        task_row_lock(annotation.task_id)
        task_counters_refresh(task_ids=[annotation.task_id])
    annotation.refresh_from_db()
    audit_record(
        action="annotation.update",
        object_type="annotation",
        object_id=annotation.pk,
        organization_id=annotation.task.project.organization_id,
        project_id=annotation.project_id,
        before={k: before[k] for k in (*changes, "version")},
        after={**changes, "version": annotation.version},
        detail={"task": annotation.task_id},
    )
    project_broadcast(
        project_id=annotation.project_id,
        event={
            "type": "annotation.updated",
            "task": annotation.task_id,
            "annotation": annotation.pk,
            "version": annotation.version,
        },
    )
    if not annotation.was_cancelled:
        annotation_saved.send(sender=Annotation, annotation=annotation, created=False)
    return annotation


@transaction.atomic
def annotation_delete(*, annotation: Annotation) -> None:
    task_id, project_id, pk = annotation.task_id, annotation.project_id, annotation.pk
    task_row_lock(task_id)
    audit_record(
        action="annotation.delete",
        object_type="annotation",
        object_id=pk,
        organization_id=annotation.task.project.organization_id,
        project_id=project_id,
        before={
            "result": annotation.result,
            "was_cancelled": annotation.was_cancelled,
            "completed_by": annotation.completed_by_id,
        },
        detail={"task": task_id},
    )
    annotation.delete()
    task_counters_refresh(task_ids=[task_id])
    annotations_deleted_webhooks(project=annotation.task.project, ids=[pk])
    annotation_deleted.send(sender=Annotation, task_id=task_id, project_id=project_id)
    project_broadcast(
        project_id=project_id,
        event={"type": "annotation.deleted", "task": task_id, "annotation": pk},
    )


@transaction.atomic
def prediction_create(
    *, task: Task, result: Any, score: float | None = None, model_version: str = ""
) -> Prediction:
    problems = result_check(config=task.project.parsed_config, result=result, data=task.data)
    if problems:
        raise ValidationError({"result": problems})
    prediction = Prediction.objects.create(
        task=task,
        project_id=task.project_id,
        result=result,
        score=score,
        model_version=model_version,
    )
    task_counters_refresh(task_ids=[task.pk])
    return prediction


@transaction.atomic
def task_skip(*, task: Task, user: User) -> Annotation:
    """Skip = a cancelled annotation (Label Studio's model): counted, never handed out again."""
    return annotation_create(task=task, user=user, result=[], was_cancelled=True)
