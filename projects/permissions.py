"""The one place that decides who may do what in a project.

Non-members never learn that an object exists: every lookup goes through the selectors,
which return nothing for them, and the API answers 404. Among members, the role decides.
"""

from __future__ import annotations

from enum import StrEnum

from annotator.models import User
from projects.models import (
    OrganizationMember,
    OrganizationRole,
    Project,
    ProjectMember,
    ProjectRole,
)


class Action(StrEnum):
    VIEW = "view"  # see the project, its tasks and annotations
    ANNOTATE = "annotate"  # submit, update own annotations and drafts, take next task
    REVIEW = "review"  # edit or judge others' annotations
    MANAGE = "manage"  # settings, config, import, export, delete, members, ML, webhooks


_ALLOWED: dict[str, set[Action]] = {
    ProjectRole.ANNOTATOR: {Action.VIEW, Action.ANNOTATE},
    ProjectRole.REVIEWER: {Action.VIEW, Action.ANNOTATE, Action.REVIEW},
    ProjectRole.MANAGER: set(Action),
}


def project_role(*, user: User, project: Project) -> str | None:
    """The user's effective role: organization owners and admins manage every project."""
    if not user.is_authenticated or not user.is_active:
        return None
    if OrganizationMember.objects.filter(
        organization_id=project.organization_id,
        user=user,
        role__in=[OrganizationRole.OWNER, OrganizationRole.ADMIN],
    ).exists():
        return ProjectRole.MANAGER
    member = ProjectMember.objects.filter(project=project, user=user).only("role").first()
    return member.role if member else None


def can(*, user: User, project: Project, action: Action) -> bool:
    role = project_role(user=user, project=project)
    return role is not None and action in _ALLOWED[role]
