"""The one place that decides who may do what in a project.

Non-members never learn that an object exists: every lookup goes through the selectors,
which return nothing for them, and the API answers 404. Among members, the role decides.
The role is computed in SQL next to the object it guards (``role_annotations``), so an API
request checks access with the same query that loads the object.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from annotator.models import User
from projects.models import (
    OrganizationMember,
    OrganizationRole,
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


def role_allows(role: str | None, action: Action) -> bool:
    return role is not None and action in _ALLOWED[role]


def role_annotations(*, user: User, project_path: str = "") -> dict[str, Any]:
    """Expressions giving the user's membership role and organization-admin flag for the
    project at ``project_path`` ("" on Project itself, "project" on Task...)."""
    prefix = f"{project_path}__" if project_path else ""
    project_ref = OuterRef(f"{project_path}_id" if project_path else "pk")
    return {
        "access_member_role": Subquery(
            ProjectMember.objects.filter(project=project_ref, user=user).values("role")[:1]
        ),
        "access_org_admin": Exists(
            OrganizationMember.objects.filter(
                organization=OuterRef(f"{prefix}organization_id"),
                user=user,
                role__in=[OrganizationRole.OWNER, OrganizationRole.ADMIN],
            )
        ),
    }


_ADMIN_ROLES = (OrganizationRole.OWNER.value, OrganizationRole.ADMIN.value)


def role_columns_sql(*, user: User, project_id_sql: str) -> tuple[str, list[Any]]:
    """``role_annotations`` in plain SQL, for the hot lookups that load their object with a
    raw query (next-task, submit): the same two columns, ``access_member_role`` and
    ``access_org_admin``, for the project whose id is the SQL expression ``project_id_sql``
    (a column of the outer query). A test checks both forms agree."""
    sql = (
        "(SELECT pm.role FROM projects_projectmember pm"  # noqa: S608 (constant; values are parameters)
        f" WHERE pm.project_id = {project_id_sql} AND pm.user_id = %s) AS access_member_role,"
        " EXISTS (SELECT 1 FROM projects_organizationmember om"
        " JOIN projects_project rp ON rp.organization_id = om.organization_id"
        f" WHERE rp.id = {project_id_sql} AND om.user_id = %s AND om.role IN (%s, %s))"
        " AS access_org_admin"
    )
    return sql, [user.pk, user.pk, *_ADMIN_ROLES]


def with_role(queryset: QuerySet[Any], *, user: User, project_path: str = "") -> QuerySet[Any]:
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    return queryset.annotate(**role_annotations(user=user, project_path=project_path))


def effective_role(obj: Any) -> str | None:
    """The role read from an object loaded through ``with_role``: organization owners and
    admins manage every project of their organization."""
    if getattr(obj, "access_org_admin", False):
        return ProjectRole.MANAGER
    return getattr(obj, "access_member_role", None)
