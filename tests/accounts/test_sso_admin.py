"""Single sign-on is configured in the admin: identity providers (allauth's social
applications) and the group -> role mappings."""

from __future__ import annotations

import pytest

from accounts.models import SSOGroupRole
from annotator.models import User
from tests.factories import make_organization, make_project

pytestmark = pytest.mark.django_db

ADD = "/admin/accounts/ssogrouprole/add/"


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(admin)
    return client


def _form(**fields):
    base = {"provider": "corp", "group": "labellers", "organization_role": "member"}
    base.update({"project_role": "", "level": ""})
    base.update(fields)
    return base


def test_the_admin_offers_both_sso_providers_for_a_social_application(admin_client):
    page = admin_client.get("/admin/socialaccount/socialapp/add/").content.decode()
    assert 'value="openid_connect"' in page and 'value="saml"' in page


def test_a_project_mapping_is_saved_from_the_admin(admin_client):
    project = make_project()
    response = admin_client.post(
        ADD,
        _form(
            organization=project.organization.pk,
            project=project.pk,
            project_role="reviewer",
            level="expert",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = SSOGroupRole.objects.get()
    assert (rule.project, rule.project_role, rule.level) == (project, "reviewer", "expert")


def test_a_project_of_another_organization_is_refused(admin_client):
    project = make_project()
    other = make_organization()
    response = admin_client.post(
        ADD,
        _form(organization=other.pk, project=project.pk, project_role="annotator"),
    )
    assert response.status_code == 200
    assert "the project is not in this organization" in response.content.decode()
    assert not SSOGroupRole.objects.exists()


def test_ownership_is_never_given_by_a_group(admin_client):
    org = make_organization()
    response = admin_client.post(ADD, _form(organization=org.pk, organization_role="owner"))
    assert response.status_code == 200
    assert "ownership is not given by a group" in response.content.decode()
    assert not SSOGroupRole.objects.exists()
