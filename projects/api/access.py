"""Lookups for API views: 404 for non-members, 403 for members whose role does not allow."""

from __future__ import annotations

from typing import TypeVar

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request

from annotator.models import User
from projects.models import Project
from projects.permissions import Action, effective_role, role_allows, with_role


def request_user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated runs first
    return user


ModelT = TypeVar("ModelT")


def require_role(obj: ModelT | None, action: Action, label: str) -> ModelT:
    """404 unless ``obj`` (loaded ``with_role``) is in one of the user's projects; 403 unless
    their role there allows ``action``."""
    role = effective_role(obj) if obj is not None else None
    if obj is None or role is None:
        raise NotFound(f"{label} not found.")
    if not role_allows(role, action):
        raise PermissionDenied(f"Your role in this project does not allow '{action}'.")
    return obj


def project_or_404(request: Request, project_id: int, action: Action = Action.VIEW) -> Project:
    """The project with the user's access checked in the same query."""
    project = with_role(Project.objects.filter(pk=project_id), user=request_user(request)).first()
    return require_role(project, action, f"Project {project_id}")
