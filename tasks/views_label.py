"""The labelling page: a server-rendered shell with the project, its config (schema and
layout) and the first task as JSON; static/label/main.js does the rest through
tasks/api/labelling.py."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.models import User
from projects.guidelines import guidelines_html
from projects.labelconfig.layout import config_layout
from projects.models import Project
from projects.permissions import (
    Action,
    effective_role,
    role_allows,
    sees_all_tasks,
    task_scope_q,
)
from projects.selectors import project_get_for_user
from tasks.api.labelling import label_task_payload
from tasks.label_selectors import label_known_phrases
from tasks.models import Task
from tasks.services import task_next_take


def _project_settings(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
        "title": project.title,
        "confidence_high": project.prediction_confidence_high,
        "confidence_low": project.prediction_confidence_low,
        "show_skip_button": project.show_skip_button,
        "enable_empty_annotation": project.enable_empty_annotation,
        "task_lock_ttl": project.task_lock_ttl,
    }


@login_required
def label_page(request: HttpRequest, project_id: int, task_id: int | None = None) -> HttpResponse:
    """``/projects/<id>/label/`` opens the user's next task; ``.../label/<task_id>/`` that task."""
    user = request.user
    assert isinstance(user, User)
    project = project_get_for_user(project_id=project_id, user=user)
    if project is None:
        raise Http404("No such project")
    role = effective_role(project)
    if not role_allows(role, Action.ANNOTATE):
        raise PermissionDenied("Your role in this project does not allow labelling.")
    if task_id is None:
        task = task_next_take(project=project, user=user)
    else:
        visible = Task.objects.filter(task_scope_q(user=user, role=role), project=project)
        task = visible.filter(pk=task_id).select_related("project").first()
        if task is None:
            raise Http404("No such task in this project")
    config = project.parsed_config
    page = {
        "project": _project_settings(project),
        "user": {"id": user.pk, "username": user.username},
        "schema": config.to_dict(),
        "layout": config_layout(project.label_config),
        "first": label_task_payload(task=task, user=user, role=role) if task is not None else None,
        # Annotators get phrases of their own work only (they see only their own results).
        "phrases": label_known_phrases(
            project=project, author=None if sees_all_tasks(role) else user.pk
        ),
    }
    context = {
        "project": project,
        "page": page,
        "guidelines": guidelines_html(project.expert_instruction),
    }
    return render(request, "tasks/label.html", context)
