"""Pages of the quality app: the arbitration queue."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from annotator.models import User
from projects.permissions import effective_role, may_arbitrate, member_level
from projects.selectors import project_get_for_user
from quality.selectors import arbitration_list


@login_required
def arbitration_page(request: HttpRequest, project_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    project = project_get_for_user(project_id=project_id, user=user)
    if project is None:
        raise Http404("No such project")
    if not may_arbitrate(
        role=effective_role(project), level=member_level(project=project, user=user)
    ):
        raise PermissionDenied("Managers and expert members decide escalated tasks.")
    rows = arbitration_list(project=project)
    items = [
        {
            "row": row,
            "data": json.dumps(row.data, ensure_ascii=False)[:500],
            "annotations": [
                {**a, "shown": json.dumps(a["result"], ensure_ascii=False)[:1000]}
                for a in row.annotations
            ],
        }
        for row in rows
    ]
    return render(request, "quality/arbitration.html", {"project": project, "items": items})
