from __future__ import annotations

import pytest

from mlserve.models import MLBackend
from tests.api_helpers import api
from tests.factories import add_member, make_project, make_user

pytestmark = pytest.mark.django_db


def test_loopback_backend_url_is_refused_by_default():
    project = make_project()
    response = api(project.created_by).post(
        "/api/ml", {"project": project.pk, "url": "http://127.0.0.1:9090"}, format="json"
    )
    assert response.status_code == 400
    assert "loopback" in response.json()["validation_errors"]["url"][0]
    assert not MLBackend.objects.exists()


def test_metadata_address_is_refused_even_when_spelled_in_decimal():
    project = make_project()
    response = api(project.created_by).post(
        "/api/ml/", {"project": project.pk, "url": "http://2852039166/latest"}, format="json"
    )
    assert response.status_code == 400


def test_admin_can_allow_a_backend_on_the_same_host(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True
    project = make_project()
    client = api(project.created_by)
    created = client.post(
        "/api/ml",
        {
            "project": project.pk,
            "url": "http://127.0.0.1:9090",
            "title": "local",
            "basic_auth_pass": "s3",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    # Nothing listens there: the health check on connect says so.
    assert body["state"] == "ER"
    assert "/health failed" in body["error_message"]
    assert "basic_auth_pass" not in body
    listed = client.get(f"/api/ml?project={project.pk}").json()
    assert [b["title"] for b in listed] == ["local"]
    patched = client.patch(f"/api/ml/{body['id']}", {"title": "renamed"}, format="json")
    assert patched.json()["title"] == "renamed"
    assert client.delete(f"/api/ml/{body['id']}").status_code == 204


def test_annotator_cannot_add_a_backend(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True
    project = make_project()
    annotator = make_user()
    add_member(project, annotator)
    response = api(annotator).post(
        "/api/ml", {"project": project.pk, "url": "http://127.0.0.1:9"}, format="json"
    )
    assert response.status_code == 403


def test_webhooks_follow_the_same_url_rules_and_roles(settings):
    project = make_project()
    client = api(project.created_by)
    refused = client.post(
        "/api/webhooks", {"project": project.pk, "url": "http://169.254.169.254/"}, format="json"
    )
    assert refused.status_code == 400
    assert "url" in refused.json()["validation_errors"]
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True
    created = client.post(
        "/api/webhooks/",
        {
            "project": project.pk,
            "url": "http://127.0.0.1:8081/hook",
            "actions": ["ANNOTATION_CREATED"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    hook = created.json()
    assert client.get(f"/api/webhooks?project={project.pk}").json()[0]["id"] == hook["id"]
    annotator = make_user()
    add_member(project, annotator)
    assert api(annotator).get(f"/api/webhooks/{hook['id']}").status_code == 404
    bad_action = client.post(
        "/api/webhooks",
        {"project": project.pk, "url": "http://127.0.0.1/", "actions": ["NOPE"]},
        format="json",
    )
    assert bad_action.status_code == 400
    assert "ANNOTATION_CREATED" in client.get("/api/webhooks/info").json()
