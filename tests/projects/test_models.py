from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from annotator.models import User
from projects.models import OrganizationMember, Project, ProjectMember
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db


def _fails(model, **fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**fields)


def test_user_email_is_unique_ignoring_case():
    make_user("a", email="Same@Example.com")
    _fails(User, username="b", email="same@example.com")


def test_users_without_email_are_allowed():
    User.objects.create(username="svc1", email="")
    User.objects.create(username="svc2", email="")
    assert User.objects.filter(email="").count() == 2


def test_one_membership_per_user_and_project():
    project = make_project()
    _fails(ProjectMember, project=project, user=project.created_by)


def test_project_role_must_be_known():
    project = make_project()
    _fails(ProjectMember, project=project, user=make_user(), role="superhero")


def test_project_level_must_be_known():
    project = make_project()
    _fails(ProjectMember, project=project, user=make_user(), level="guru")


def test_organization_role_must_be_known():
    organization = make_organization()
    _fails(OrganizationMember, organization=organization, user=make_user(), role="king")


def test_project_needs_at_least_one_annotation_per_task():
    _fails(Project, organization=make_organization(), title="x", maximum_annotations=0)


def test_overlap_percentage_is_at_most_100():
    _fails(Project, organization=make_organization(), title="x", overlap_cohort_percentage=101)


def test_parsed_config_follows_edits():
    project = make_project()
    assert "label" in project.parsed_config.controls
    project.label_config = '<View><Image name="img" value="$image"/></View>'
    assert project.parsed_config.data_fields == ["image"]
