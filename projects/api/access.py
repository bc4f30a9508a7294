"""Lookups for API views: 404 for non-members, 403 for members whose role does not allow."""

from __future__ import annotations

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request

from annotator.models import User
from projects.models import Project
from projects.permissions import Action, can
from projects.selectors import project_get_for_user


def request_user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated runs first
    return user


def project_or_404(request: Request, project_id: int, action: Action = Action.VIEW) -> Project:
    user = request_user(request)
    project = project_get_for_user(project_id=project_id, user=user)
    if project is None:
        raise NotFound(f"Project {project_id} not found.")
    if action is not Action.VIEW and not can(user=user, project=project, action=action):
        raise PermissionDenied(f"Your role in this project does not allow '{action}'.")
    return project
