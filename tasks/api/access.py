"""Object lookups for the tasks API: 404 unless the user belongs to the object's project,
403 unless their role allows the action; one query loads the object and checks both."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from annotator.rawsql import columns_as, columns_of, fetch_model
from projects.api.access import request_user, require_role
from projects.models import Project
from projects.permissions import Action, role_columns_sql, with_role
from tasks.models import Annotation, Draft, Prediction, Task
from tasks.selectors import draft_get_for_user


def task_or_404(request: Request, task_id: int, action: Action = Action.VIEW) -> Task:
    """The task, its project and the user's role there, in one plain-SQL query (submit, the
    hottest write, starts here)."""
    user = request_user(request)
    task = None
    if user.is_active:
        role_sql, params = role_columns_sql(user=user, project_id_sql="t.project_id")
        sql = (
            f"SELECT {columns_of(Task, 't')}, {columns_as(Project, 'p', 'project__')},"  # noqa: S608
            f" {role_sql}"
            " FROM tasks_task t JOIN projects_project p ON p.id = t.project_id WHERE t.id = %s"
        )
        task = fetch_model(Task, sql, [*params, task_id], {"project": (Project, "project__")})
    return require_role(task, action, f"Task {task_id}")


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
