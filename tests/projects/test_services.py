from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from projects.models import Project, ProjectMember
from projects.selectors import project_get_for_user, project_list_for_user
from projects.services import project_create, project_member_set
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db


def test_create_makes_the_creator_a_manager():
    project = make_project()
    assert ProjectMember.objects.get(project=project).role == "manager"


def test_create_rejects_a_bad_config_with_the_line():
    owner = make_user()
    bad = '<View>\n  <Text name="t" value="$text"/>\n  <Labels name="l" toName="nowhere"><Label value="A"/></Labels>\n</View>'
    with pytest.raises(ValidationError) as err:
        project_create(
            organization=make_organization(owner), title="x", created_by=owner, label_config=bad
        )
    [message] = err.value.message_dict["label_config"]
    assert "nowhere" in message and "3" in message
    assert not Project.objects.exists()


def test_member_set_changes_role_in_place():
    project = make_project()
    user = make_user()
    project_member_set(project=project, user=user, role="annotator")
    project_member_set(project=project, user=user, role="reviewer", level="expert")
    member = ProjectMember.objects.get(project=project, user=user)
    assert (member.role, member.level) == ("reviewer", "expert")


def test_outsider_sees_no_project():
    project = make_project()
    outsider = make_user()
    assert project_get_for_user(project_id=project.pk, user=outsider) is None
    assert not project_list_for_user(user=outsider).exists()


def test_member_sees_only_their_projects():
    mine = make_project()
    make_project()
    user = make_user()
    project_member_set(project=mine, user=user)
    assert list(project_list_for_user(user=user)) == [mine]


def test_organization_admin_sees_every_project_of_the_organization():
    owner = make_user()
    organization = make_organization(owner)
    a = make_project(organization=organization, owner=owner)
    b = make_project(organization=organization, owner=make_user())
    make_project()
    assert set(project_list_for_user(user=owner)) == {a, b}


def test_inactive_user_sees_nothing():
    project = make_project()
    project.created_by.is_active = False
    project.created_by.save()
    assert project_get_for_user(project_id=project.pk, user=project.created_by) is None
