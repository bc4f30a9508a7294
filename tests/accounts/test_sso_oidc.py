"""Single sign-on through a real OpenID Connect provider on loopback (tests/accounts/idp/
oidc_server.py, a second process): our login URL, the provider's authorize redirect, our
callback exchanging the code with the provider, and the roles its groups map to."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp

from accounts.models import SSOGroupRole, SSOMembership
from annotator.models import AuditEvent, User
from projects.models import OrganizationMember, ProjectMember
from tests.accounts.idp import idp_process
from tests.factories import make_organization, make_project, make_user

pytestmark = pytest.mark.django_db

CLIENT_ID, SECRET = "annotator-test", "s3cret-for-tests"


@pytest.fixture(scope="module")
def idp():
    with idp_process("oidc_server.py", CLIENT_ID, SECRET) as ready:
        yield f"http://127.0.0.1:{ready[0]}"


@pytest.fixture
def app(idp):
    app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id="corp",
        name="Corp <SSO>",
        client_id=CLIENT_ID,
        secret=SECRET,
        settings={"server_url": idp},
    )
    requests.put(f"{idp}/_test", json={"mode": "normal"}, timeout=5)
    return app


@pytest.fixture
def project():
    return make_project(title="Mapped")


def _user(idp, *, groups, email="ada@idp.test", verified=True, sub="u-1", mode="normal"):
    claims = {
        "sub": sub,
        "email": email,
        "email_verified": verified,
        "preferred_username": "ada",
        "name": "Ada Lovelace",
        "groups": groups,
    }
    requests.put(f"{idp}/_test", json={"user": claims, "mode": mode}, timeout=5)


def _sign_in(client, idp, *, tamper_state=False):
    """Our login URL -> the IdP -> our callback; the callback's response."""
    start = client.post("/accounts/oidc/corp/login/")
    assert start.status_code == 302 and start["Location"].startswith(f"{idp}/authorize?")
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["nonce"][0] and query["code_challenge_method"] == ["S256"]
    back = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/accounts/oidc/corp/login/callback/"
    target = f"{callback.path}?{callback.query}"
    if tamper_state:
        target = target.replace("state=", "state=x")
    return client.get(target)


def _signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_first_sign_in_creates_the_user_with_the_mapped_role(client, idp, app, project):
    SSOGroupRole.objects.create(
        provider="corp",
        group="labellers",
        organization=project.organization,
        project=project,
        project_role="reviewer",
        level="senior",
    )
    _user(idp, groups=["labellers", "unmapped"])

    response = _sign_in(client, idp)

    assert response.status_code == 302, response.content.decode()[:500]
    user = _signed_in_user(client)
    assert user is not None and user.email == "ada@idp.test"
    assert SocialAccount.objects.get(user=user).uid == "u-1"
    assert EmailAddress.objects.get(user=user).verified is True
    member = ProjectMember.objects.get(project=project, user=user)
    assert (member.role, member.level) == ("reviewer", "senior")
    event = AuditEvent.objects.get(action="member.add", object_id=user.pk)
    assert event.after == {"role": "reviewer", "level": "senior"}
    assert AuditEvent.objects.filter(action="sso.roles", actor_id=user.pk).count() == 1
    assert client.get(f"/projects/{project.pk}/").status_code == 200


def test_a_later_sign_in_with_changed_groups_updates_and_removes_roles(client, idp, app, project):
    org = project.organization
    other = make_project(organization=org, title="Other")
    SSOGroupRole.objects.create(
        provider="corp",
        group="a",
        organization=org,
        project=project,
        project_role="annotator",
        level="junior",
    )
    SSOGroupRole.objects.create(
        provider="corp",
        group="b",
        organization=org,
        project=project,
        project_role="manager",
        level="junior",
    )
    SSOGroupRole.objects.create(
        provider="corp",
        group="c",
        organization=org,
        project=other,
        project_role="annotator",
        level="junior",
    )
    SSOGroupRole.objects.create(provider="corp", group="admins", organization=org)
    _user(idp, groups=["a", "c", "admins"])
    assert _sign_in(client, idp).status_code == 302
    user = _signed_in_user(client)
    assert ProjectMember.objects.get(project=project, user=user).role == "annotator"
    assert ProjectMember.objects.filter(project=other, user=user).exists()
    assert OrganizationMember.objects.get(organization=org, user=user).role == "member"

    client.post("/accounts/logout/")
    _user(idp, groups=["a", "b"])  # now also in b (manager), no longer in c nor admins
    assert _sign_in(client, idp).status_code == 302

    assert _signed_in_user(client) == user
    assert ProjectMember.objects.get(project=project, user=user).role == "manager"
    assert not ProjectMember.objects.filter(project=other, user=user).exists()
    assert not OrganizationMember.objects.filter(organization=org, user=user).exists()
    actions = set(AuditEvent.objects.filter(object_id=user.pk).values_list("action", flat=True))
    assert {"member.update", "member.remove", "organization_member.remove"} <= actions
    assert list(SSOMembership.objects.filter(user=user).values_list("project", flat=True)) == [
        project.pk
    ]


def test_memberships_given_by_hand_stay_when_no_group_maps_to_them(client, idp, app, project):
    _user(idp, groups=[])
    assert _sign_in(client, idp).status_code == 302
    user = _signed_in_user(client)
    by_hand = make_project(organization=project.organization)
    ProjectMember.objects.create(project=by_hand, user=user, role="reviewer")
    client.post("/accounts/logout/")

    assert _sign_in(client, idp).status_code == 302

    assert ProjectMember.objects.get(project=by_hand, user=user).role == "reviewer"


def test_a_bad_state_is_refused(client, idp, app):
    _user(idp, groups=[])
    response = _sign_in(client, idp, tamper_state=True)
    assert response.status_code == 401
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email="ada@idp.test").exists()


@pytest.mark.parametrize("mode", ["foreign_key", "wrong_nonce", "wrong_audience"])
def test_a_forged_or_misdirected_id_token_is_refused(client, idp, app, mode):
    _user(idp, groups=[], mode=mode)
    response = _sign_in(client, idp)
    assert response.status_code == 401  # allauth's "login failure" page
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()


def test_an_sso_identity_never_takes_over_a_local_account_by_its_address(client, idp, app):
    victim = make_user(username="victim", email="ada@idp.test")
    _user(idp, groups=[], verified=True)

    response = _sign_in(client, idp)

    assert client.session.get("_auth_user_id") != str(victim.pk)
    assert not SocialAccount.objects.filter(user=victim).exists()
    # The sign-up form asks for another address instead.
    assert response.status_code == 302 and response["Location"] == "/accounts/3rdparty/signup/"


def test_an_unverified_address_is_not_marked_verified(client, idp, app):
    _user(idp, groups=[], verified=False)
    assert _sign_in(client, idp).status_code == 302
    user = _signed_in_user(client)
    assert EmailAddress.objects.get(user=user).verified is False


def test_the_sign_in_page_lists_the_provider_with_its_name_escaped(client, app):
    page = client.get("/accounts/login/").content.decode()
    assert "Corp &lt;SSO&gt;" in page and "Corp <SSO>" not in page
    assert "/accounts/oidc/corp/login/" in page


def test_sign_up_through_sso_can_be_closed(client, idp, app, settings):
    settings.SSO_SIGNUP_OPEN = False
    settings.ACCOUNT_SIGNUP_OPEN = True
    _user(idp, groups=[])
    _sign_in(client, idp)
    assert not User.objects.filter(email="ada@idp.test").exists()


def test_an_organization_owner_is_never_demoted_by_a_group(client, idp, app):
    _user(idp, groups=[])
    assert _sign_in(client, idp).status_code == 302
    user = _signed_in_user(client)
    org = make_organization(owner=user)
    SSOGroupRole.objects.create(provider="corp", group="staff", organization=org)
    client.post("/accounts/logout/")
    _user(idp, groups=["staff"])

    assert _sign_in(client, idp).status_code == 302

    assert OrganizationMember.objects.get(organization=org, user=user).role == "owner"
