"""Object lookups for the tasks API: 404 unless the user belongs to the object's project,
403 unless their role allows the action; one query loads the object and checks both."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from annotator.models import User
from annotator.rawsql import columns_as, columns_of, fetch_model
from projects.api.access import request_user, require_role
from projects.models import Project
from projects.permissions import (
    Action,
    annotation_scope_q,
    annotation_visible,
    effective_role,
    role_columns_sql,
    task_scope_q,
    task_visible,
    task_visible_annotation,
    task_visible_sql,
    with_role,
)
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.selectors import draft_get_for_user


def task_scope(request: Request, obj: Any) -> Q:
    """Filter on Task: what the user may see in the project of ``obj`` (loaded with the role
    columns)."""
    return task_scope_q(user=request_user(request), role=effective_role(obj))


def annotation_scope(request: Request, obj: Any, project: Project) -> Q:
    """Filter on Annotation: whose work the user may see in ``project`` (blind annotation)."""
    return annotation_scope_q(user=request_user(request), role=effective_role(obj), project=project)


def task_or_404(request: Request, task_id: int, action: Action = Action.VIEW) -> Task:
    """The task, its project, the user's role there and whether the task is handed to them,
    in one plain-SQL query (submit, the hottest write, starts here)."""
    task = task_with_role(request_user(request), task_id)
    return require_role(task, action, f"Task {task_id}", visible=task_visible)


def task_with_role(user: User, task_id: int) -> Task | None:
    """The task with its project and the user's role columns (``require_role``), or None."""
    task = None
    if user.is_active:
        role_sql, params = role_columns_sql(user=user, project_id_sql="t.project_id")
        visible_sql, visible_params = task_visible_sql(user=user, task_id_sql="t.id")
        sql = (
            f"SELECT {columns_of(Task, 't')}, {columns_as(Project, 'p', 'project__')},"  # nosec B608 # noqa: S608
            f" {role_sql}, {visible_sql}"
            " FROM tasks_task t JOIN projects_project p ON p.id = t.project_id WHERE t.id = %s"
        )
        task = fetch_model(
            Task, sql, [*params, *visible_params, task_id], {"project": (Project, "project__")}
        )
    return task


def annotation_or_404(
    request: Request, annotation_id: int, action: Action = Action.VIEW
) -> Annotation:
    user = request_user(request)
    queryset = Annotation.objects.select_related("task__project").filter(pk=annotation_id)
    queryset = with_role(queryset, user=user, project_path="project")
    annotation = queryset.annotate(**task_visible_annotation(user=user, task_path="task")).first()
    # Authors change their own work; changing someone else's takes a reviewer.
    if (
        action is Action.ANNOTATE
        and annotation is not None
        and annotation.completed_by_id != user.pk
    ):
        action = Action.REVIEW
    return require_role(
        annotation,
        action,
        f"Annotation {annotation_id}",
        visible=lambda a: annotation_visible(annotation=a, user=user, project=a.task.project),
    )


def prediction_or_404(
    request: Request, prediction_id: int, action: Action = Action.VIEW
) -> Prediction:
    user = request_user(request)
    queryset = Prediction.objects.select_related("task__project").filter(pk=prediction_id)
    queryset = with_role(queryset, user=user, project_path="project")
    prediction = queryset.annotate(**task_visible_annotation(user=user, task_path="task")).first()
    return require_role(prediction, action, f"Prediction {prediction_id}", visible=task_visible)


def draft_or_404(request: Request, draft_id: int) -> Draft:
    draft = draft_get_for_user(draft_id=draft_id, user=request_user(request))
    if draft is None:
        raise NotFound(f"Draft {draft_id} not found.")
    return draft
