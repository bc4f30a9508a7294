"""Object lookups for the tasks API: 404 unless the user belongs to the object's project,
403 unless their role allows the action; one query loads the object and checks both."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from annotator.rawsql import fetch_model
from projects.api.access import project_with_role, request_user, require_role
from projects.permissions import Action, with_role
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.selectors import draft_get_for_user


def task_or_404(request: Request, task_id: int, action: Action = Action.VIEW) -> Task:
    """The task and its project, with the user's access checked (plain SQL, two short
    statements: submit, the hottest write, starts here)."""
    label = f"Task {task_id}"
    project = project_with_role(
        request_user(request),
        tail="JOIN tasks_task t ON t.project_id = p.id WHERE t.id = %s",
        params=[task_id],
    )
    project = require_role(project, action, label)
    task = fetch_model(Task, "SELECT * FROM tasks_task WHERE id = %s", [task_id])
    if task is None:  # deleted in between
        raise NotFound(f"{label} not found.")
    task.project = project
    return task


def annotation_or_404(
    request: Request, annotation_id: int, action: Action = Action.VIEW
) -> Annotation:
    user = request_user(request)
    queryset = Annotation.objects.select_related("task__project").filter(pk=annotation_id)
    annotation = with_role(queryset, user=user, project_path="project").first()
    # Authors change their own work; changing someone else's takes a reviewer.
    if (
        action is Action.ANNOTATE
        and annotation is not None
        and annotation.completed_by_id != user.pk
    ):
        action = Action.REVIEW
    return require_role(annotation, action, f"Annotation {annotation_id}")


def prediction_or_404(
    request: Request, prediction_id: int, action: Action = Action.VIEW
) -> Prediction:
    queryset = Prediction.objects.select_related("task__project").filter(pk=prediction_id)
    prediction = with_role(queryset, user=request_user(request), project_path="project").first()
    return require_role(prediction, action, f"Prediction {prediction_id}")


def draft_or_404(request: Request, draft_id: int) -> Draft:
    draft = draft_get_for_user(draft_id=draft_id, user=request_user(request))
    if draft is None:
        raise NotFound(f"Draft {draft_id} not found.")
    return draft
