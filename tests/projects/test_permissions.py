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


def test_sql_task_visibility_matches_the_orm_form_for_every_way_of_handing_a_task():
    from django.db import connection
    from django.utils import timezone

    from projects.permissions import (
        handed_neighbours_sql,
        task_visible_annotation,
        task_visible_sql,
    )
    from tasks.models import Annotation, Draft, Task, TaskAssignment, TaskLock
    from tasks.services import tasks_import

    project = make_project()
    user, other = make_user(), make_user()
    ids = tasks_import(project=project, items=[{"text": str(n)} for n in range(6)], user=None)
    t = ids.task_ids
    TaskLock.objects.create(task_id=t[0], user=user, expires_at=timezone.now())  # expired: kept
    TaskAssignment.objects.create(project=project, task_id=t[1], user=user)
    Annotation.objects.create(task_id=t[2], project=project, completed_by=user, result=[])
    Draft.objects.create(task_id=t[3], user=user, result=[])
    # Someone else's rows hand nothing to the user.
    TaskAssignment.objects.create(project=project, task_id=t[4], user=other)
    Draft.objects.create(task_id=t[4], user=other, result=[])
    sql, params = task_visible_sql(user=user, task_id_sql="t.id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.id, {sql} FROM tasks_task t ORDER BY t.id", params)
        raw = {row[0]: bool(row[1]) for row in cursor.fetchall()}
    orm = dict(
        Task.objects.annotate(**task_visible_annotation(user=user)).values_list(
            "id", "access_task_visible"
        )
    )
    expected = {pk: pk in t[:4] for pk in t}
    assert raw == orm == expected
    sql, params = handed_neighbours_sql(user=user, project_id=project.pk, task_id=t[2])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchone() == (t[1], t[3])
