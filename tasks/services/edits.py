"""Edits of tasks, predictions and drafts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.audit import audit_record, changed_fields
from annotator.models import User
from projects.models import Project, WebhookAction
from projects.services import project_broadcast
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.services.common import (
    MAX_REPORTED_ERRORS,
    DraftAfterSubmit,
    DraftConflict,
    missing_field_message,
    required_data_fields,
    result_check,
    task_counters_refresh,
)
from tasks.services.webhooks import tasks_event_webhooks


# --- tasks ----------------------------------------------------------------------------------
@transaction.atomic
def task_update(
    *,
    task: Task,
    data: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    priority: float | None = None,
) -> Task:
    before_all = {"data": task.data, "meta": task.meta, "priority": task.priority}
    if data is not None:
        required = required_data_fields(task.project.parsed_config)
        missing = [name for name in required if name not in data]
        if missing:
            raise ValidationError({"data": [missing_field_message(name) for name in missing]})
        task.data = data
    if meta is not None:
        task.meta = meta
    if priority is not None:
        task.priority = priority
    task.save()
    before, after = changed_fields(
        before_all, {"data": task.data, "meta": task.meta, "priority": task.priority}
    )
    if after:
        audit_record(
            action="task.update",
            object_type="task",
            object_id=task.pk,
            organization_id=task.project.organization_id,
            project_id=task.project_id,
            before=before,
            after=after,
        )
    return task


@transaction.atomic
def tasks_delete(*, project: Project, ids: Sequence[int] | None = None) -> int:
    """Delete the project's tasks (all, or those ids) with their annotations and predictions."""
    tasks = Task.objects.filter(project=project)
    if ids is not None:
        tasks = tasks.filter(pk__in=list(ids))
    deleted = tasks.delete()[1].get("tasks.Task", 0)
    tasks_delete_audit(project=project, deleted=deleted, ids=ids)
    project_broadcast(project_id=project.pk, event={"type": "tasks.deleted", "count": deleted})
    return deleted


def tasks_delete_audit(*, project: Project, deleted: int, ids: Sequence[int] | None) -> None:
    """One audit event and one TASKS_DELETED webhook event per deletion request (ids listed
    up to 1000), never one per task."""
    if not deleted:
        return
    tasks_event_webhooks(
        project=project, action=WebhookAction.TASKS_DELETED, ids=ids, count=deleted
    )
    detail: dict[str, Any] = {"deleted": deleted, "all": ids is None}
    if ids is not None:
        detail["ids"] = list(ids)[:1000]
    audit_record(
        action="tasks.delete",
        object_type="project",
        object_id=project.pk,
        organization_id=project.organization_id,
        project_id=project.pk,
        detail=detail,
    )


# --- predictions ----------------------------------------------------------------------------
@transaction.atomic
def predictions_create_many(
    *, project: Project, items: Sequence[dict[str, Any]]
) -> list[Prediction]:
    """Bulk predictions ``[{"task", "result", "score"?, "model_version"?}]``, all or nothing."""
    task_ids = {item["task"] for item in items}
    tasks = {t.pk: t for t in Task.objects.filter(project=project, pk__in=task_ids)}
    config = project.parsed_config
    errors: list[str] = []
    for row, item in enumerate(items):
        task = tasks.get(item["task"])
        if task is None:
            errors.append(f"item {row}: task {item['task']} is not in project {project.pk}")
            continue
        errors.extend(
            f"item {row} {p}"
            for p in result_check(config=config, result=item["result"], data=task.data)
        )
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise ValidationError({"predictions": errors})
    created = Prediction.objects.bulk_create(
        [
            Prediction(
                task_id=item["task"],
                project=project,
                result=item["result"],
                score=item.get("score"),
                model_version=item.get("model_version") or "",
            )
            for item in items
        ],
        batch_size=2000,
    )
    task_counters_refresh(task_ids=task_ids)
    project_broadcast(
        project_id=project.pk, event={"type": "predictions.created", "count": len(created)}
    )
    return created


@transaction.atomic
def prediction_update(
    *,
    prediction: Prediction,
    result: Any | None = None,
    score: float | None = None,
    model_version: str | None = None,
) -> Prediction:
    if result is not None:
        task = prediction.task
        problems = result_check(config=task.project.parsed_config, result=result, data=task.data)
        if problems:
            raise ValidationError({"result": problems})
        prediction.result = result
    if score is not None:
        prediction.score = score
    if model_version is not None:
        prediction.model_version = model_version
    prediction.save()
    if score is not None:
        task_counters_refresh(task_ids=[prediction.task_id])  # the task's prediction_score
    return prediction


@transaction.atomic
def prediction_delete(*, prediction: Prediction) -> None:
    task_id = prediction.task_id
    prediction.delete()
    task_counters_refresh(task_ids=[task_id])


# --- drafts ---------------------------------------------------------------------------------
@transaction.atomic
def draft_save(
    *,
    task: Task,
    user: User,
    result: Any,
    lead_time: float | None = None,
    annotation: Annotation | None = None,
    version: int | None = None,
) -> Draft:
    """Create or replace the user's draft of a task (or of one of their annotations).

    Drafts are not validated against the config: they are work in progress. With a
    ``version``, a stale save is refused (409) so two tabs never silently overwrite each other.
    """
    if not isinstance(result, list):
        raise ValidationError({"result": ["result must be a list of result items"]})
    if annotation is None:
        # An auto-save that left the page before the submit and arrives after it must not
        # come back as "unsaved work" over the submitted annotation.
        submitted = Annotation.objects.filter(task=task, completed_by=user).order_by("-id").first()
        if submitted is not None:
            raise DraftAfterSubmit(submitted)
    draft = (
        Draft.objects.select_for_update()
        .filter(task=task, user=user, annotation=annotation)
        .first()
    )
    if draft is None:
        return Draft.objects.create(
            task=task, user=user, annotation=annotation, result=result, lead_time=lead_time
        )
    if version is not None and version != draft.version:
        raise DraftConflict(draft)
    draft.result = result
    draft.lead_time = lead_time
    draft.version += 1
    draft.save()
    return draft
