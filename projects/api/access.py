"""Lookups for API views: 404 for non-members, 403 for members whose role does not allow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request

from annotator.models import User
from annotator.rawsql import columns_of, fetch_model
from projects.models import Project
from projects.permissions import Action, effective_role, role_allows, role_columns_sql


def request_user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated runs first
    return user


ModelT = TypeVar("ModelT")


def require_role(
    obj: ModelT | None,
    action: Action,
    label: str,
    *,
    visible: Callable[[ModelT], bool] | None = None,
) -> ModelT:
    """404 unless ``obj`` (loaded ``with_role``) is in one of the user's projects and, with
    ``visible``, the user may see it there (tasks handed to annotators, blind annotation);
    403 unless their role there allows ``action``."""
    role = effective_role(obj) if obj is not None else None
    if obj is None or role is None or (visible is not None and not visible(obj)):
        raise NotFound(f"{label} not found.")
    if not role_allows(role, action):
        raise PermissionDenied(f"Your role in this project does not allow '{action}'.")
    return obj


def project_or_404(request: Request, project_id: int, action: Action = Action.VIEW) -> Project:
    """The project with the user's access checked in the same query (plain SQL: every
    project endpoint, next-task included, starts here)."""
    project = project_with_role(request_user(request), tail="WHERE p.id = %s", params=[project_id])
    return require_role(project, action, f"Project {project_id}")


def project_with_role(user: User, *, tail: str, params: list[Any]) -> Project | None:
    """The project ``p`` selected by the plain-SQL ``tail`` (joins and WHERE), with the
    user's role columns for ``require_role``."""
    if not user.is_active:
        return None
    role_sql, role_params = role_columns_sql(user=user, project_id_sql="p.id")
    columns = columns_of(Project, "p")
    sql = f"SELECT {columns}, {role_sql} FROM projects_project p {tail}"  # nosec B608 # noqa: S608 (constants)
    return fetch_model(Project, sql, [*role_params, *params])
