"""Object lookups for the tasks API: 404 unless the user belongs to the object's project."""

from __future__ import annotations

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request

from projects.api.access import request_user
from projects.models import Project
from projects.permissions import Action, can
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.selectors import (
    annotation_get_for_user,
    draft_get_for_user,
    prediction_get_for_user,
    task_get_for_user,
)


def _require(request: Request, project: Project, action: Action) -> None:
    if action is not Action.VIEW and not can(
        user=request_user(request), project=project, action=action
    ):
        raise PermissionDenied(f"Your role in this project does not allow '{action}'.")


def task_or_404(request: Request, task_id: int, action: Action = Action.VIEW) -> Task:
    task = task_get_for_user(task_id=task_id, user=request_user(request))
    if task is None:
        raise NotFound(f"Task {task_id} not found.")
    _require(request, task.project, action)
    return task


def annotation_or_404(
    request: Request, annotation_id: int, action: Action = Action.VIEW
) -> Annotation:
    user = request_user(request)
    annotation = annotation_get_for_user(annotation_id=annotation_id, user=user)
    if annotation is None:
        raise NotFound(f"Annotation {annotation_id} not found.")
    # Authors change their own work; changing someone else's takes a reviewer.
    if action is Action.ANNOTATE and annotation.completed_by_id != user.pk:
        action = Action.REVIEW
    _require(request, annotation.task.project, action)
    return annotation


def prediction_or_404(
    request: Request, prediction_id: int, action: Action = Action.VIEW
) -> Prediction:
    prediction = prediction_get_for_user(prediction_id=prediction_id, user=request_user(request))
    if prediction is None:
        raise NotFound(f"Prediction {prediction_id} not found.")
    _require(request, prediction.task.project, action)
    return prediction


def draft_or_404(request: Request, draft_id: int) -> Draft:
    draft = draft_get_for_user(draft_id=draft_id, user=request_user(request))
    if draft is None:
        raise NotFound(f"Draft {draft_id} not found.")
    return draft
