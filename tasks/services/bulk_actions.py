"""Data manager bulk actions on a selection of tasks: assign, label, delete, send to review.

Each is one transaction: a bad item anywhere rolls the whole action back. Work goes in
batches of ids (keyset) so memory stays flat up to BULK_MAX tasks. (``bulk.py`` beside this
module is the importers' raw insert path; these are user actions.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotator.audit import audit_record
from annotator.models import User
from projects.models import Project, ProjectMember
from projects.services import project_broadcast
from tasks.models import Annotation, Draft, Task, TaskAssignment, TaskLock
from tasks.selectors_datamanager import (
    BULK_LABEL_TAGS,
    TaskSelection,
    datamanager_selection,
    selection_id_batches,
)
from tasks.services.common import MAX_REPORTED_ERRORS, result_check, task_counters_refresh
from tasks.services.edits import tasks_delete_audit


@dataclass(frozen=True)
class BulkResult:
    tasks: int  # tasks selected
    changed: int  # rows written: assignments, annotations, deletions, reviews
    skipped: int = 0


@transaction.atomic
def tasks_assign(
    *,
    project: Project,
    selection: TaskSelection,
    assignee_id: int | None,
    replace: bool,
    by: User,
) -> BulkResult:
    """Assign the selected tasks to a project member. ``replace`` first drops the tasks'
    other assignments; no assignee with ``replace`` unassigns them."""
    if assignee_id is None and not replace:
        raise ValidationError({"user": ["give the member to assign (or replace=true to clear)"]})
    assignee = None
    if assignee_id is not None:
        member = (
            ProjectMember.objects.filter(project=project, user_id=assignee_id)
            .select_related("user")
            .first()
        )
        if member is None:
            raise ValidationError({"user": [f"user {assignee_id} is not a member of this project"]})
        assignee = member.user
    tasks = datamanager_selection(project=project, selection=selection)
    selected = created = 0
    now = timezone.now()
    for ids in selection_id_batches(tasks):
        selected += len(ids)
        if replace:
            stale = TaskAssignment.objects.filter(task_id__in=ids)
            if assignee is not None:
                stale = stale.exclude(user=assignee)
            stale.delete()
        if assignee is None:
            continue
        have = set(
            TaskAssignment.objects.filter(task_id__in=ids, user=assignee).values_list(
                "task_id", flat=True
            )
        )
        new = [
            TaskAssignment(
                project=project, task_id=i, user=assignee, assigned_by=by, created_at=now
            )
            for i in ids
            if i not in have
        ]
        TaskAssignment.objects.bulk_create(new)
        created += len(new)
    _bulk_audit(
        project=project,
        action="tasks.assign",
        selected=selected,
        changed=created,
        detail={"user": assignee.pk if assignee is not None else None, "replace": replace},
    )
    project_broadcast(
        project_id=project.pk,
        event={
            "type": "tasks.assigned",
            "count": selected,
            "user": assignee.pk if assignee is not None else None,
        },
    )
    return BulkResult(tasks=selected, changed=created)


def bulk_label_result(*, project: Project, from_name: str, value: str) -> list[dict[str, Any]]:
    """The result item that answers ``from_name`` with ``value`` for a whole task."""
    control = project.parsed_config.controls.get(from_name)
    if control is None:
        raise ValidationError({"from_name": [f"no control named {from_name!r} in the config"]})
    if control.tag not in BULK_LABEL_TAGS or not control.to_name:
        raise ValidationError(
            {
                "from_name": [
                    f"{from_name!r} is a {control.tag}: bulk labelling applies "
                    f"{' or '.join(BULK_LABEL_TAGS)} controls (regions need positions)"
                ]
            }
        )
    answer = {"choices": [value]} if control.tag == "Choices" else {"taxonomy": [[value]]}
    return [
        {
            "id": "bulk",
            "from_name": from_name,
            "to_name": control.to_name[0],
            "type": control.result_type or control.tag.lower(),
            "value": answer,
        }
    ]


@transaction.atomic
def tasks_label(
    *,
    project: Project,
    selection: TaskSelection,
    user: User,
    result: list[dict[str, Any]] | None = None,
    from_name: str = "",
    value: str = "",
) -> BulkResult:
    """One annotation by ``user`` on each selected task: ``result``, or the answer
    ``value`` to the control ``from_name``. Each is checked against the labelling config and
    the task's data. Tasks the user has already annotated are skipped (one user, one answer
    per task). Any invalid task: nothing is written."""
    error_field = "result"
    if result is None:
        result = bulk_label_result(project=project, from_name=from_name, value=value)
        error_field = "value"
    config = project.parsed_config
    tasks = datamanager_selection(project=project, selection=selection)
    selected = created = skipped = 0
    errors: list[str] = []
    now = timezone.now()
    for ids in selection_id_batches(tasks):
        selected += len(ids)
        done = set(
            Annotation.objects.filter(
                task_id__in=ids, completed_by=user, was_cancelled=False
            ).values_list("task_id", flat=True)
        )
        todo = [i for i in ids if i not in done]
        skipped += len(ids) - len(todo)
        for task_id, data in Task.objects.filter(pk__in=todo).values_list("pk", "data"):
            errors.extend(
                f"task {task_id} {problem}"
                for problem in result_check(config=config, result=result, data=data)
            )
        if errors:
            raise ValidationError({error_field: errors[:MAX_REPORTED_ERRORS]})
        Annotation.objects.bulk_create(
            [
                Annotation(
                    task_id=i,
                    project=project,
                    completed_by=user,
                    result=result,
                    created_at=now,
                    updated_at=now,
                )
                for i in todo
            ]
        )
        # As a submit does: the user's work on these tasks ends with the annotation.
        Draft.objects.filter(task_id__in=todo, user=user, annotation__isnull=True).delete()
        TaskLock.objects.filter(task_id__in=todo, user=user).delete()
        task_counters_refresh(task_ids=todo)
        created += len(todo)
    _bulk_audit(
        project=project, action="annotations.bulk_label", selected=selected, changed=created
    )
    project_broadcast(
        project_id=project.pk, event={"type": "annotations.created", "count": created}
    )
    return BulkResult(tasks=selected, changed=created, skipped=skipped)


@transaction.atomic
def tasks_delete_selected(*, project: Project, selection: TaskSelection) -> BulkResult:
    tasks = datamanager_selection(project=project, selection=selection)
    deleted = 0
    for ids in selection_id_batches(tasks):
        deleted += Task.objects.filter(pk__in=ids).delete()[1].get("tasks.Task", 0)
    tasks_delete_audit(
        project=project, deleted=deleted, ids=None if selection.all else selection.ids
    )
    project_broadcast(project_id=project.pk, event={"type": "tasks.deleted", "count": deleted})
    return BulkResult(tasks=deleted, changed=deleted)


@transaction.atomic
def tasks_send_to_review(*, project: Project, selection: TaskSelection) -> BulkResult:
    """Queue the finished annotations of the selected tasks for review ("pending"), including
    ones judged before (a re-review after a fix)."""
    tasks = datamanager_selection(project=project, selection=selection)
    selected = queued = 0
    now = timezone.now()
    for ids in selection_id_batches(tasks):
        selected += len(ids)
        queued += Annotation.objects.filter(task_id__in=ids, was_cancelled=False).update(
            review_status="pending", updated_at=now
        )
    _bulk_audit(
        project=project, action="annotations.review_request", selected=selected, changed=queued
    )
    project_broadcast(
        project_id=project.pk, event={"type": "annotations.review_requested", "count": queued}
    )
    return BulkResult(tasks=selected, changed=queued)


# The apps above tasks that train models on the project's annotations (mlserve) register
# how to queue a retraining; tasks never imports them (DESIGN §2). A handler returns how
# many model versions it queued.
RetrainHandler = Callable[[Project], int]
_RETRAIN_HANDLERS: list[RetrainHandler] = []


def retrain_handler_register(handler: RetrainHandler) -> None:
    if handler not in _RETRAIN_HANDLERS:
        _RETRAIN_HANDLERS.append(handler)


def tasks_retrain(*, project: Project, selection: TaskSelection) -> BulkResult:
    """The data manager's "retrain": queue a new version of every built-in model of the
    project. Each trains on all of the project's finished annotations, with its fixed
    validation split (a subset would make versions incomparable), so the selection only has
    to be non-empty; ``tasks`` reports its size, ``changed`` the versions queued."""
    selected = datamanager_selection(project=project, selection=selection).count()
    if not selected:
        raise ValidationError({"selection": ["select at least one task"]})
    queued = sum(handler(project) for handler in _RETRAIN_HANDLERS)
    if not queued:
        raise ValidationError(
            {"selection": ["this project's config has no control a built-in model learns"]}
        )
    _bulk_audit(project=project, action="models.retrain", selected=selected, changed=queued)
    return BulkResult(tasks=selected, changed=queued)


def _bulk_audit(
    *,
    project: Project,
    action: str,
    selected: int,
    changed: int,
    detail: dict[str, Any] | None = None,
) -> None:
    """One summary event per bulk action, never one per task."""
    audit_record(
        action=action,
        object_type="project",
        object_id=project.pk,
        organization_id=project.organization_id,
        project_id=project.pk,
        detail={"tasks": selected, "changed": changed, **(detail or {})},
    )
