"""The catalogue's rows outside the JSON API: headers on every page, hostile uploads served as
downloads, CSRF on session writes, sign-in throttling, mass assignment through forms, the
secret key and default credentials."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from annotator.models import User
from projects.models import Project
from tests.annotator.test_settings import _run
from tests.factories import add_member, make_project, make_user
from tests.security.catalogue import record

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


def _signed_in(user: User, **options) -> Client:
    client = Client(**options)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


# --- Content-Security-Policy on every page ----------------------------------------------------
PAGES = {
    "projects": "/",
    "project": "/projects/{p}/",
    "data-manager": "/projects/{p}/data/",
    "label": "/projects/{p}/label/",
    "learning": "/projects/{p}/learning/",
    "arbitration": "/projects/{p}/arbitration/",
    "invites": "/projects/{p}/invites/",
    "audit": "/projects/{p}/audit/",
    "tokens": "/account/tokens/",
    "password": "/accounts/password/change/",
    "admin": "/admin/",
    "api-docs": "/api/docs/",
    "api-json": "/api/projects",
    "sign-in": "/accounts/login/",
    "not-found": "/no-such-page/",
}


@pytest.mark.parametrize("path", PAGES.values(), ids=list(PAGES))
def test_every_page_has_an_enforcing_csp_without_inline_script(path):
    owner = make_user(is_staff=True, is_superuser=True)
    project = make_project(owner=owner)
    client = Client() if path == "/accounts/login/" else _signed_in(owner)
    response = client.get(path.format(p=project.pk))
    policy = response.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, _, value = part.partition(" ")
        directives[name] = value
    script = directives.get("script-src", directives.get("default-src", ""))
    ok = bool(script) and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    record(f"csp-{path}", accepted_wrongly=not ok)
    assert response.status_code < 500
    assert "Content-Security-Policy-Report-Only" not in response.headers
    assert ok, policy
    assert directives.get("object-src") == "'none'"
    assert directives.get("frame-ancestors") == "'none'"
    if response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        inline = re.findall(r"<script(?![^>]*\b(?:src|type=\"application/json\"))[^>]*>", html)
        handlers = re.findall(r"<[^>]+\son[a-z]+\s*=", html)
        assert not inline, inline
        assert not handlers, handlers


def test_swagger_ui_script_is_served_as_a_file():
    client = _signed_in(make_user())
    page = client.get("/api/docs/").content.decode()
    (src,) = re.findall(r'<script src="(/api/docs/\?script[^"]*)"', page)
    script = client.get(src.replace("&amp;", "&"))
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


# --- uploaded files served as downloads -------------------------------------------------------
SERVED = {
    "html": ("page.html", b"<script>alert(1)</script>", "attachment"),
    "svg": (
        "pic.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "attachment",
    ),
    "xml": ("feed.xml", b"<x/>", "attachment"),
    "js": ("app.js", b"alert(1)", "attachment"),
    "no-extension": ("blob", b"<script>alert(1)</script>", "attachment"),
    "png": ("photo.png", b"\x89PNG\r\n\x1a\n", None),
}


@pytest.mark.parametrize("name,content,disposition", SERVED.values(), ids=list(SERVED))
def test_media_is_served_with_nosniff_and_scripts_as_downloads(
    name, content, disposition, media_root
):
    owner = make_user()
    project = make_project(owner=owner)
    folder = media_root / "projects" / str(project.pk) / "media"
    folder.mkdir(parents=True)
    (folder / f"0a1b2c3d-{name}").write_bytes(content)
    response = _signed_in(owner).get(f"/media/projects/{project.pk}/media/0a1b2c3d-{name}")
    inline = disposition is None
    wrong = response.get("X-Content-Type-Options") != "nosniff" or (
        not inline and not response.get("Content-Disposition", "").startswith("attachment")
    )
    record(f"served-{name}", accepted_wrongly=wrong)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    if inline:
        assert not response.get("Content-Disposition", "inline").startswith("attachment")
    else:
        assert response["Content-Disposition"].startswith("attachment")


# --- CSRF on session writes ---------------------------------------------------------------------
CSRF_WRITES = {
    "api-create-project": ("/api/projects", {"title": "csrf"}, "application/json"),
    "api-import": ("/api/projects/{p}/import", [{"text": "csrf"}], "application/json"),
    "page-invite": ("/projects/{p}/invites/", {"email": "x@example.com"}, None),
    "password-change": ("/accounts/password/change/", {"oldpassword": "x"}, None),
}


@pytest.mark.parametrize("path,body,content_type", CSRF_WRITES.values(), ids=list(CSRF_WRITES))
def test_session_writes_without_csrf_token_are_refused(path, body, content_type):
    owner = make_user()
    project = make_project(owner=owner)
    client = _signed_in(owner, enforce_csrf_checks=True)
    counts = (Project.objects.count(), project.tasks.count())
    url = path.format(p=project.pk)
    if content_type:
        import json

        response = client.post(url, json.dumps(body), content_type=content_type)
    else:
        response = client.post(url, body)
    stored = (Project.objects.count(), project.tasks.count()) != counts
    record(f"csrf-{path}", accepted_wrongly=response.status_code != 403 or stored)
    assert response.status_code == 403
    assert not stored


# --- brute-force sign-in -----------------------------------------------------------------------
@pytest.mark.parametrize("login_path", ["/accounts/login/", "/admin/login/"])
def test_repeated_failed_sign_ins_are_throttled(login_path):
    user = make_user(is_staff=True)
    client = Client()
    url = login_path
    if login_path == "/admin/login/":
        # The admin's own form would check passwords without the throttle: it sends people
        # to the one sign-in page.
        response = client.get(url)
        assert response.status_code == 302
        url = response["Location"].split("?")[0]
    for _ in range(5):
        client.post(url, {"login": user.username, "password": "wrong"})
    response = client.post(url, {"login": user.username, "password": "pw-for-tests-only"})
    signed_in = "_auth_user_id" in client.session
    record(f"brute-force-{login_path}", accepted_wrongly=signed_in)
    assert not signed_in, "the sixth try in five minutes still checked the password"
    assert response.status_code in (200, 429)


def test_a_signed_in_non_staff_user_gets_403_from_the_admin_not_a_redirect_loop():
    client = _signed_in(make_user())
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]


# --- mass assignment through forms -------------------------------------------------------------
def test_signup_cannot_make_a_superuser():
    response = Client().post(
        "/accounts/signup/",
        {
            "email": "mallory@example.com",
            "username": "mallory",
            "password1": "a-long-Passphrase-42",
            "password2": "a-long-Passphrase-42",
            "is_superuser": "on",
            "is_staff": "on",
        },
    )
    user = User.objects.get(username="mallory")
    wrong = user.is_superuser or user.is_staff
    record("signup-is-superuser", accepted_wrongly=wrong)
    assert response.status_code == 302
    assert not wrong


def test_members_api_cannot_grant_a_role_above_the_callers():
    from tests.api_helpers import api

    owner, annotator = make_user(), make_user()
    project = make_project(owner=owner)
    add_member(project, annotator, "annotator")
    response = api(annotator).patch(
        f"/api/projects/{project.pk}", {"title": "mine now"}, format="json"
    )
    project.refresh_from_db()
    record("annotator-edits-project", accepted_wrongly=project.title == "mine now")
    assert response.status_code in (403, 404)
    assert project.title != "mine now"


# --- secret key and default credentials --------------------------------------------------------
SECRET_KEYS = {
    "missing-with-database": {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"},
    "django-insecure": {"SECRET_KEY": "django-insecure-" + "x" * 50},
    "short": {"SECRET_KEY": "s3cr3t"},
    "placeholder": {"SECRET_KEY": "change-me-" + "x" * 50},
}


@pytest.mark.parametrize("env", SECRET_KEYS.values(), ids=list(SECRET_KEYS))
def test_production_refuses_to_start_with_a_missing_or_default_secret_key(env, tmp_path):
    out = _run(tmp_path, **env)
    record(f"secret-key-{next(iter(env.values()))[:20]}", accepted_wrongly=out.returncode == 0)
    assert out.returncode != 0
    assert "SECRET_KEY" in out.stderr


# A user made with a password written in the code, or a well-known pair in config.
_FIXED_PASSWORD = re.compile(
    r"(create_superuser|create_user|set_password)\([^)]*[\"'][^\"']{1,40}[\"']\s*\)"
    r"|password\s*=\s*[\"'](?!pw-for-tests-only)[^\"'{$]+[\"']"
    r"|\b(admin|root):(admin|root|password|changeme)@",
    re.IGNORECASE,
)


def test_no_default_credentials_in_the_shipped_code_and_config():
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    shipped = [
        f
        for f in files
        if not f.startswith(("tests/", "bench/", "docs/"))
        and f.endswith((".py", ".yml", ".yaml", ".toml", ".cfg", "Dockerfile", ".sh", ".ini"))
    ]
    found = [
        f"{name}: {match.group(0)}"
        for name in shipped
        for match in _FIXED_PASSWORD.finditer((REPO / name).read_text(errors="replace"))
    ]
    record("default-credentials", accepted_wrongly=bool(found))
    assert not found
