from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from accounts.models import Invitation
from annotator.models import AuditEvent, User
from projects.models import OrganizationMember, ProjectMember
from projects.services import organization_member_set
from tests.api_helpers import api
from tests.factories import add_member, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    return make_project()


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    def send(project, email="guest@example.com", role="reviewer", level="senior"):
        # The mail leaves after commit: run the commit hooks as a real commit would.
        with django_capture_on_commit_callbacks(execute=True):
            response = api(project.created_by).post(
                f"/api/projects/{project.pk}/invites",
                {"email": email, "role": role, "level": level},
                format="json",
            )
        assert response.status_code == 201, response.content
        return response.json()

    return send


def _key(url):
    return re.search(r"/invites/([^/]+)/", url).group(1)


def test_invitation_is_mailed_with_a_link_that_works_once(invite, project):
    body = invite(project)
    [message] = mail.outbox
    assert message.to == ["guest@example.com"]
    assert body["url"] in message.body
    assert project.title in message.subject + message.body
    key = _key(body["url"])
    assert not Invitation.objects.filter(key_hash__contains=key).exists()  # stored hashed
    guest = make_user()
    accepted = api(guest).post(f"/api/invites/{key}/accept")
    assert accepted.status_code == 200, accepted.content
    member = ProjectMember.objects.get(project=project, user=guest)
    assert (member.role, member.level) == ("reviewer", "senior")
    again = api(make_user()).post(f"/api/invites/{key}/accept")
    assert again.status_code == 410
    assert "already used" in again.json()["detail"]
    listed = api(project.created_by).get(f"/api/projects/{project.pk}/invites").json()
    assert [(i["status"], i["accepted_by"]) for i in listed] == [("accepted", guest.username)]
    assert AuditEvent.objects.filter(action="invite.accept", project_id=project.pk).count() == 1
    assert AuditEvent.objects.filter(action="member.add", object_id=guest.pk).count() == 1


def test_expired_link_is_refused_with_a_clear_message(invite, project, client):
    body = invite(project)
    # The clock moves on: the invitation's expiry is now past.
    Invitation.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - timedelta(hours=1))
    key = _key(body["url"])
    refused = api(make_user()).post(f"/api/invites/{key}/accept")
    assert refused.status_code == 410
    detail = refused.json()["detail"]
    assert detail.startswith("This invitation expired on ")
    assert f"ask {project.created_by.username} for a new one" in detail
    page = client.get(f"/invites/{key}/")
    assert page.status_code == 410
    assert "This invitation expired on" in page.content.decode()
    assert ProjectMember.objects.filter(project=project).count() == 1


def test_expiry_follows_the_setting(invite, project, settings):
    settings.INVITE_TTL_HOURS = 5
    body = invite(project)
    invitation = Invitation.objects.get(pk=body["id"])
    assert invitation.expires_at - invitation.created_at == timedelta(hours=5)


@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_members_below_manager_cannotinvite(invite, project, role):
    member = make_user()
    add_member(project, member, role=role)
    response = api(member).post(
        f"/api/projects/{project.pk}/invites", {"email": "x@example.com"}, format="json"
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert api(member).get(f"/api/projects/{project.pk}/invites").status_code == 403


def test_invitation_to_another_organizations_project_is_404(project):
    other_manager = make_project().created_by
    response = api(other_manager).post(
        f"/api/projects/{project.pk}/invites", {"email": "x@example.com"}, format="json"
    )
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_bad_role_and_email_are_field_errors(project):
    response = api(project.created_by).post(
        f"/api/projects/{project.pk}/invites", {"email": "nope", "role": "boss"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["validation_errors"]) == {"email", "role"}


def test_withdrawn_invitation_stops_working(invite, project):
    body = invite(project)
    response = api(project.created_by).delete(f"/api/projects/{project.pk}/invites/{body['id']}")
    assert response.status_code == 204
    refused = api(make_user()).post(f"/api/invites/{_key(body['url'])}/accept")
    assert refused.status_code == 410 and "withdrawn" in refused.json()["detail"]


def test_unknown_link_is_404(client):
    assert api(make_user()).post("/api/invites/not-a-key/accept").status_code == 404
    assert client.get("/invites/not-a-key/").status_code == 404


def test_organization_invitation_by_admins_only():
    project = make_project()
    org = project.organization
    member = make_user()
    organization_member_set(organization=org, user=member)
    refused = api(member).post(
        f"/api/organizations/{org.pk}/invites", {"email": "a@example.com"}, format="json"
    )
    assert refused.status_code == 403
    assert api(make_user()).get(f"/api/organizations/{org.pk}/invites").status_code == 404
    owner_only = api(project.created_by).post(
        f"/api/organizations/{org.pk}/invites", {"email": "a@example.com", "role": "owner"}
    )
    assert owner_only.status_code == 400 and "role" in owner_only.json()["validation_errors"]
    body = (
        api(project.created_by)
        .post(f"/api/organizations/{org.pk}/invites", {"email": "a@example.com", "role": "admin"})
        .json()
    )
    guest = make_user()
    assert api(guest).post(f"/api/invites/{_key(body['url'])}/accept").status_code == 200
    assert OrganizationMember.objects.get(organization=org, user=guest).role == "admin"


def test_accepting_never_demotes_an_existing_member(invite, project):
    body = invite(project, role="annotator")
    manager = make_user()
    add_member(project, manager, role="manager")
    assert api(manager).post(f"/api/invites/{_key(body['url'])}/accept").status_code == 200
    assert ProjectMember.objects.get(project=project, user=manager).role == "manager"


def test_signed_in_visitor_accepts_on_the_page(invite, project, client):
    key = _key(invite(project)["url"])
    guest = make_user()
    client.force_login(guest)
    page = client.get(f"/invites/{key}/")
    assert page.status_code == 200 and "Accept as" in page.content.decode()
    assert not ProjectMember.objects.filter(user=guest).exists()  # GET changes nothing
    response = client.post(f"/invites/{key}/")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    assert ProjectMember.objects.get(project=project, user=guest).role == "reviewer"


SIGNUP = {"password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"}


def test_signed_out_visitor_signs_up_with_closed_sign_up_and_joins(
    invite, project, client, settings
):
    settings.ACCOUNT_SIGNUP_OPEN = False
    key = _key(invite(project, email="Guest@Example.com")["url"])
    mail.outbox.clear()
    page = client.get(f"/invites/{key}/")
    assert page.status_code == 200 and "Create an account" in page.content.decode()
    signup = client.get("/accounts/signup/")
    assert "Guest@Example.com" in signup.content.decode()  # pre-filled, and open for it
    response = client.post(
        "/accounts/signup/", {"email": "guest@example.com", "username": "guest", **SIGNUP}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == f"/projects/{project.pk}/"
    guest = User.objects.get(username="guest")
    assert ProjectMember.objects.get(project=project, user=guest).level == "senior"
    # The address was proven by the link: verified, no confirmation mail.
    assert EmailAddress.objects.get(user=guest).verified is True
    assert mail.outbox == []
    assert client.session["_auth_user_id"] == str(guest.pk)
    # The link is spent.
    assert client.get(f"/invites/{key}/").status_code == 410


def test_closed_sign_up_with_an_invitation_is_for_the_invited_address_only(
    invite, project, client, settings
):
    settings.ACCOUNT_SIGNUP_OPEN = False
    key = _key(invite(project)["url"])
    client.get(f"/invites/{key}/")
    response = client.post(
        "/accounts/signup/", {"email": "someone-else@example.com", "username": "other", **SIGNUP}
    )
    assert response.status_code == 200
    assert "invitation only" in response.content.decode()
    assert not User.objects.filter(username="other").exists()


def test_project_invitations_page_for_managers(project, client, django_capture_on_commit_callbacks):
    client.force_login(project.created_by)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{project.pk}/invites/",
            {"email": "page@example.com", "role": "annotator", "level": "junior"},
        )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="invite-url"' in page and "page@example.com" in page
    assert mail.outbox[0].to == ["page@example.com"]
    annotator = make_user()
    add_member(project, annotator)
    client.force_login(annotator)
    assert client.get(f"/projects/{project.pk}/invites/").status_code == 403
    client.force_login(make_user())
    assert client.get(f"/projects/{project.pk}/invites/").status_code == 404


def test_invitation_list_query_count_does_not_grow_with_rows(invite, project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(project.created_by)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/projects/{project.pk}/invites").status_code == 200
        return len(queries)

    invite(project, email="one@example.com")
    one = count()
    for i in range(4):
        invite(project, email=f"more{i}@example.com")
    assert count() == one <= 3
