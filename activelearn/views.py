"""The project's learning page: model versions side by side, the learning curve, the loop
round by round and the queue."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from activelearn.models import QueueRound
from activelearn.selectors import Loop, learning_loop
from activelearn.services import queue_settings_get
from annotator.models import User
from mlserve.models import ModelVersion
from projects.permissions import Action, effective_role, role_allows
from projects.selectors import project_get_for_user

CHART_W, CHART_H, PAD = 560, 220, 36


def _curve(loop: Loop) -> list[dict[str, Any]]:
    """One SVG polyline per control: labels on x, validation accuracy on y (0.5 to 1 when
    the data allows, else 0 to 1)."""
    points = [(r.control, r.labels, r.accuracy) for r in loop.rounds if r.accuracy is not None]
    if not points:
        return []
    most = max(p[1] for p in points) or 1
    low = 0.5 if min(p[2] for p in points) >= 0.5 else 0.0  # type: ignore[type-var]
    lines: dict[str, list[str]] = {}
    for control, labels, accuracy in points:
        x = PAD + (CHART_W - 2 * PAD) * labels / most
        y = CHART_H - PAD - (CHART_H - 2 * PAD) * (accuracy - low) / (1 - low)  # type: ignore[operator]
        lines.setdefault(control, []).append(f"{x:.1f},{y:.1f}")
    return [
        {"control": c, "points": " ".join(p), "last": p[-1].split(",")} for c, p in lines.items()
    ] + [{"axis": True, "most": most, "low": low}]


@login_required
def learning_page(request: HttpRequest, project_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    project = project_get_for_user(project_id=project_id, user=user)
    if project is None:
        raise Http404("No such project")
    loop = learning_loop(project=project)
    curve = _curve(loop)
    context = {
        "project": project,
        "can_manage": role_allows(effective_role(project), Action.MANAGE),
        "versions": ModelVersion.objects.filter(project=project).order_by("-id")[:50],
        "loop": loop,
        "lines": [c for c in curve if "axis" not in c],
        "axis": next((c for c in curve if "axis" in c), None),
        "chart": {"w": CHART_W, "h": CHART_H, "pad": PAD},
        "settings": queue_settings_get(project=project),
        "rounds": QueueRound.objects.filter(project=project).order_by("-id")[:5],
    }
    return render(request, "activelearn/learning.html", context)
