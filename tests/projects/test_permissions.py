"""The plain-SQL role columns (hot lookups) and the ORM ones (every other lookup) agree."""

import itertools

import pytest

from projects.models import OrganizationMember, Project
from projects.permissions import effective_role, role_columns_sql, with_role
from tests.factories import add_member, make_organization, make_project, make_user

pytestmark = pytest.mark.django_db

ORG_ROLES = [None, "member", "admin", "owner"]
PROJECT_ROLES = [None, "annotator", "reviewer", "manager"]


def _raw_role(project, user):
    role_sql, params = role_columns_sql(user=user, project_id_sql="p.id")
    rows = Project.objects.raw(
        f"SELECT p.*, {role_sql} FROM projects_project p WHERE p.id = %s", [*params, project.pk]
    )
    return effective_role(next(iter(rows)))


def test_sql_role_matches_orm_role_for_every_membership_combination():
    seen = set()
    for org_role, project_role in itertools.product(ORG_ROLES, PROJECT_ROLES):
        project = make_project(organization=make_organization())
        user = make_user()
        if org_role:
            OrganizationMember.objects.create(
                organization=project.organization, user=user, role=org_role
            )
        if project_role:
            add_member(project, user, project_role)
        # A membership elsewhere must not leak into this project.
        add_member(make_project(), user, "manager")
        orm = effective_role(with_role(Project.objects.filter(pk=project.pk), user=user).get())
        assert _raw_role(project, user) == orm, (org_role, project_role)
        seen.add(orm)
    assert seen == {None, "annotator", "reviewer", "manager"}
