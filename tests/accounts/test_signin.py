from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from annotator.env import email_settings
from annotator.models import AuditEvent, User
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-for-tests-only"


def _link(message, pattern):
    match = re.search(rf"https?://[^/\s]+({pattern}[^\s]*)", message.body)
    assert match, message.body
    return match.group(1)


def test_login_page_is_served_at_the_old_address(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="login"' in page and 'name="password"' in page
    assert 'class="topbar"' in page  # inside our layout


def test_sign_in_with_username_or_email_is_audited_with_the_address(client):
    user = make_user(email="ada@example.com")
    response = client.post(
        "/accounts/login/",
        {"login": user.username, "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor_id, event.ip) == (user.pk, "198.51.100.7")
    client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": "ADA@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_is_refused_and_audited(client):
    user = make_user()
    response = client.post(
        "/accounts/login/", {"login": user.username, "password": "nope"}, REMOTE_ADDR="192.0.2.1"
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert (event.ip, event.actor_id) == ("192.0.2.1", None)


def test_anonymous_pages_redirect_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_open_sign_up_sends_a_verification_link_that_verifies_the_address(client, settings):
    settings.ACCOUNT_SIGNUP_OPEN = True
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "username": "newcomer",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newcomer")
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified) == ("new@example.com", False)
    [message] = mail.outbox
    assert message.to == ["new@example.com"]
    confirm = _link(message, "/accounts/confirm-email/")
    assert client.post(confirm).status_code == 302
    address.refresh_from_db()
    assert address.verified is True


def test_closed_sign_up_refuses_new_accounts(client, settings):
    settings.ACCOUNT_SIGNUP_OPEN = False
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert "closed" in page.content.decode().lower()
    client.post(
        "/accounts/signup/",
        {
            "email": "x@example.com",
            "username": "intruder",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert not User.objects.filter(username="intruder").exists()


def test_password_reset_by_email_link(client):
    user = make_user(email="reset@example.com")
    response = client.post("/accounts/password/reset/", {"email": "reset@example.com"})
    assert response.status_code == 302
    [message] = mail.outbox
    link = _link(message, "/accounts/password/reset/key/")
    form_url = client.get(link)["Location"]
    response = client.post(
        form_url, {"password1": "another-passphrase-77", "password2": "another-passphrase-77"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-passphrase-77")


def test_mandatory_verification_blocks_sign_in_until_confirmed(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    user = make_user(email="late@example.com")
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert mail.outbox and mail.outbox[0].to == ["late@example.com"]


def test_email_url_parsing():
    smtp = email_settings("smtp://bot%40x.org:s%3Acret@mail.example.com")
    assert (smtp.host, smtp.port, smtp.user, smtp.password) == (
        "mail.example.com",
        587,
        "bot@x.org",
        "s:cret",
    )
    assert (smtp.use_tls, smtp.use_ssl) == (True, False)
    ssl = email_settings("smtp+ssl://mail.example.com")
    assert (ssl.port, ssl.use_tls, ssl.use_ssl) == (465, False, True)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_settings("http://mail.example.com")


PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'backend': settings.EMAIL_BACKEND,"
    "'host': getattr(settings, 'EMAIL_HOST', None), 'signup': settings.ACCOUNT_SIGNUP_OPEN,"
    "'ttl': settings.INVITE_TTL_HOURS}))"
)


def _settings(tmp_path, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EMAIL_", "ACCOUNT_", "INVITE_", "DATABASE_URL", "REDIS_URL"))
    }
    base.update(DJANGO_SETTINGS_MODULE="annotator.settings", ANNOTATOR_DATA_DIR=str(tmp_path))
    base.update(env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out


def test_email_goes_to_the_console_unless_smtp_is_configured(tmp_path):
    default = _settings(tmp_path)
    assert default.returncode == 0, default.stderr
    probe = json.loads(default.stdout)
    assert probe == {
        "backend": "django.core.mail.backends.console.EmailBackend",
        "host": "localhost",  # Django's default, unused by the console backend
        "signup": True,
        "ttl": 72,
    }
    smtp = json.loads(
        _settings(
            tmp_path, EMAIL_URL="smtp://u:p@mail.example.com:2525", ACCOUNT_SIGNUP_OPEN="0"
        ).stdout
    )
    assert smtp["backend"].endswith("smtp.EmailBackend") and smtp["host"] == "mail.example.com"
    assert smtp["signup"] is False
    host = json.loads(_settings(tmp_path, EMAIL_HOST="relay.example.com").stdout)
    assert host["host"] == "relay.example.com" and host["backend"].endswith("smtp.EmailBackend")
    bad = _settings(tmp_path, ACCOUNT_SIGNUP_OPEN="maybe")
    assert bad.returncode != 0 and "ACCOUNT_SIGNUP_OPEN" in bad.stderr
