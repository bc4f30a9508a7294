"""Pages of the quality workflow: the reviewers' queue and the dashboards. Server-rendered
shells; static/quality/*.js fill them from the JSON API (quality/api/views_workflow.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.models import User
from projects.models import Project
from projects.permissions import Action, effective_role, role_allows
from projects.selectors import project_get_for_user
from quality.selectors_dashboard import ANNOTATOR_CHARTS, PROJECT_CHARTS

# Seconds between two refreshes of an open dashboard ("live" by polling).
DASHBOARD_REFRESH_S = 15


def _project(request: HttpRequest, project_id: int, action: Action) -> Project:
    user = request.user
    assert isinstance(user, User)
    project = project_get_for_user(project_id=project_id, user=user)
    if project is None:
        raise Http404("No such project")
    if not role_allows(effective_role(project), action):
        raise PermissionDenied(f"Your role in this project does not allow '{action}'.")
    return project


@login_required
def review_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, Action.REVIEW)
    page = {"project": project.pk, "labelUrl": f"/projects/{project.pk}/label/"}
    return render(request, "quality/review.html", {"project": project, "page": page})


@login_required
def dashboard_page(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project dashboard; ``?user=<id>`` one annotator's."""
    project = _project(request, project_id, Action.VIEW_ALL)
    raw = request.GET.get("user", "")
    user_id = int(raw) if raw.isdigit() and len(raw) <= 18 else None
    page = {
        "project": project.pk,
        "user": user_id,
        "charts": list(ANNOTATOR_CHARTS if user_id else PROJECT_CHARTS),
        "refreshSeconds": DASHBOARD_REFRESH_S,
    }
    return render(request, "quality/dashboard.html", {"project": project, "page": page})
