from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from annotator.models import ApiToken
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _works(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/current-user").status_code == 200


def _new_key(response):
    match = re.search(r'id="new-key">([0-9a-f]{40})<', response.content.decode())
    assert match, response.content.decode()
    return match.group(1)


def test_tokens_page_creates_shows_the_key_once_and_revokes(client):
    user = make_user()
    client.force_login(user)
    assert client.get("/account/tokens/").status_code == 200
    created = client.post("/account/tokens/", {"action": "create", "name": "laptop"})
    key = _new_key(created)
    assert _works(key)
    listing = client.get("/account/tokens/").content.decode()
    assert key[:8] in listing and key not in listing and "laptop" in listing
    token = ApiToken.objects.get(user=user)
    rotated = _new_key(client.post("/account/tokens/", {"action": "rotate", "token": token.pk}))
    assert not _works(key) and _works(rotated)
    newest = ApiToken.objects.filter(user=user, revoked_at__isnull=True).get()
    client.post("/account/tokens/", {"action": "revoke", "token": newest.pk})
    assert not _works(rotated)


def test_tokens_page_cannot_touch_another_users_token(client):
    owner = make_user()
    other = make_user()
    client.force_login(owner)
    key = _new_key(client.post("/account/tokens/", {"action": "create"}))
    token = ApiToken.objects.get(user=owner)
    client.force_login(other)
    assert (
        client.post("/account/tokens/", {"action": "revoke", "token": token.pk}).status_code == 404
    )
    assert _works(key)


def test_tokens_page_needs_a_signed_in_user(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_signed_in_layout_links_the_account_pages(client):
    client.force_login(make_user())
    page = client.get("/").content.decode()
    for href in (
        'href="/account/tokens/"',
        'href="/accounts/password/change/"',
        'action="/accounts/logout/"',
    ):
        assert href in page


def test_project_page_links_the_invitations_page_for_managers_only(client):
    from tests.factories import add_member, make_project

    project = make_project()
    client.force_login(project.created_by)
    link = f'href="/projects/{project.pk}/invites/"'
    assert link in client.get(f"/projects/{project.pk}/").content.decode()
    annotator = make_user()
    add_member(project, annotator)
    client.force_login(annotator)
    assert link not in client.get(f"/projects/{project.pk}/").content.decode()


def test_audit_page_lists_filters_and_pages_for_managers(client):
    from tests.factories import add_member, make_project

    project = make_project()
    client.force_login(project.created_by)
    client.post(f"/projects/{project.pk}/invites/", {"email": "a@example.com"})
    page = client.get(f"/projects/{project.pk}/audit/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "invite.create" in body and "project.create" in body
    filtered = client.get(f"/projects/{project.pk}/audit/", {"action": "invite."}).content
    assert b"invite.create" in filtered and b"project.create" not in filtered
    assert client.get(f"/projects/{project.pk}/audit/", {"since": "nope"}).status_code == 200
    annotator = make_user()
    add_member(project, annotator)
    client.force_login(annotator)
    assert client.get(f"/projects/{project.pk}/audit/").status_code == 403
    client.force_login(make_user())
    assert client.get(f"/projects/{project.pk}/audit/").status_code == 404


def test_invitations_page_withdraws_and_rejects_bad_input(client):
    from accounts.models import Invitation
    from tests.factories import make_project

    project = make_project()
    client.force_login(project.created_by)
    client.post(f"/projects/{project.pk}/invites/", {"email": "w@example.com"})
    invitation = Invitation.objects.get()
    assert invitation.project_role == "annotator"
    client.post(f"/projects/{project.pk}/invites/", {"revoke": invitation.pk})
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert client.post(f"/projects/{project.pk}/invites/", {"revoke": "x"}).status_code == 404
    bad = client.post(f"/projects/{project.pk}/invites/", {"email": "nope", "role": "boss"})
    assert bad.status_code == 200
    assert Invitation.objects.count() == 1
    assert "valid" in bad.content.decode()
