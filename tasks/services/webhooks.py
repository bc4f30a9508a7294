"""The tasks app's webhook events (projects.webhooks delivers them): annotations created,
updated and deleted, tasks created and deleted."""

from __future__ import annotations

from collections.abc import Sequence

from projects.models import Project, WebhookAction
from projects.webhooks import EVENT_MAX_TASKS, project_has_webhooks, webhook_event
from tasks.api.render import annotation_dict, task_dict
from tasks.models import Annotation


def annotation_saved_webhooks(
    sender: object, *, annotation: Annotation, created: bool, **kwargs: object
) -> None:
    """tasks' ``annotation_saved``: cache reads only unless a webhook hears the project."""
    if not project_has_webhooks(project_id=annotation.project_id):
        return
    task = annotation.task
    action = WebhookAction.ANNOTATION_CREATED if created else WebhookAction.ANNOTATION_UPDATED
    webhook_event(
        project=task.project,
        action=action,
        payload=lambda: {"annotation": annotation_dict(annotation), "task": task_dict(task)},
    )


def annotations_deleted_webhooks(*, project: Project, ids: Sequence[int]) -> None:
    webhook_event(
        project=project,
        action=WebhookAction.ANNOTATIONS_DELETED,
        payload=lambda: {"annotations": [{"id": pk} for pk in ids]},
    )


def tasks_event_webhooks(
    *, project: Project, action: WebhookAction, ids: Sequence[int] | None, count: int
) -> None:
    """TASKS_CREATED or TASKS_DELETED: the count, and the first ``EVENT_MAX_TASKS`` ids (an
    event about a 100k-task import names 1000 of them, never all)."""
    webhook_event(
        project=project,
        action=action,
        payload=lambda: {
            "count": count,
            "tasks": [{"id": pk} for pk in list(ids or [])[:EVENT_MAX_TASKS]],
        },
    )
