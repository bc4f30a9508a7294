"""The data manager page: a server-rendered shell; static/datamanager/main.js fills the
table from the JSON API (tasks/api/datamanager.py, tasks/api/bulk.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from annotator.models import User
from projects.permissions import Action, effective_role, role_allows
from projects.selectors import project_get_for_user
from tasks.selectors_datamanager import (
    PAGE_SIZE,
    datamanager_label_controls,
    datamanager_members,
)


@login_required
def data_manager(request: HttpRequest, project_id: int) -> HttpResponse:
    assert isinstance(request.user, User)
    project = project_get_for_user(project_id=project_id, user=request.user)
    if project is None:
        raise Http404("No such project")
    can_manage = role_allows(effective_role(project), Action.MANAGE)
    page = {
        "project": project.pk,
        "api": reverse("project-data", args=[project.pk]),
        "labelUrl": f"/projects/{project.pk}/label/",
        "pageSize": PAGE_SIZE,
        "canManage": can_manage,
        "me": request.user.pk,
        "members": datamanager_members(project=project),
        "controls": datamanager_label_controls(config=project.parsed_config),
    }
    return render(request, "tasks/datamanager.html", {"project": project, "page": page})
