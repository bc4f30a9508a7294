from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.jobs_runtime import jobs_waiting_text
from annotator.models import User
from projects.guidelines import guidelines_html
from projects.permissions import Action, effective_role, role_allows, task_scope_q
from projects.selectors import project_get_for_user, project_list_for_user


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    projects = (
        project_list_for_user(user=_user(request))
        .select_related("organization")
        .annotate(
            task_count=Count("tasks", distinct=True),
            labeled_count=Count("tasks", filter=Q(tasks__is_labeled=True), distinct=True),
        )
        .order_by("-created_at")
    )
    return render(request, "projects/list.html", {"projects": projects})


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_user(project_id=project_id, user=_user(request))
    if project is None:
        raise Http404("No such project")
    role = effective_role(project)
    config = project.parsed_config
    stats = project.tasks.aggregate(
        total=Count("pk"),
        labeled=Count("pk", filter=Q(is_labeled=True)),
        predicted=Count("pk", filter=Q(total_predictions__gt=0)),
    )
    context = {
        "project": project,
        "config": config,
        "stats": stats,
        "guidelines": guidelines_html(project.expert_instruction),
        "tasks": project.tasks.filter(task_scope_q(user=_user(request), role=role)).order_by("id")[
            :50
        ],
        "can_manage": role_allows(effective_role(project), Action.MANAGE),
        "can_review": role_allows(role, Action.REVIEW),
        "jobs_waiting": jobs_waiting_text(project_id=project.pk),
    }
    return render(request, "projects/detail.html", context)
