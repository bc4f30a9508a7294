"""Single sign-on through a real SAML 2.0 identity provider on loopback (tests/accounts/idp/
saml_server.py, a second process with a generated key): SP-initiated login, the IdP's signed
assertion posted to our ACS, and the roles its groups attribute maps to. The provider is
configured from the environment (``SSO_SAML_PROVIDERS``)."""

from __future__ import annotations

import copy
import json
import re
from html import unescape

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from accounts.models import SSOGroupRole
from annotator.env import sso_apps
from annotator.models import AuditEvent, User
from projects.models import OrganizationMember, ProjectMember
from tests.accounts.idp import idp_process
from tests.factories import make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings):
    # A browser sends Host; python3-saml builds the ACS address from it (and wants a dotted
    # domain, as a deployment has).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "sp.test"]
    return Client(HTTP_HOST="sp.test")


@pytest.fixture(scope="module")
def idp():
    with idp_process("saml_server.py", "urn:test:idp") as ready:
        port, cert = ready
        yield {"base": f"http://127.0.0.1:{port}", "cert": cert}


@pytest.fixture
def saml_app(idp, settings, monkeypatch):
    entry = {
        "provider_id": "corp-saml",
        "name": "Corp SAML",
        "client_id": "corp",
        "idp": {"entity_id": "urn:test:idp", "sso_url": f"{idp['base']}/sso"},
        "attribute_mapping": {"email": "email", "email_verified": "email_verified"},
        "groups_attribute": "memberOf",
        "advanced": {"want_assertion_signed": True},
    }
    entry["idp"]["x509cert"] = idp["cert"]
    monkeypatch.setenv("SSO_SAML_PROVIDERS", json.dumps([entry]))
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    providers["saml"]["APPS"] = sso_apps("SSO_SAML_PROVIDERS", "saml")
    settings.SOCIALACCOUNT_PROVIDERS = providers
    requests.put(f"{idp['base']}/_test", json={"mode": "normal"}, timeout=5)


def _user(idp, *, groups, email="grace@idp.test", mode="normal"):
    attributes = {"email": [email], "email_verified": ["true"], "memberOf": groups}
    user = {"name_id": "grace-1", "attributes": attributes}
    requests.put(f"{idp['base']}/_test", json={"user": user, "mode": mode}, timeout=5)


def _sign_in(client, idp):
    """SP-initiated: our login URL -> the IdP -> the signed assertion POSTed to our ACS."""
    start = client.post("/accounts/saml/corp/login/")
    assert start.status_code == 302 and start["Location"].startswith(f"{idp['base']}/sso?")
    form = requests.get(start["Location"], timeout=5)
    assert form.status_code == 200
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.text))
    action = unescape(re.search(r'action="([^"]+)"', form.text).group(1))
    assert action == "http://sp.test/accounts/saml/corp/acs/"
    posted = client.post("/accounts/saml/corp/acs/", {k: unescape(v) for k, v in fields.items()})
    assert posted.status_code == 302  # to the finishing step, with the response kept aside
    return client.get(posted["Location"])


def test_sign_in_creates_the_user_with_the_mapped_role(client, idp, saml_app):
    project = make_project(title="Mapped")
    SSOGroupRole.objects.create(
        provider="corp-saml",
        group="cn=labellers",
        organization=project.organization,
        project=project,
        project_role="manager",
        level="junior",
    )
    SSOGroupRole.objects.create(
        provider="corp-saml",
        group="cn=staff",
        organization=project.organization,
        organization_role="admin",
    )
    _user(idp, groups=["cn=labellers", "cn=staff"])

    response = _sign_in(client, idp)

    assert response.status_code == 302, response.content.decode()[:500]
    user = User.objects.get(pk=client.session["_auth_user_id"])
    assert user.email == "grace@idp.test"
    assert SocialAccount.objects.get(user=user, provider="corp-saml").uid == "grace-1"
    assert EmailAddress.objects.get(user=user).verified is True
    assert ProjectMember.objects.get(project=project, user=user).role == "manager"
    org_member = OrganizationMember.objects.get(organization=project.organization, user=user)
    assert org_member.role == "admin"
    assert AuditEvent.objects.filter(action="member.add", object_id=user.pk).exists()

    client.post("/accounts/logout/")
    _user(idp, groups=["cn=staff"])
    assert _sign_in(client, idp).status_code == 302
    assert not ProjectMember.objects.filter(project=project, user=user).exists()


@pytest.mark.parametrize("mode", ["tampered", "foreign_key"])
def test_a_response_with_a_bad_signature_is_refused(client, idp, saml_app, mode):
    _user(idp, groups=[], mode=mode)
    response = _sign_in(client, idp)
    assert response.status_code == 401  # allauth's "login failure" page
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email__in=["grace@idp.test", "mallory@idp.test"]).exists()


def test_an_assertion_never_signs_into_a_local_account_with_the_same_address(client, idp, saml_app):
    victim = make_user(username="victim", email="grace@idp.test")
    _user(idp, groups=[])
    _sign_in(client, idp)
    assert client.session.get("_auth_user_id") != str(victim.pk)
    assert not SocialAccount.objects.filter(user=victim).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{", "SSO_SAML_PROVIDERS is not valid JSON"),
        ("{}", "SSO_SAML_PROVIDERS must be a JSON list"),
        ('[{"provider_id": "x", "name": "X"}]', "SSO_SAML_PROVIDERS[0] lacks client_id, idp"),
        (
            '[{"provider_id": "a b", "name": "X", "client_id": "c", "idp": {"entity_id": "e"}}]',
            "SSO_SAML_PROVIDERS[0].provider_id must be",
        ),
    ],
)
def test_a_bad_provider_list_names_the_variable(monkeypatch, value, message):
    monkeypatch.setenv("SSO_SAML_PROVIDERS", value)
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        sso_apps("SSO_SAML_PROVIDERS", "saml")


def test_oidc_providers_come_from_the_environment_as_apps(monkeypatch):
    entry = {"provider_id": "corp", "name": "Corp", "client_id": "id", "secret": "s"}
    entry |= {"server_url": "https://idp.example.com", "groups_claim": "roles"}
    monkeypatch.setenv("SSO_OIDC_PROVIDERS", json.dumps([entry]))
    assert sso_apps("SSO_OIDC_PROVIDERS", "openid_connect") == [
        {
            "provider_id": "corp",
            "name": "Corp",
            "client_id": "id",
            "secret": "s",
            "settings": {"server_url": "https://idp.example.com", "groups_claim": "roles"},
        }
    ]
